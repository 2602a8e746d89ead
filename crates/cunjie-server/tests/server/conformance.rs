//! The conformance suite: every scenario runs on SQLite and on a real PostgreSQL.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{FactStatus, GeoFix, Inspection, ItemResult, PhotoHash, Subject};
use cunjie_domain::ids::{AssignmentId, InspectionId};
use cunjie_domain::person::{Assignment, AssignmentTarget, Role};
use cunjie_domain::place::GeoPoint;
use cunjie_domain::template::presets;
use cunjie_protocol::v1::{EntityKind, Op, PullPage, PushResponse, ScopeList, codes};
use cunjie_server::Db;
use serde_json::json;

use crate::harness::{Harness, Phone};
pub(crate) use crate::photos::{
    a_broken_connection_keeps_or_discards_its_bytes,
    a_partial_file_longer_than_its_offset_is_cut_back, a_photo_over_8_mib_goes_in_one_patch,
    a_photo_uploads_in_checksummed_chunks_over_http, a_stalled_request_does_not_block_the_next_one,
    a_tampered_file_is_discarded_and_nothing_stored, expired_uploads_are_gone_and_swept,
    photo_attestations_apply_once_and_bad_ones_are_rejected,
    photos_are_verified_against_exif_time_and_the_subjects_place,
    uploads_need_an_attestation_from_this_device,
};
pub(crate) use crate::scoring::{
    a_fixture_month_reproduces_hand_computed_ranks,
    an_upheld_appeal_recomputes_under_the_published_version,
};

fn photo(n: u8) -> PhotoHash {
    format!("{n:02x}").repeat(32).parse().expect("hex")
}

/// A submitted household inspection of household `n` of village 0, captured at `at`.
pub(crate) fn inspection(h: &Harness, phone: &Phone, n: usize, at: DateTime<Utc>) -> Inspection {
    let t = presets::household_sanbao();
    let hh = &h.demo.households[n];
    let subject = Subject {
        kind: SubjectKind::Household,
        id: *hh.id.as_uuid(),
    };
    let mut insp = Inspection::start(
        h.new_id(),
        t.reference(),
        subject,
        hh.village,
        phone.person,
        phone.id,
        at,
    );
    insp.submitted_at = Some(at + Duration::minutes(6));
    insp.status = FactStatus::Submitted;
    insp.fix = hh.location.map(|point| GeoFix {
        point,
        accuracy_m: 7.0,
        fix_time: Some(at),
        mock: false,
    });
    insp.pass_remaining(&t);
    insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo(1)]));
    insp
}

pub(crate) fn submit(insp: &Inspection) -> (Op, Option<u64>) {
    (
        Op::SubmitInspection {
            inspection: Box::new(insp.clone()),
        },
        None,
    )
}

pub(crate) fn results(body: &serde_json::Value) -> PushResponse {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("a push response: {e}: {body}"))
}

pub(crate) async fn enrollment_codes_are_one_time_and_expire(db: Db) {
    let h = Harness::new(db);
    let inspector = h.demo.inspector(0).clone();
    let code = h
        .office
        .enrollment_code(inspector.id, Role::Inspector, 7)
        .expect("code");
    let body = |code: &str, n: u128| json!({"code": code.to_lowercase(), "device_id": uuid::Uuid::from_u128(n), "device_name": "phone"});
    let (s, _) = h
        .call("POST", "/api/v1/enroll", None, Some(body(&code, 1)))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a fresh code enrolls (typed in lower case)"
    );
    let (s, b) = h
        .call("POST", "/api/v1/enroll", None, Some(body(&code, 2)))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some(codes::ENROLLMENT_INVALID)),
        "a used code is refused to another device: {b}"
    );
    let (s, b) = h
        .call("POST", "/api/v1/enroll", None, Some(body(&code, 1)))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the same device retrying after a lost answer gets a fresh token: {b}"
    );
    let token = b["token"].as_str().expect("token").to_owned();
    let (s, _) = h
        .call("GET", "/api/v1/sync/scopes", Some(&token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "and the fresh token works");
    h.clock.advance_ms(2 * 3_600_000);
    let (s, _) = h
        .call("POST", "/api/v1/enroll", None, Some(body(&code, 1)))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "but not hours later");
    let late = h
        .office
        .enrollment_code(inspector.id, Role::Inspector, 1)
        .expect("code");
    h.clock.advance_ms(2 * 86_400_000);
    let (s, _) = h
        .call("POST", "/api/v1/enroll", None, Some(body(&late, 3)))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an expired code is refused");
    let (s, b) = h
        .call("POST", "/api/v1/enroll", None, Some(json!({"code": 12})))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some(codes::BAD_REQUEST)),
        "malformed JSON gets a stable code: {b}"
    );
    let err = h
        .office
        .enrollment_code(inspector.id, Role::Cleaner, 7)
        .expect_err("the inspector is no cleaner");
    assert!(err.to_string().contains("does not hold the role"), "{err}");
}

