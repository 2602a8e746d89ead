//! Pulling: pages apply with their cursor, a crash between pages resumes from the cursor,
//! tombstones delete, a new epoch resets, and a scope that disappears is dropped.

use cunjie_protocol::v1::EntityKind;
use cunjie_sync::{SyncConfig, SyncError, TransportError};

use crate::fake::Call;
use crate::phone::{Phone, VILLAGE, ZONE, fast_config, hh_id, seeded_server};

fn small_pages() -> SyncConfig {
    SyncConfig {
        pull_limit: 2,
        ..fast_config()
    }
}

#[tokio::test]
async fn pages_apply_with_their_cursor_until_the_scope_is_up_to_date() {
    let server = seeded_server(5);
    let phone = Phone::new(&server, small_pages());
    phone.enroll("TMZ-0001").await;

    let report = phone.engine.sync_once().await.expect("syncs");

    // Village: village + template + 5 households = 7 changes in pages of 2; zone: 2 changes.
    assert_eq!(report.changes, 9, "every change applied once");
    assert_eq!(report.pages, 4 + 1, "7 changes take 4 pages, 2 take 1");
    {
        let s = phone.store();
        assert_eq!(
            s.cursors().expect("cursors"),
            vec![(VILLAGE.to_owned(), 7, 1), (ZONE.to_owned(), 2, 1)],
            "each cursor is at its scope's head"
        );
        assert_eq!(
            s.households_in(crate::phone::village().id, None, 100, 0)
                .expect("list")
                .len(),
            6,
            "the village's 5 households are on the phone, and the zone's one in the same village"
        );
        assert!(s.household(hh_id(100)).is_ok(), "the zone's household too");
        assert!(
            s.template_by_code("HH_SANBAO_MONTHLY").is_ok(),
            "the template arrived"
        );
    }
    let asked: Vec<u64> = server
        .pulls()
        .iter()
        .filter(|(scope, ..)| scope == VILLAGE)
        .map(|(_, after, _)| *after)
        .collect();
    assert_eq!(
        asked,
        vec![0, 2, 4, 6],
        "each page asked after the previous page's cursor"
    );

    let pulls = server.calls(Call::Pull);
    let report = phone.engine.sync_once().await.expect("again");
    assert_eq!(report.pages, 0, "up to date: nothing pulled");
    assert_eq!(server.calls(Call::Pull), pulls, "not even asked");
}

#[tokio::test]
async fn a_failure_between_pages_resumes_from_the_saved_cursor() {
    let server = seeded_server(5);
    let phone = Phone::new(&server, small_pages());
    phone.enroll("TMZ-0001").await;
    // The first page arrives; asking for the second fails for good.
    server.fail_after(
        Call::Pull,
        1,
        TransportError::Refused {
            status: 400,
            code: "bad_request".into(),
            message: "no".into(),
        },
    );
    let phone_cursor = || phone.store().cursor(VILLAGE).expect("cursor");
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("the second page fails");
    assert!(
        matches!(err, SyncError::Transport(TransportError::Refused { .. })),
        "{err:?}"
    );
    assert_eq!(
        phone_cursor(),
        (2, 1),
        "the first page and its cursor were kept"
    );

    phone.engine.sync_once().await.expect("resumes");
    let village_pulls: Vec<u64> = server
        .pulls()
        .iter()
        .filter(|(scope, ..)| scope == VILLAGE)
        .map(|(_, after, _)| *after)
        .collect();
    assert_eq!(
        village_pulls,
        vec![0, 2, 2, 4, 6],
        "the next sync asked from the saved cursor, not from 0"
    );
    assert_eq!(phone_cursor(), (7, 1), "and finished the scope");
}

#[tokio::test]
async fn tombstones_delete_and_a_new_epoch_resets_the_scope() {
    let server = seeded_server(5);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.photos(1);
    let own = phone.submit(1);
    phone.draft(2);

    server.tombstone(VILLAGE, EntityKind::Household, *hh_id(4).as_uuid());
    phone.engine.sync_once().await.expect("tombstone pulled");
    assert!(
        phone.store().household(hh_id(4)).is_err(),
        "the tombstoned household is gone"
    );

    // The server compacts the village into epoch 2 holding only households 0 and 1.
    server.reset_scope(VILLAGE, &[*hh_id(0).as_uuid(), *hh_id(1).as_uuid()]);
    let report = phone.engine.sync_once().await.expect("reset");
    assert_eq!(report.scopes_reset, 1, "one scope reset");
    let s = phone.store();
    assert_eq!(
        s.cursor(VILLAGE).expect("cursor"),
        (2, 2),
        "cursor in the new epoch"
    );
    assert!(
        s.household(hh_id(0)).is_ok() && s.household(hh_id(1)).is_ok(),
        "re-sent rows are back"
    );
    assert!(s.household(hh_id(2)).is_err(), "rows not re-sent are gone");
    assert!(
        s.inspection(own).is_ok(),
        "the phone's own inspection stays"
    );
    assert_eq!(
        s.inspection_drafts().expect("drafts").len(),
        1,
        "the draft stays"
    );
}

#[tokio::test]
async fn a_scope_that_disappears_is_dropped_and_nothing_else_is() {
    let server = seeded_server(3);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.photos(1);
    phone.draft(1);
    phone.edit_plate(2, "太平村3组002号甲");
    assert!(
        phone.store().household(hh_id(100)).is_ok(),
        "the zone's household is here"
    );

    server.remove_scope(ZONE);
    server.fail(
        Call::Push,
        1,
        TransportError::Unreachable("no signal".into()),
    );
    let before = phone.work();
    // The push fails once and is retried; the pull then drops the zone.
    let report = phone.engine.sync_once().await.expect("syncs");

    assert_eq!(report.scopes_dropped, 1, "one scope dropped");
    let s = phone.store();
    assert!(
        s.household(hh_id(100)).is_err(),
        "the dropped scope's household is gone"
    );
    assert_eq!(s.cursor(ZONE).expect("cursor"), (0, 0), "and its cursor");
    assert_eq!(
        s.cursors()
            .expect("cursors")
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        vec![VILLAGE],
        "the village scope stays"
    );
    assert!(
        s.household(hh_id(2)).is_ok(),
        "the village's households stay"
    );
    drop(s);
    let (_, drafts, photos) = phone.work();
    assert_eq!(
        (drafts, photos),
        (before.1, before.2),
        "drafts and photos untouched"
    );
}
