//! Enrollment: remembered across restarts; an auth failure only sets a flag and never deletes
//! work; dropping a scope removes its synced rows and nothing of the phone's own.

use chrono::NaiveDate;
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{FactStatus, RectificationOrder, RectificationState, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{DeviceId, InspectionId, PersonId, RectificationId, TownshipId};
use cunjie_domain::person::Role;
use cunjie_protocol::v1::{EnrollResponse, EntityKind, PullPage};
use cunjie_store::StoreError;
use uuid::Uuid;

use crate::common::{
    Fixture, SCOPE, assert_same, change, count, hh_id, household, open, photo, snapshot,
};

const SERVER: &str = "https://tongmu.example.cn";

fn response(device: DeviceId, token: &str) -> EnrollResponse {
    EnrollResponse {
        device_id: device,
        token: token.into(),
        person_id: PersonId::from_uuid(Uuid::from_u128(0x300)),
        person_name: "李秀英".into(),
        role: Role::Inspector,
        township_id: TownshipId::from_uuid(Uuid::from_u128(0x10)),
        township_name: "桐木镇".into(),
        server_time_ms: 1_795_396_000_000,
    }
}

fn order(f: &Fixture, n: u128) -> RectificationOrder {
    RectificationOrder {
        id: RectificationId::from_uuid(Uuid::from_u128(0x7000 + n)),
        inspection: f.store.new_id(),
        item_code: "HH_WHITE_LITTER".into(),
        subject: Subject {
            kind: SubjectKind::Household,
            id: *hh_id(1).as_uuid(),
        },
        village: f.village.id,
        issued_by: f.inspector,
        assignee: f.inspector,
        issued_at: f.now(),
        due: NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"),
        state: RectificationState::Open,
        before_photos: vec![photo(1)],
        after_photos: vec![],
        note: None,
    }
}

/// Everything a person did on this phone: a submitted inspection (fact, photo refs, outbox),
/// a draft, a household edit and a rectification (outbox), two photos.
fn own_work(f: &mut Fixture) -> InspectionId {
    f.register_photos(2);
    let submitted = f.complete_draft(1);
    f.store
        .submit_inspection(submitted.id, &GeoPolicy::default())
        .expect("submit");
    f.complete_draft(2);
    f.store
        .update_household_fields(
            hh_id(3),
            [(
                "door_plate".to_owned(),
                serde_json::json!("太平村1组003号甲"),
            )]
            .into(),
        )
        .expect("edit");
    let o = order(f, 1);
    f.store.issue_rectification(&o).expect("issue");
    submitted.id
}

#[test]
fn an_enrollment_is_remembered_replaced_and_never_shows_its_token() {
    let mut f = Fixture::new(2);
    assert!(
        f.store.enrollment().expect("read").is_none(),
        "a new phone is not enrolled"
    );
    let device = f.store.device_id();
    let saved = f
        .store
        .save_enrollment(SERVER, &response(device, "cjd1.secret-one"))
        .expect("saves");
    assert_eq!(
        (saved.server_url.as_str(), saved.token.as_str(), saved.role),
        (SERVER, "cjd1.secret-one", Role::Inspector),
        "what was saved is what is read"
    );
    assert_eq!(saved.enrolled_at, f.now(), "enrolled at device time");
    assert!(!saved.needs_reenroll, "a fresh enrollment is good");
    assert!(
        !format!("{saved:?}").contains("secret"),
        "Debug never prints the token: {saved:?}"
    );

    let other = DeviceId::from_uuid(Uuid::from_u128(0xdead));
    let err = f
        .store
        .save_enrollment(SERVER, &response(other, "cjd1.secret-two"))
        .expect_err("an answer for another device is refused");
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                entity: "device",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        f.store.enrollment().expect("read"),
        Some(saved.clone()),
        "the refused answer changed nothing"
    );

    f.store.mark_needs_reenroll().expect("mark");
    let path = f.path();
    drop(f.store);
    let mut store = open(&path, &f.clock);
    let reopened = store.enrollment().expect("read").expect("still enrolled");
    assert!(reopened.needs_reenroll, "the flag survives a restart");
    assert_eq!(
        reopened.token, "cjd1.secret-one",
        "the old token is kept, not deleted"
    );

    let again = store
        .save_enrollment(SERVER, &response(device, "cjd1.secret-three"))
        .expect("re-enroll");
    assert!(!again.needs_reenroll, "a new enrollment clears the flag");
    assert_eq!(again.token, "cjd1.secret-three", "and replaces the token");
    assert_eq!(count(&path, "enrollment"), 1, "one row, ever");
}

#[test]
fn an_unauthorised_phone_keeps_all_of_its_work() {
    let mut f = Fixture::new(4);
    let _ = own_work(&mut f);
    let device = f.store.device_id();
    f.store
        .save_enrollment(SERVER, &response(device, "cjd1.revoked"))
        .expect("enrolled");
    let pending = f.store.pending_mutations(100).expect("pending");
    assert_eq!(
        pending.len(),
        3,
        "three records waiting: inspection, edit, rectification"
    );
    let not_enrollment = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| !r.starts_with("enrollment:"))
            .collect()
    };
    let before = snapshot(&f.path());

    f.store.mark_needs_reenroll().expect("mark");

    let after = snapshot(&f.path());
    assert_same(
        &not_enrollment(before.clone()),
        &not_enrollment(after.clone()),
        "an auth failure changes no row outside the enrollment",
    );
    assert!(
        f.store
            .enrollment()
            .expect("read")
            .expect("enrolled")
            .needs_reenroll,
        "the flag is set"
    );
    assert_ne!(before, after, "the flag is the one change");
    assert_eq!(
        f.store.pending_mutations(100).expect("pending"),
        pending,
        "100 % of the outbox is still there, byte for byte"
    );
    assert_eq!(count(&f.path(), "draft"), 1, "the draft is still there");
    assert_eq!(count(&f.path(), "photo"), 2, "both photos are still there");
    assert_eq!(
        count(&f.path(), "photo_ref"),
        5,
        "and every reference to them"
    );
}