pub(crate) async fn a_retried_push_has_exactly_one_effect(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let insp = inspection(&h, &phone, 0, h.now());
    let req = h.mutations(&mut phone, vec![submit(&insp)]);
    let (s, first) = h.push(&phone, &req).await;
    assert_eq!(s, StatusCode::OK, "push accepted: {first}");
    // The response was lost on a 2G link; the phone sends the very same batch again.
    let (s, again) = h.push(&phone, &req).await;
    assert_eq!(s, StatusCode::OK, "retry accepted");
    assert_eq!(
        results(&first).results,
        results(&again).results,
        "the retry is answered from the receipt"
    );
    let counts = h.office.counts().expect("counts");
    assert_eq!(
        (counts.facts, counts.receipts),
        (1, 1),
        "one fact, one receipt"
    );
    let (_, row) = &h.office.fact_rows().expect("rows")[0];
    assert_eq!(row["id"], insp.id.to_string(), "the fact is the inspection");
    assert!(
        row["server_received_at"].is_string(),
        "the server stamps its receive time"
    );
    assert_eq!(
        row["started_at"],
        serde_json::to_value(insp.started_at).expect("json"),
        "device time kept"
    );
}

pub(crate) async fn a_gap_is_refused_and_old_seqs_answer_from_receipts(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let a = inspection(&h, &phone, 0, h.now());
    let b = inspection(&h, &phone, 2, h.now());
    let c = inspection(&h, &phone, 4, h.now());
    let first = h.mutations(&mut phone, vec![submit(&a)]);
    let rest = h.mutations(&mut phone, vec![submit(&b), submit(&c)]);
    let gap = cunjie_protocol::v1::PushRequest {
        mutations: vec![rest.mutations[1].clone()],
        sent_at: None,
    };
    let (s, body) = h.push(&phone, &gap).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some(codes::SEQ_GAP)),
        "seq 3 before 1 is a gap: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expected 1")),
        "says where to restart: {body}"
    );
    assert_eq!(
        h.office.counts().expect("counts").facts,
        0,
        "nothing applied from a refused batch"
    );
    h.push(&phone, &first).await;
    let mut overlap = first.clone();
    overlap.mutations.extend(rest.mutations);
    let (s, body) = h.push(&phone, &overlap).await;
    assert_eq!(s, StatusCode::OK, "an overlapping batch is fine: {body}");
    let r = results(&body);
    assert_eq!(
        (r.acked_through, r.results.len()),
        (3, 3),
        "all three settled"
    );
    assert_eq!(
        h.office.counts().expect("counts").facts,
        3,
        "three facts, none twice"
    );
}

