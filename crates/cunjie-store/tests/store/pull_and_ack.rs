//! Pulled pages apply with their cursor in one transaction; acknowledgements move the outbox.

use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::MutationId;
use cunjie_protocol::v1::{
    Change, EntityKind, MutationResult, MutationStatus, PullPage, PushResponse,
};
use cunjie_store::{StoreError, SyncState};

use crate::common::{Fixture, SCOPE, assert_same, change, count, hh_id, household, snapshot};

fn page(epoch: u64, changes: Vec<Change>) -> PullPage {
    let next_after = changes.last().map_or(0, |c| c.seq);
    PullPage {
        scope: SCOPE.into(),
        epoch,
        changes,
        next_after,
        up_to_date: true,
    }
}

#[test]
fn a_page_and_its_cursor_commit_together() {
    let mut f = Fixture::new(3);
    assert_eq!(
        f.store.cursor(SCOPE).expect("cursor"),
        (6, 1),
        "seed page moved the cursor"
    );
    let mut h = household(1);
    h.head_name = "王建华".into();
    let good = change(
        7,
        EntityKind::Household,
        *h.id.as_uuid(),
        serde_json::to_value(&h).expect("json"),
    );
    let broken = Change {
        seq: 8,
        entity: EntityKind::Household,
        id: *hh_id(2).as_uuid(),
        server_version: 8,
        row: Some(serde_json::json!({"head_name": 5})),
    };
    let before = snapshot(&f.path());
    f.store
        .apply_pull_page(&page(1, vec![good.clone(), broken]))
        .expect_err("a bad row fails the page");
    assert_same(
        &before,
        &snapshot(&f.path()),
        "no half page, cursor unmoved",
    );
    let out = f
        .store
        .apply_pull_page(&page(1, vec![good.clone()]))
        .expect("good page applies");
    assert_eq!(out.applied, 1, "one change");
    assert_eq!(
        f.store.household(hh_id(1)).expect("hh").household.head_name,
        "王建华",
        "row updated"
    );
    assert_eq!(
        f.store.cursor(SCOPE).expect("cursor"),
        (7, 1),
        "cursor moved with it"
    );
    let snap = snapshot(&f.path());
    f.store
        .apply_pull_page(&page(1, vec![good]))
        .expect("re-applying is harmless");
    assert_eq!(
        snapshot(&f.path()).len(),
        snap.len(),
        "re-applying the same page adds nothing"
    );
}

#[test]
fn pending_local_edits_are_not_overwritten_by_a_pull() {
    let mut f = Fixture::new(3);
    f.store
        .update_household_fields(
            hh_id(1),
            [("door_plate".to_owned(), serde_json::json!("太平村新18号"))].into(),
        )
        .expect("edit");
    let mut server = household(1);
    server.head_name = "王建华".into();
    let out = f
        .store
        .apply_pull_page(&page(
            1,
            vec![change(
                7,
                EntityKind::Household,
                *server.id.as_uuid(),
                serde_json::to_value(&server).expect("json"),
            )],
        ))
        .expect("applies");
    assert_eq!(out.kept_local, 1, "one change merged with a pending edit");
    let row = f.store.household(hh_id(1)).expect("hh");
    assert_eq!(
        row.household.door_plate, "太平村新18号",
        "the pending local edit survives"
    );
    assert_eq!(
        row.household.head_name, "王建华",
        "the server's other field is taken"
    );
}

#[test]
fn a_new_epoch_resets_the_scope_but_never_the_outbox_drafts_or_own_facts() {
    let mut f = Fixture::new(4);
    f.register_photos(2);
    let submitted = f.complete_draft(1);
    f.store
        .submit_inspection(submitted.id, &GeoPolicy::default())
        .expect("submit");
    let draft = f.complete_draft(2);
    let out = f
        .store
        .apply_pull_page(&page(
            2,
            vec![change(
                1,
                EntityKind::Household,
                *hh_id(3).as_uuid(),
                serde_json::to_value(household(3)).expect("json"),
            )],
        ))
        .expect("reset page");
    assert!(out.reset, "epoch change resets");
    assert_eq!(
        count(&f.path(), "household"),
        1,
        "only the re-sent household remains"
    );
    assert_eq!(count(&f.path(), "outbox"), 1, "outbox untouched");
    assert!(
        f.store.inspection_draft(draft.id).is_ok(),
        "draft untouched"
    );
    assert!(
        f.store.inspection(submitted.id).is_ok(),
        "own fact untouched"
    );
    assert_eq!(
        f.store.cursor(SCOPE).expect("cursor"),
        (1, 2),
        "cursor restarted in the new epoch"
    );
}