#[test]
fn marking_a_phone_that_never_enrolled_changes_nothing() {
    let mut f = Fixture::new(4);
    let _ = own_work(&mut f);
    let before = snapshot(&f.path());
    f.store.mark_needs_reenroll().expect("no-op");
    assert_same(
        &before,
        &snapshot(&f.path()),
        "nothing to flag, nothing changed",
    );
    assert!(
        f.store.enrollment().expect("read").is_none(),
        "still not enrolled"
    );
}

#[test]
fn dropping_a_scope_removes_its_synced_rows_and_nothing_of_the_phones_own() {
    let mut f = Fixture::new(4);
    let own = own_work(&mut f);
    // A second scope the phone keeps.
    let river = "zone:river";
    f.store
        .apply_pull_page(&PullPage {
            scope: river.into(),
            epoch: 1,
            changes: vec![
                change(
                    1,
                    EntityKind::Zone,
                    Uuid::from_u128(0x400),
                    serde_json::json!({"name": "河道保洁区"}),
                ),
                change(
                    2,
                    EntityKind::Household,
                    *hh_id(10).as_uuid(),
                    serde_json::to_value(household(10)).expect("json"),
                ),
            ],
            next_after: 2,
            up_to_date: true,
        })
        .expect("river scope");
    // In the dropped scope: a pulled inspection and two pulled orders, one of which the phone
    // has since acted on (its step waits in the outbox).
    let mut pulled = f.complete_draft(3);
    f.store
        .discard_draft(&pulled.id.to_string())
        .expect("discard");
    pulled.id = f.store.new_id();
    pulled.status = FactStatus::Submitted;
    pulled.submitted_at = Some(f.now());
    let (idle, acted) = (order(&f, 2), order(&f, 3));
    f.store
        .apply_pull_page(&PullPage {
            scope: SCOPE.into(),
            epoch: 1,
            changes: vec![
                change(
                    7,
                    EntityKind::Inspection,
                    *pulled.id.as_uuid(),
                    serde_json::to_value(&pulled).expect("json"),
                ),
                change(
                    8,
                    EntityKind::Rectification,
                    *idle.id.as_uuid(),
                    serde_json::to_value(&idle).expect("json"),
                ),
                change(
                    9,
                    EntityKind::Rectification,
                    *acted.id.as_uuid(),
                    serde_json::to_value(&acted).expect("json"),
                ),
            ],
            next_after: 9,
            up_to_date: true,
        })
        .expect("more of the village");
    f.store
        .submit_rectification_fix(acted.id, vec![photo(2)], Some("已清理".into()))
        .expect("fix");
    let pending = f.store.pending_mutations(100).expect("pending");
    let drafts = f.store.inspection_drafts().expect("drafts");
    let path = f.path();
    let photos_before = count(&path, "photo");

    let removed = f.store.drop_scope(SCOPE).expect("drop");

    assert_eq!(
        removed,
        4 + 1 + 2 + 1 + 1,
        "4 households, the village, 2 templates, the pulled fact, the idle order"
    );
    assert_eq!(
        f.store.cursor(SCOPE).expect("cursor"),
        (0, 0),
        "the cursor is gone"
    );
    assert_eq!(
        f.store.cursors().expect("cursors"),
        vec![(river.to_owned(), 2, 1)],
        "the other scope's cursor stays"
    );
    assert_eq!(
        count(&path, "household"),
        1,
        "only the river scope's household remains"
    );
    assert_eq!(
        count(&path, "template"),
        0,
        "the scope's templates are gone"
    );
    assert_eq!(
        count(&path, "registry_record"),
        1,
        "only the river zone remains"
    );
    assert!(
        f.store.inspection(pulled.id).is_err(),
        "the pulled fact is gone"
    );
    assert!(
        f.store.inspection(own).is_ok(),
        "the phone's own fact stays"
    );
    assert_eq!(count(&path, "fact"), 1, "and it is the only fact left");
    assert!(
        f.store
            .rectification(idle.id, f.now().date_naive())
            .is_err(),
        "the idle pulled order is gone"
    );
    assert!(
        f.store
            .rectification(acted.id, f.now().date_naive())
            .is_ok(),
        "the order with a step waiting in the outbox stays"
    );
    assert_eq!(
        f.store.pending_mutations(100).expect("pending"),
        pending,
        "outbox untouched"
    );
    assert_eq!(
        f.store.inspection_drafts().expect("drafts"),
        drafts,
        "drafts untouched"
    );
    assert_eq!(count(&path, "photo"), photos_before, "photos untouched");
    assert_eq!(
        f.store.drop_scope(SCOPE).expect("again"),
        0,
        "dropping twice removes nothing more"
    );
}