pub(crate) async fn bad_mutations_are_rejected_without_blocking_the_queue(db: Db) {
    let h = Harness::new(db);
    let zone = h.demo.zones[0].id;
    let mut cleaner = h.enroll(h.demo.cleaner(zone).id, Role::Cleaner).await;
    let mut inspector = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    // A cleaner cannot submit an inspection.
    let mut by_cleaner = inspection(&h, &inspector, 0, h.now());
    by_cleaner.inspector = cleaner.person;
    by_cleaner.device = cleaner.id;
    let req = h.mutations(&mut cleaner, vec![submit(&by_cleaner)]);
    let (_, body) = h.push(&cleaner, &req).await;
    let r = results(&body);
    assert_eq!(
        r.acked_through, 1,
        "the rejected mutation still advances last_seq"
    );
    assert!(
        matches!(&r.results[0].status, cunjie_protocol::v1::MutationStatus::Rejected { code, .. } if code == codes::WRONG_ROLE),
        "wrong role: {body}"
    );
    // An inspector of village 0 cannot write village 1's household.
    let elsewhere = h
        .demo
        .households
        .iter()
        .position(|x| x.village == h.demo.villages[1].id)
        .expect("village 1 has households");
    let other = inspection(&h, &inspector, elsewhere, h.now());
    let other_village = h.demo.households[elsewhere].village;
    assert_ne!(
        other_village, h.demo.villages[0].id,
        "fixture: that household is in village 1"
    );
    let mut half = inspection(&h, &inspector, 0, h.now());
    half.results.truncate(2);
    let good = inspection(&h, &inspector, 2, h.now());
    let req = h.mutations(
        &mut inspector,
        vec![submit(&other), submit(&half), submit(&good)],
    );
    let (_, body) = h.push(&inspector, &req).await;
    let r = results(&body);
    let code = |i: usize| match &r.results[i].status {
        cunjie_protocol::v1::MutationStatus::Rejected { code, .. } => code.clone(),
        _ => "applied".to_owned(),
    };
    assert_eq!(
        (code(0), code(1), code(2)),
        (
            codes::NOT_ASSIGNED.to_owned(),
            codes::INVALID.to_owned(),
            "applied".to_owned()
        ),
        "per-mutation outcomes: {body}"
    );
    assert_eq!(r.acked_through, 3, "the queue moved past both rejections");
    assert_eq!(
        h.office.counts().expect("counts").facts,
        1,
        "only the good one is stored"
    );
}

pub(crate) async fn authorisation_follows_the_assignment_at_capture_time(db: Db) {
    let h = Harness::new(db);
    let inspector = h.demo.inspector(0).clone();
    let mut phone = h.enroll(inspector.id, Role::Inspector).await;
    let captured_before = h.now() - Duration::hours(2);
    // The township reassigns the inspector from village 0 to village 1 an hour ago.
    let switch = h.now() - Duration::hours(1);
    let old = h
        .demo
        .assignments
        .iter()
        .find(|a| a.person == inspector.id)
        .expect("assignment")
        .clone();
    h.office
        .put_assignment(&Assignment {
            valid_to: Some(switch),
            ..old
        })
        .expect("ended");
    h.office
        .put_assignment(&Assignment {
            id: h.new_id::<AssignmentId>(),
            person: inspector.id,
            role: Role::Inspector,
            target: AssignmentTarget::Villages {
                villages: vec![h.demo.villages[1].id],
            },
            valid_from: switch,
            valid_to: None,
        })
        .expect("new");
    let before = inspection(&h, &phone, 0, captured_before);
    let after = inspection(&h, &phone, 2, h.now());
    let req = h.mutations(&mut phone, vec![submit(&before), submit(&after)]);
    let (_, body) = h.push(&phone, &req).await;
    let r = results(&body);
    assert!(
        matches!(
            r.results[0].status,
            cunjie_protocol::v1::MutationStatus::Applied { .. }
        ),
        "captured while assigned: kept: {body}"
    );
    assert!(
        matches!(&r.results[1].status, cunjie_protocol::v1::MutationStatus::Rejected { code, .. } if code == codes::NOT_ASSIGNED),
        "captured after the switch: refused: {body}"
    );
    let (flags, _) = h
        .office
        .fact_flags(&before.id.to_string())
        .expect("flags")
        .expect("stored");
    assert!(
        flags.contains("assignment_changed"),
        "flagged for a person, not lost: {flags}"
    );
}

pub(crate) async fn future_clocks_are_clamped_and_skew_flagged(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let insp = inspection(&h, &phone, 0, h.now());
    // This phone's clock is a year ahead.
    h.clock.advance_ms(365 * 86_400_000);
    let req = h.mutations(&mut phone, vec![submit(&insp)]);
    h.clock.advance_ms(-365 * 86_400_000);
    let (s, _) = h.push(&phone, &req).await;
    assert_eq!(s, StatusCode::OK, "accepted");
    let (flags, skew) = h
        .office
        .fact_flags(&insp.id.to_string())
        .expect("flags")
        .expect("stored");
    assert!(
        flags.contains("clock_skew") && flags.contains("hlc_clamped"),
        "flagged: {flags}"
    );
    assert!(skew > 364 * 86_400_000, "raw skew kept: {skew}");
}

