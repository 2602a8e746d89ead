//! The month's sample and the review loop between the township and a phone, against a real
//! server on 127.0.0.1: the phone marks exactly the households the server sampled; a reviewer's
//! 有问题 reaches the inspector as a task with the next sync; the correction goes back as a new
//! version that supersedes the original, resolves the review and replaces the original in the
//! ranking.

use std::collections::BTreeSet;
use std::sync::Arc;

use cunjie_device::{Device, DeviceOptions};
use cunjie_domain::clock::FakeClock;
use cunjie_domain::ids::InspectionId;
use cunjie_domain::person::Role;
use cunjie_e2e::phone::fast_config;
use cunjie_e2e::server::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_and_a_sent_back_inspection_travel_between_office_and_phone() {
    let server = TestServer::start(1, 2, 30);
    // 2026-11-18 09:00 China time.
    let clock = Arc::new(FakeClock::at(2026, 11, 18, 1, 0, 0));
    let dir = tempfile::tempdir().expect("dir");
    let phone = Device::open(
        dir.path(),
        DeviceOptions {
            clock: clock.clone(),
            sync: fast_config(),
        },
    )
    .expect("opens");
    let who = server.demo.inspector(0);
    // The office draws November's sample before the phone enrolls.
    let sample: BTreeSet<String> = server
        .office
        .sample("2026-11")
        .expect("sample")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(sample.len(), 6, "20 % of 30 households");
    phone
        .enroll(
            &server.url,
            &server.code(who.id, Role::Inspector),
            "红米 12C",
        )
        .await
        .expect("enrolls");
    let list = phone.households(None, None, 100).expect("households");
    assert_eq!(
        list.iter().filter(|h| h.kind == "household").count(),
        30,
        "the village's households (and its businesses, never sampled)"
    );
    let marked: BTreeSet<String> = list
        .iter()
        .filter(|h| h.sampled_this_month)
        .map(|h| h.id.clone())
        .collect();
    assert_eq!(
        marked, sample,
        "the phone marks exactly the households the server sampled"
    );

    // An inspection of a sampled household with a failure the reviewer will query.
    let target = list
        .iter()
        .find(|h| h.sampled_this_month)
        .expect("a sampled household");
    let view = phone.start_inspection(&target.id, None).expect("starts");
    let id = view.id.clone();
    for item in &view.items {
        phone
            .answer_item(&id, &item.code, "pass", 1, None)
            .expect("pass");
    }
    // A failure that needs no photo is not in this template, so the finding is a weed patch
    // with its photo.
    let fail = "HH_WEEDS";
    phone
        .answer_item(&id, fail, "fail", 1, Some("门前杂草".into()))
        .expect("fail");
    phone
        .attach_item_photo(
            &id,
            fail,
            &cunjie_e2e::evidence::render_camera_jpeg(3, 1200, 900),
            None,
        )
        .expect("photo");
    phone.submit_inspection(&id).expect("submits");
    phone.sync_now().await.expect("syncs");
    assert!(
        phone.review_tasks().expect("tasks").is_empty(),
        "nothing sent back yet"
    );

    // The reviewer marks it 有问题.
    let original: InspectionId = id.parse().expect("id");
    let review = server
        .office
        .mark_review(
            original,
            None,
            "杂草在公路边，不属于该户，请核实后更正",
            "admin",
        )
        .expect("marked");
    phone.sync_now().await.expect("syncs");
    let tasks = phone.review_tasks().expect("tasks");
    assert_eq!(tasks.len(), 1, "the phone got one task: {tasks:?}");
    assert_eq!(tasks[0].inspection_id, id, "about the inspection");
    assert!(
        tasks[0].comment.contains("核实"),
        "with the reviewer's words"
    );
    assert_eq!(tasks[0].correction_id, None, "not started");

    // A wrong id is refused; the correction starts with the original's answers.
    let err = phone
        .start_correction("not-an-id")
        .expect_err("a bad id is refused");
    assert_eq!(err.code(), "not_found", "{err:?}");
    let draft = phone.start_correction(&id).expect("correction");
    assert_ne!(draft.id, id, "a new version, not an edit of the original");
    let weeds = draft
        .items
        .iter()
        .find(|i| i.code == fail)
        .expect("the item");
    assert_eq!(weeds.outcome.as_deref(), Some("fail"), "answers copied");
    assert_eq!(
        phone.start_correction(&id).expect("resumed").id,
        draft.id,
        "asking again resumes the same draft"
    );
    assert_eq!(
        phone.review_tasks().expect("tasks")[0]
            .correction_id
            .as_deref(),
        Some(draft.id.as_str()),
        "the task shows the correction in progress"
    );
    assert_ne!(
        phone
            .start_inspection(&target.id, None)
            .expect("a visit")
            .id,
        draft.id,
        "a new visit to the household is not the correction in progress"
    );
    phone
        .answer_item(&draft.id, fail, "pass", 1, None)
        .expect("corrected");
    phone.submit_inspection(&draft.id).expect("submits");
    assert!(
        phone.review_tasks().expect("tasks").is_empty(),
        "a corrected inspection is no longer a task"
    );
    phone.sync_now().await.expect("syncs");

    // On the server: the review is resolved by the correction, and the ranking counts the
    // corrected version only.
    let reviews = server.office.reviews(Some(&id)).expect("reviews");
    assert_eq!(reviews.len(), 1, "one review");
    assert_eq!(reviews[0].id, review.id);
    assert_eq!(
        reviews[0].resolved_by.as_deref(),
        Some(draft.id.as_str()),
        "resolved by the correction"
    );
    let ranking = server
        .office
        .ranking("2026-11", Some("COUNTY_HALFYEAR_100"))
        .expect("ranking");
    let row = &ranking.rows[0];
    assert_eq!(
        (row.counted, row.ad_hoc),
        (1, 0),
        "one sampled inspection counts, the superseded one is gone"
    );
    assert_eq!(
        row.checks,
        vec![cunjie_domain::Amount::whole(100)],
        "the corrected version passed everything"
    );
}