#[test]
fn acknowledgements_move_settled_mutations_and_keep_the_rest() {
    let mut f = Fixture::new(4);
    f.register_photos(2);
    let mut ids = vec![];
    for n in 0..3 {
        let d = f.complete_draft(n);
        f.store
            .submit_inspection(d.id, &GeoPolicy::default())
            .expect("submit");
        ids.push(d.id);
    }
    let pending = f.store.pending_mutations(10).expect("pending");
    assert_eq!(
        pending.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "dense seqs"
    );
    assert!(
        pending.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "HLCs increase with seq"
    );
    let device = f.store.device_id();
    assert_eq!(
        f.store.delivery(1).expect("delivery"),
        (false, 0, None),
        "not sent yet"
    );
    f.store.mark_in_flight(&[1, 2, 3]).expect("sent");
    f.store
        .record_push_error(&[1, 2, 3], "连接中断")
        .expect("error noted");
    f.store.mark_in_flight(&[1, 2, 3]).expect("sent again");
    assert_eq!(
        f.store.delivery(3).expect("delivery"),
        (true, 2, Some("连接中断".into())),
        "two attempts, last error kept"
    );
    let resp = PushResponse {
        acked_through: 2,
        results: vec![
            MutationResult {
                seq: 1,
                status: MutationStatus::Applied { server_version: 11 },
            },
            MutationResult {
                seq: 2,
                status: MutationStatus::Rejected {
                    code: "not_assigned".into(),
                    reason: "不在您负责的村".into(),
                },
            },
        ],
        server_time_ms: 1_795_000_000_000,
    };
    assert_eq!(
        f.store.apply_push_response(device, &resp).expect("ack"),
        2,
        "two settled"
    );
    assert_eq!(
        f.store
            .apply_push_response(device, &resp)
            .expect("ack again"),
        0,
        "a duplicated ack moves nothing"
    );
    let left = f.store.pending_mutations(10).expect("pending");
    assert_eq!(
        left.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![3],
        "seq 3 still waits"
    );
    assert_eq!(
        f.store.sync_state(&ids[0].to_string()).expect("state"),
        SyncState::Synced,
        "applied"
    );
    assert!(
        matches!(f.store.sync_state(&ids[1].to_string()).expect("state"), SyncState::Rejected { ref code, .. } if code == "not_assigned"),
        "rejected with its reason, shown as sent back"
    );
    assert_eq!(
        f.store.sync_state(&ids[2].to_string()).expect("state"),
        SyncState::Pending,
        "pending"
    );
    let history = f.store.history(10).expect("history");
    assert_eq!(history.len(), 3, "three submitted");
    let counts = f.store.pending_counts().expect("counts");
    assert_eq!(
        (counts.records, counts.photos),
        (1, 2),
        "badge: one record, two photos waiting"
    );
    assert!(counts.last_ack.is_some(), "last ack time known");

    let wrong = PushResponse {
        acked_through: 3,
        results: vec![],
        server_time_ms: 0,
    };
    let err = f
        .store
        .apply_push_response(device, &wrong)
        .expect_err("an ack that skips a pending seq");
    assert!(matches!(err, StoreError::AckMismatch { .. }), "{err}");
    assert_eq!(
        f.store.pending_mutations(10).expect("pending").len(),
        1,
        "nothing lost on a bad ack"
    );
    let _: MutationId = f.store.new_id();
}

#[test]
fn acknowledged_mutations_can_be_replayed_exactly_as_first_pushed() {
    let mut f = Fixture::new(4);
    for n in 1..=3 {
        f.store
            .update_household_fields(
                hh_id(n),
                [(
                    "door_plate".to_owned(),
                    serde_json::json!(format!("新门牌{n}")),
                )]
                .into(),
            )
            .expect("edit");
    }
    let pushed = f.store.pending_mutations(10).expect("pending");
    let device = f.store.device_id();
    let resp = PushResponse {
        acked_through: 2,
        results: (1..=2)
            .map(|seq| MutationResult {
                seq,
                status: MutationStatus::Applied { server_version: 9 },
            })
            .collect(),
        server_time_ms: 1_795_000_000_000,
    };
    f.store.apply_push_response(device, &resp).expect("ack");
    assert_eq!(
        f.store.acked_mutations(1, 5, 10).expect("replay"),
        pushed[..2].to_vec(),
        "the acknowledged ones, byte for byte as pushed, not the pending one"
    );
    assert_eq!(
        f.store
            .acked_mutations(2, 2, 10)
            .expect("replay")
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>(),
        vec![2],
        "bounded on both sides"
    );
}