pub(crate) async fn pulls_follow_scopes_pages_and_cursors(db: Db) {
    let h = Harness::new(db);
    let phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let (s, body) = h
        .call("GET", "/api/v1/sync/scopes", Some(&phone.token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "scopes: {body}");
    let scopes: ScopeList = serde_json::from_value(body).expect("scope list");
    let village_scope = format!("village:{}", h.demo.villages[0].id);
    let names: Vec<&str> = scopes.scopes.iter().map(|s| s.scope.as_str()).collect();
    assert!(
        names.contains(&village_scope.as_str()),
        "own village: {names:?}"
    );
    assert!(
        !names.contains(&format!("village:{}", h.demo.villages[1].id).as_str()),
        "not the other village"
    );
    let mut after = 0;
    let mut households = BTreeMap::new();
    let mut pages = 0;
    loop {
        let (s, body) = h
            .call(
                "GET",
                &format!("/api/v1/sync/pull?scope={village_scope}&after={after}&limit=7"),
                Some(&phone.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "pull: {body}");
        let page: PullPage = serde_json::from_value(body).expect("page");
        assert!(page.changes.len() <= 7, "limit respected");
        assert!(
            page.changes.windows(2).all(|w| w[1].seq == w[0].seq + 1),
            "dense seqs"
        );
        for c in &page.changes {
            if c.entity == EntityKind::Household {
                households.insert(c.id, c.row.clone());
            }
        }
        pages += 1;
        after = page.next_after;
        if page.up_to_date {
            break;
        }
        assert!(pages < 100, "pull ends");
    }
    let expected = h
        .demo
        .households
        .iter()
        .filter(|x| x.village == h.demo.villages[0].id)
        .count();
    assert_eq!(
        households.len(),
        expected,
        "every household of the village, no other"
    );
    let (s, body) = h
        .call(
            "GET",
            &format!(
                "/api/v1/sync/pull?scope=village:{}&after=0",
                h.demo.villages[1].id
            ),
            Some(&phone.token),
            None,
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some(codes::FORBIDDEN)),
        "another village's scope is refused: {body}"
    );
    let (s, _) = h
        .call(
            "GET",
            "/api/v1/sync/pull?scope=x&after=-1",
            Some(&phone.token),
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a negative cursor is a bad request"
    );
}

pub(crate) async fn revoked_devices_get_401(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    assert!(h.office.revoke(phone.id).expect("revoke"), "revoked");
    let insp = inspection(&h, &phone, 0, h.now());
    let req = h.mutations(&mut phone, vec![submit(&insp)]);
    let (s, body) = h.push(&phone, &req).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some(codes::UNAUTHORISED)),
        "revocation applies on the next request: {body}"
    );
    let (s, _) = h.call("GET", "/api/v1/sync/scopes", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no token, no data");
    let (s, _) = h
        .call("GET", "/api/v1/sync/scopes", Some("0000"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a made-up token is refused");
    assert_eq!(
        h.office.counts().expect("counts").facts,
        0,
        "nothing stored"
    );
}

pub(crate) async fn household_edits_merge_per_field_and_keep_conflicts(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let hh = h.demo.households[0].clone();
    let key = hh.id.to_string();
    let base = 1;
    // The office corrects the door plate meanwhile (version 2).
    let mut office_edit = hh.clone();
    office_edit.door_plate = "太平村1组001号之一".into();
    h.office
        .put_records(&[cunjie_server::RegistryItem::Household(office_edit)])
        .expect("office edit");
    // The phone, based on version 1, edits the head's name (no conflict) and the door plate (conflict).
    h.clock.advance_ms(60_000);
    let fields: BTreeMap<String, serde_json::Value> = [
        ("head_name".to_owned(), json!("王建华")),
        ("door_plate".to_owned(), json!("太平村1组001号A")),
    ]
    .into();
    let req = h.mutations(
        &mut phone,
        vec![(
            Op::UpdateFields {
                entity: EntityKind::Household,
                id: *hh.id.as_uuid(),
                fields,
            },
            Some(base),
        )],
    );
    let (s, body) = h.push(&phone, &req).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let row = h.office.household(&key).expect("read").expect("exists");
    assert_eq!(
        row["head_name"], "王建华",
        "an untouched field takes the phone's value"
    );
    assert_eq!(
        row["door_plate"], "太平村1组001号A",
        "the later clamped HLC wins the conflict"
    );
    assert_eq!(
        h.office.counts().expect("counts").conflicts,
        1,
        "the real conflict is kept for a person"
    );
    let bad: BTreeMap<String, serde_json::Value> = [("village".to_owned(), json!("x"))].into();
    let req = h.mutations(
        &mut phone,
        vec![(
            Op::UpdateFields {
                entity: EntityKind::Household,
                id: *hh.id.as_uuid(),
                fields: bad,
            },
            Some(3),
        )],
    );
    let (_, body) = h.push(&phone, &req).await;
    assert!(
        body["results"][0]["code"] == codes::FORBIDDEN,
        "a field the phone may not edit: {body}"
    );
}

pub(crate) async fn inspection_ids_are_not_reusable(db: Db) {
    let h = Harness::new(db);
    let mut a = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let insp = inspection(&h, &a, 0, h.now());
    let req = h.mutations(&mut a, vec![submit(&insp)]);
    h.push(&a, &req).await;
    // Another phone of the same inspector replays the same id with different content.
    let mut b = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let mut copy = insp.clone();
    copy.device = b.id;
    copy.id = InspectionId::from_uuid(*insp.id.as_uuid());
    let req = h.mutations(&mut b, vec![submit(&copy)]);
    let (_, body) = h.push(&b, &req).await;
    assert_eq!(
        body["results"][0]["code"],
        codes::DUPLICATE_ID,
        "one id, one fact: {body}"
    );
    assert_eq!(
        h.office.counts().expect("counts").facts,
        1,
        "still one fact"
    );
    let _ = GeoPoint::new(0.0, 0.0);
}

pub(crate) async fn imports_check_every_row_and_update_on_reimport(db: Db) {
    use cunjie_server::import::FileKind;
    let h = Harness::new(db);
    let before = h.office.counts().expect("counts").records;
    let villages =
        "code,name,population,along_county_road,lat,lon\nQS,青山村,1800,true,27.70,113.80\n";
    let r = h
        .office
        .import(FileKind::Villages, villages.as_bytes())
        .expect("villages import");
    assert_eq!((r.created, r.updated), (1, 0), "one new village");
    let groups = "village_code,name,is_remote\nQS,第一村民组,false\n";
    h.office
        .import(FileKind::Groups, groups.as_bytes())
        .expect("groups import");
    let bad = "village_code,group,door_plate,head_name,members,roadside,demo_household,lat,lon\nQS,第一村民组,青山村1组001号,王建国,4,true,false,27.7,113.8\nQS,第一村民组,青山村1组002号,李秀英,3,false,false,95,113.8\n";
    let err = h
        .office
        .import(FileKind::Households, bad.as_bytes())
        .expect_err("latitude 95 is refused");
    assert!(
        err.to_string().contains("line 3"),
        "the error names the line: {err}"
    );
    assert_eq!(
        h.office.counts().expect("counts").records,
        before + 2,
        "nothing of the bad file was stored"
    );
    let unknown = "village_code,group,door_plate,head_name,members,roadside,demo_household,lat,lon\nXX,第一村民组,X号,王,1,false,false,,\n";
    assert!(
        h.office
            .import(FileKind::Households, unknown.as_bytes())
            .expect_err("unknown village")
            .to_string()
            .contains("not registered"),
        "unknown village code"
    );
    let good = "village_code,group,door_plate,head_name,members,roadside,demo_household,lat,lon\nQS,第一村民组,青山村1组001号,王建国,4,true,false,27.7,113.8\nQS,第一村民组,青山村1组002号,李秀英,3,false,false,27.7001,113.8\n";
    let r = h
        .office
        .import(FileKind::Households, good.as_bytes())
        .expect("households import");
    assert_eq!((r.created, r.updated), (2, 0), "two new households");
    let r = h
        .office
        .import(
            FileKind::Households,
            good.replace("王建国", "王建华").as_bytes(),
        )
        .expect("re-import");
    assert_eq!(
        (r.created, r.updated),
        (0, 2),
        "a re-import updates by door plate"
    );
    assert_eq!(
        h.office.counts().expect("counts").records,
        before + 4,
        "no duplicates"
    );
    let zones = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"village_code":"QS","name":"青山村主干道"},"geometry":{"type":"LineString","coordinates":[[113.80,27.70],[113.81,27.70]]}}]}"#;
    h.office
        .import(FileKind::Zones, zones.as_bytes())
        .expect("zones import");
    let facilities = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"village_code":"QS","number":"QS-01-001","kind":"POOL","zone":"青山村主干道"},"geometry":{"type":"Point","coordinates":[113.805,27.70]}}]}"#;
    h.office
        .import(FileKind::Facilities, facilities.as_bytes())
        .expect("facilities import");
    assert!(
        h.office
            .import(FileKind::Facilities, "not json".as_bytes())
            .is_err(),
        "garbage is refused"
    );
    let people = "name,phone,roles\n钟小梅,13800000000,CLEANER\n";
    h.office
        .import(FileKind::People, people.as_bytes())
        .expect("people import");
    let assignments =
        "person,role,villages,zones,valid_from\n钟小梅,CLEANER,,QS/青山村主干道,2026-01-01\n";
    h.office
        .import(FileKind::Assignments, assignments.as_bytes())
        .expect("assignments import");
    let wrong = "person,role,villages,zones,valid_from\n钟小梅,INSPECTOR,QS,,2026-01-01\n";
    assert!(
        h.office
            .import(FileKind::Assignments, wrong.as_bytes())
            .expect_err("role not held")
            .to_string()
            .contains("does not hold"),
        "role checked"
    );
}

