//! The phone as the app uses it (`cunjie_device::Device`, what every Tauri command calls),
//! against a real server on 127.0.0.1: enroll, an inspection with a failed item and its photo,
//! a rectification, a cleaner's round with a checkpoint photo and a problem, offline work,
//! a restart, and everything on the server exactly once.

use std::sync::Arc;

use cunjie_device::api::Position;
use cunjie_device::{Device, DeviceOptions};
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::person::Role;
use cunjie_e2e::evidence::render_camera_jpeg;
use cunjie_e2e::phone::fast_config;
use cunjie_e2e::server::TestServer;

fn options(clock: &Arc<FakeClock>) -> DeviceOptions {
    DeviceOptions {
        clock: clock.clone(),
        sync: fast_config(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_and_a_cleaner_work_through_the_device_api() {
    let server = TestServer::start(1, 2, 6);
    let clock = Arc::new(FakeClock::at(2026, 11, 18, 1, 0, 0));
    let inspector_dir = tempfile::tempdir().expect("dir");
    let phone = Device::open(inspector_dir.path(), options(&clock)).expect("opens");
    let before = phone.status().expect("status");
    assert!(!before.enrolled, "a new phone is not enrolled");
    let err = phone
        .households(None, None, 10)
        .map(|_| ())
        .and_then(|()| phone.start_inspection("not-an-id", None).map(|_| ()));
    assert_eq!(
        err.expect_err("nothing to inspect before enrollment")
            .code(),
        "not_enrolled",
        "a clear code"
    );
    let bad = phone
        .enroll(&server.url, "WRONG-CODE", "红米 12C")
        .await
        .expect_err("a wrong code");
    assert_eq!(bad.code(), "enrollment_invalid", "{bad:?}");
    assert!(bad.message_zh().contains("登记码"), "{}", bad.message_zh());

    let who = server.demo.inspector(0);
    let status = phone
        .enroll(
            &server.url,
            &server.code(who.id, Role::Inspector),
            "红米 12C",
        )
        .await
        .expect("enrolls");
    assert!(status.enrolled, "enrolled");
    assert_eq!(
        status.person_name.as_deref(),
        Some(who.name.as_str()),
        "as the inspector"
    );

    // The inspector's households, nearest first from a fix near the first one.
    let list = phone.households(None, None, 50).expect("households");
    assert!(
        !list.is_empty(),
        "the village's households are on the phone"
    );
    let first = server
        .demo
        .households
        .iter()
        .find(|h| h.id.to_string() == list[0].id)
        .expect("a demo household");
    let at = first.location.expect("located");
    let here = Position {
        lat: at.lat,
        lon: at.lon,
        accuracy_m: 8.0,
    };
    let near = phone.households(None, Some(here), 5).expect("near");
    assert_eq!(near[0].id, first.id.to_string(), "nearest first");
    assert_eq!(near[0].distance_m, Some(0.0), "with its distance");
    let by_plate = phone
        .household_by_plate(&first.door_plate)
        .expect("door plate");
    assert_eq!(by_plate.id, first.id.to_string(), "found by its door plate");

    // The checklist: everything passes but one failure with a photo and a count.
    let view = phone
        .start_inspection(&by_plate.id, Some(here))
        .expect("starts");
    assert!(
        view.items.iter().all(|i| i.outcome.is_none()),
        "nothing answered yet"
    );
    let id = view.id.clone();
    assert_eq!(
        phone.open_inspections().expect("drafts").len(),
        1,
        "an inspection in progress is listed for resuming"
    );
    for item in &view.items {
        phone
            .answer_item(&id, &item.code, "pass", 1, None)
            .expect("pass");
    }
    let fail = "HH_WHITE_LITTER";
    let v = phone
        .answer_item(&id, fail, "fail", 2, Some("塑料袋散落".into()))
        .expect("fail");
    assert!(
        v.issues
            .iter()
            .any(|i| i.blocking && i.item_code.as_deref() == Some(fail)),
        "a failure without its photo blocks submission: {:?}",
        v.issues
    );
    let err = phone.submit_inspection(&id).expect_err("photo missing");
    assert_eq!(err.code(), "not_submittable", "{err:?}");
    let err = phone
        .attach_item_photo(&id, fail, b"not a jpeg", Some(here))
        .expect_err("not a photo");
    assert_eq!(err.code(), "not_an_image", "{err:?}");
    let v = phone
        .attach_item_photo(&id, fail, &render_camera_jpeg(1, 1200, 900), Some(here))
        .expect("photo");
    let item = v.items.iter().find(|i| i.code == fail).expect("item");
    assert_eq!(
        (item.outcome.as_deref(), item.count, item.photos.len()),
        (Some("fail"), 2, 1),
        "the failure keeps its count and gets its photo"
    );
    assert_ne!(v.score, v.full, "the running score shows the deduction");
    let done = phone.submit_inspection(&id).expect("submits");
    assert!(done.submitted, "submitted");
    assert!(
        phone.open_inspections().expect("drafts").is_empty(),
        "a submitted inspection is no longer in progress"
    );
    let order = phone
        .issue_rectification(
            &id,
            fail,
            clock.now().date_naive() + chrono::Duration::days(7),
        )
        .expect("rectification");
    assert_eq!(order.state, "open", "an open order");
    assert_eq!(order.before_photos, item.photos, "with the failure's photo");
    assert!(
        phone
            .photo_thumbnail(&item.photos[0])
            .expect("thumbnail")
            .starts_with("data:image/jpeg;base64,"),
        "a thumbnail for the screen"
    );

    // A cleaner's round with a checkpoint photo and a reported problem.
    let zone = &server.demo.zones[0];
    let cleaner = server.demo.cleaner(zone.id);
    let cleaner_dir = tempfile::tempdir().expect("dir");
    let broom = Device::open(cleaner_dir.path(), options(&clock)).expect("opens");
    broom
        .enroll(
            &server.url,
            &server.code(cleaner.id, Role::Cleaner),
            "荣耀 X50",
        )
        .await
        .expect("enrolls");
    let zones = broom.my_zones().expect("zones");
    let z = zones
        .iter()
        .find(|z| z.id == zone.id.to_string())
        .expect("my zone");
    assert!(!z.checkpoints.is_empty(), "its checkpoints by 统一编号");
    let round = broom.start_round(&z.id, false).expect("starts");
    let cunjie_domain::place::ZoneGeometry::Line(path) = &zone.geometry else {
        panic!("demo zones are roads")
    };
    for p in path {
        clock.advance_ms(60_000);
        broom
            .record_position(
                &round.id,
                Position {
                    lat: p.lat,
                    lon: p.lon,
                    accuracy_m: 6.0,
                },
            )
            .expect("trace");
    }
    let cp = &z.checkpoints[0];
    let r = broom
        .record_checkpoint(
            &round.id,
            &cp.facility_id,
            "cleared",
            Some(&render_camera_jpeg(2, 1000, 750)),
            None,
        )
        .expect("checkpoint");
    assert_eq!(
        r.checkpoints[0].state.as_deref(),
        Some("cleared"),
        "recorded"
    );
    let kinds = broom.problem_kinds();
    let r = broom
        .report_problem(
            &round.id,
            &kinds[0].code,
            Some("路边有垃圾".into()),
            &render_camera_jpeg(3, 1000, 750),
            None,
        )
        .expect("problem");
    assert_eq!(r.problems.len(), 1, "reported");
    // The app is killed mid-round and opened again: the round is still there.
    drop(broom);
    let broom = Device::open(cleaner_dir.path(), options(&clock)).expect("reopens");
    let open = broom.open_rounds().expect("open rounds");
    assert_eq!(open.len(), 1, "the round survived");
    assert!(
        open[0].coverage_pct > 50,
        "the trace covers the road: {}",
        open[0].coverage_pct
    );
    let finished = broom.finish_round(&round.id).expect("finishes");
    assert!(finished.submitted, "submitted");

    // Both sync; everything arrives once, photos included.
    let b1 = phone.sync_now().await.expect("sync");
    let b2 = broom.sync_now().await.expect("sync");
    for b in [&b1, &b2] {
        assert_eq!(
            (
                b.pending_records,
                b.pending_photos,
                b.last_error_zh.as_deref()
            ),
            (0, 0, None),
            "all sent: {b:?}"
        );
    }
    let counts = server.office.counts().expect("counts");
    assert_eq!(counts.facts, 2, "one inspection and one round");
    assert_eq!(counts.rectifications, 1, "one order");
    let evidence = server
        .office
        .evidence(&id)
        .expect("evidence")
        .expect("the inspection is on the server");
    assert_eq!(evidence["photos_pending"], 0, "its photo arrived");
    assert_eq!(
        evidence["photos"][0]["verification"]["signature_ok"], true,
        "signed by the phone"
    );
    let history = phone.history().expect("history");
    assert!(
        history.iter().all(|h| h.state == "synced"),
        "history shows it synced: {history:?}"
    );
    let after = broom.sign_out().expect("signs out when all is sent");
    assert!(!after.enrolled, "signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_refuses_while_work_is_unsynced_and_offline_work_survives_a_restart() {
    let server = TestServer::start(1, 1, 4);
    let clock = Arc::new(FakeClock::at(2026, 11, 18, 1, 0, 0));
    let dir = tempfile::tempdir().expect("dir");
    let phone = Device::open(dir.path(), options(&clock)).expect("opens");
    phone
        .enroll(
            &server.url,
            &server.code(server.demo.inspector(0).id, Role::Inspector),
            "phone",
        )
        .await
        .expect("enrolls");
    let hh = phone.households(None, None, 1).expect("list").remove(0);
    let v = phone.start_inspection(&hh.id, None).expect("starts");
    for item in &v.items {
        phone
            .answer_item(&v.id, &item.code, "pass", 1, None)
            .expect("pass");
    }
    phone.submit_inspection(&v.id).expect("submits offline");
    let err = phone.sign_out().expect_err("unsynced");
    assert_eq!(err.code(), "unsynced_data", "{err:?}");
    assert!(err.message_zh().contains("先同步"), "{}", err.message_zh());
    // The server goes away; the phone restarts; the work is still there and goes later.
    drop(phone);
    let phone = Device::open(dir.path(), options(&clock)).expect("reopens");
    assert_eq!(
        phone.status().expect("status").sync.pending_records,
        1,
        "kept"
    );
    let badge = phone.sync_now().await.expect("sync");
    assert_eq!(badge.pending_records, 0, "sent after the restart");
    assert_eq!(server.office.counts().expect("counts").facts, 1, "once");
}

/// 门前三包 binds street-front shops and units too (domain.md §2, 000:657): the inspector's list
/// has the village's businesses beside its households, and a business is inspected against its
/// own checklist and arrives on the server like a household visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_finds_and_inspects_a_street_shop() {
    let server = TestServer::start(2, 2, 6);
    let clock = Arc::new(FakeClock::at(2026, 11, 18, 1, 0, 0));
    let dir = tempfile::tempdir().expect("dir");
    let phone = Device::open(dir.path(), options(&clock)).expect("opens");
    let who = server.demo.inspector(0);
    phone
        .enroll(
            &server.url,
            &server.code(who.id, Role::Inspector),
            "红米 12C",
        )
        .await
        .expect("enrolls");

    let mine: Vec<_> = server
        .demo
        .businesses
        .iter()
        .filter(|b| b.village == server.demo.villages[0].id)
        .collect();
    assert_eq!(mine.len(), 3, "the demo has three businesses per village");
    let list = phone.households(None, None, 500).expect("list");
    let shops: Vec<_> = list.iter().filter(|h| h.kind == "business").collect();
    assert_eq!(
        shops.len(),
        mine.len(),
        "my village's businesses and not the other village's: {shops:?}"
    );
    assert!(
        shops
            .iter()
            .all(|s| s.group_name == "经营户" && s.business_type_zh.is_some()),
        "under their own group, with their type: {shops:?}"
    );
    assert_eq!(
        list.iter().filter(|h| h.kind == "household").count(),
        6,
        "beside the village's households"
    );

    let shop = mine[0];
    let found = phone.households(Some("超市"), None, 50).expect("search");
    assert_eq!(
        found.iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
        vec![shop.id.to_string()],
        "found by its trading name"
    );
    let at = shop.location.expect("located");
    let here = Position {
        lat: at.lat,
        lon: at.lon,
        accuracy_m: 8.0,
    };
    let near = phone.households(None, Some(here), 3).expect("near");
    assert_eq!(
        (near[0].id.as_str(), near[0].distance_m),
        (shop.id.to_string().as_str(), Some(0.0)),
        "nearest first, households and businesses together"
    );
    let eatery = &mine[1];
    let by_plate = phone.household_by_plate(&eatery.door_plate).expect("plate");
    assert_eq!(by_plate.id, eatery.id.to_string(), "a typed door plate");
    let by_qr = phone
        .household_by_plate(&format!("cunjie://business/{}", shop.id))
        .expect("QR");
    assert_eq!(by_qr.id, shop.id.to_string(), "a door-plate QR");

    let view = phone
        .start_inspection(&by_qr.id, Some(here))
        .expect("starts");
    assert_eq!(
        (
            view.template_name.as_str(),
            view.unit.as_str(),
            view.items.len()
        ),
        ("经营户门前三包检查", "points", 4),
        "the business checklist"
    );
    assert!(
        view.subject_label.contains(&shop.name),
        "{}",
        view.subject_label
    );
    for item in &view.items {
        phone
            .answer_item(&view.id, &item.code, "pass", 1, None)
            .expect("pass");
    }
    phone
        .answer_item(&view.id, "LWB6", "fail", 1, Some("门口摆摊占道".into()))
        .expect("fail");
    let v = phone
        .attach_item_photo(
            &view.id,
            "LWB6",
            &render_camera_jpeg(7, 1200, 900),
            Some(here),
        )
        .expect("photo");
    assert_eq!(
        (v.score.as_str(), v.deductions.len()),
        ("80.00", 1),
        "占道经营 costs 20 of 100 points"
    );
    assert_eq!(v.deductions[0].label_en, "No trading on the road", "{v:?}");
    phone.submit_inspection(&view.id).expect("submits");
    let again = phone.households(Some("超市"), None, 50).expect("search");
    assert!(again[0].inspected_this_month, "marked inspected");

    let badge = phone.sync_now().await.expect("sync");
    assert_eq!(
        (
            badge.pending_records,
            badge.pending_photos,
            badge.last_error_zh
        ),
        (0, 0, None),
        "all sent"
    );
    let evidence = server
        .office
        .evidence(&view.id)
        .expect("evidence")
        .expect("the business inspection is on the server");
    assert_eq!(evidence["photos_pending"], 0, "its photo arrived");
    let history = phone.history().expect("history");
    assert_eq!(
        history.iter().map(|h| h.state.as_str()).collect::<Vec<_>>(),
        vec!["synced"],
        "accepted by the server, not rejected: {history:?}"
    );
}