pub(crate) async fn a_mutation_repeated_inside_a_batch_applies_once(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let insp = inspection(&h, &phone, 0, h.now());
    let mut req = h.mutations(&mut phone, vec![submit(&insp)]);
    req.mutations.push(req.mutations[0].clone());
    let (s, body) = h.push(&phone, &req).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a duplicated mutation in one batch is not a gap: {body}"
    );
    assert_eq!(results(&body).acked_through, 1, "acked once");
    let counts = h.office.counts().expect("counts");
    assert_eq!(
        (counts.facts, counts.receipts),
        (1, 1),
        "one effect, one receipt"
    );
}

/// Every scenario, for the backend runners in `sqlite.rs` and `pg.rs`.
macro_rules! scenarios {
    ($runner:ident) => {
        $runner!(
            enrollment_codes_are_one_time_and_expire,
            a_retried_push_has_exactly_one_effect,
            a_gap_is_refused_and_old_seqs_answer_from_receipts,
            a_mutation_repeated_inside_a_batch_applies_once,
            bad_mutations_are_rejected_without_blocking_the_queue,
            authorisation_follows_the_assignment_at_capture_time,
            future_clocks_are_clamped_and_skew_flagged,
            pulls_follow_scopes_pages_and_cursors,
            revoked_devices_get_401,
            household_edits_merge_per_field_and_keep_conflicts,
            inspection_ids_are_not_reusable,
            imports_check_every_row_and_update_on_reimport,
            photo_attestations_apply_once_and_bad_ones_are_rejected,
            uploads_need_an_attestation_from_this_device,
            a_photo_uploads_in_checksummed_chunks_over_http,
            a_tampered_file_is_discarded_and_nothing_stored,
            expired_uploads_are_gone_and_swept,
            photos_are_verified_against_exif_time_and_the_subjects_place,
            a_broken_connection_keeps_or_discards_its_bytes,
            a_stalled_request_does_not_block_the_next_one,
            a_partial_file_longer_than_its_offset_is_cut_back,
            a_photo_over_8_mib_goes_in_one_patch,
            a_fixture_month_reproduces_hand_computed_ranks,
            an_upheld_appeal_recomputes_under_the_published_version,
        );
    };
}
pub(crate) use scenarios;
