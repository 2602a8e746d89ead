//! Enrollment and auth failures: a refused token keeps 100 % of the phone's work and only
//! flags the enrollment; a new enrollment lets the same work through, once.

use cunjie_sync::{SyncError, TransportError};

use crate::fake::Call;
use crate::phone::{Phone, SERVER_URL, fast_config, seeded_server};

#[tokio::test]
async fn enrolling_saves_the_token_and_the_device_id_the_phone_made() {
    let server = seeded_server(2);
    let phone = Phone::new(&server, fast_config());
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("not enrolled yet");
    assert!(matches!(err, SyncError::NotEnrolled), "{err:?}");
    assert!(
        err.to_string().contains("登记码"),
        "tells the person to enroll: {err}"
    );
    assert_eq!(server.calls(Call::Scopes), 0, "no request without a token");

    server.issue_code("TMZ-7K4Q");
    let enrollment = phone
        .engine
        .enroll(SERVER_URL, " TMZ-7K4Q ", "Redmi 12C")
        .await
        .expect("enrolls");
    assert_eq!(enrollment.server_url, SERVER_URL, "server remembered");
    assert_eq!(enrollment.township_name, "桐木镇", "township remembered");
    assert_eq!(
        phone.store().enrollment().expect("read"),
        Some(enrollment),
        "saved in the store"
    );
    let err = phone
        .engine
        .enroll(SERVER_URL, "TMZ-7K4Q", "Redmi 12C")
        .await
        .expect_err("a used code is refused");
    assert!(
        matches!(&err, SyncError::Transport(TransportError::Refused { code, .. }) if code == "enrollment_invalid"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("登记码无效"),
        "said in words: {err}"
    );
    assert!(
        phone.store().enrollment().expect("read").is_some(),
        "a refused second code leaves the first enrollment alone"
    );
    phone
        .engine
        .sync_once()
        .await
        .expect("an enrolled phone syncs");
}

#[tokio::test]
async fn a_refused_token_keeps_all_outbox_drafts_and_photos_and_flags_the_phone() {
    let server = seeded_server(4);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.photos(2);
    phone.submit(1);
    phone.draft(2);
    phone.edit_plate(3, "太平村1组003号甲");
    let before = phone.work();
    assert_eq!(
        (before.0.len(), before.1.len(), before.2.len()),
        (2, 1, 2),
        "two records waiting, one draft, two photos"
    );
    let mut status = phone.engine.status();

    server.revoke_all_tokens();
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("the token is refused");

    assert!(matches!(err, SyncError::NeedsReenroll), "{err:?}");
    assert!(
        err.to_string().contains("重新登记") && err.to_string().contains("不会丢失"),
        "says, in Chinese, to enroll again and that nothing is lost: {err}"
    );
    assert_eq!(
        server.calls(Call::Push),
        1,
        "an auth failure is not retried"
    );
    assert_eq!(
        phone.work(),
        before,
        "100 % of the outbox, drafts and photos are kept"
    );
    assert!(
        phone
            .store()
            .enrollment()
            .expect("read")
            .expect("enrolled")
            .needs_reenroll,
        "the store remembers the phone must enroll again"
    );
    assert!(
        status.has_changed().expect("engine alive"),
        "watchers are told"
    );
    let seen = status.borrow_and_update().clone();
    assert!(seen.needs_reenroll, "the badge says so");
    assert_eq!(seen.pending_records, 2, "and still counts what waits");
    assert!(
        seen.last_error_zh
            .as_deref()
            .is_some_and(|e| e.contains("重新登记")),
        "with the reason in words: {seen:?}"
    );

    let calls = server.calls(Call::Push) + server.calls(Call::Scopes);
    let err = phone.engine.sync_once().await.expect_err("still refused");
    assert!(matches!(err, SyncError::NeedsReenroll), "{err:?}");
    assert_eq!(
        server.calls(Call::Push) + server.calls(Call::Scopes),
        calls,
        "a flagged phone does not knock with a dead token"
    );
    assert_eq!(phone.work(), before, "still everything kept");

    phone.enroll("TMZ-0002").await;
    assert!(
        !phone.engine.current_status().needs_reenroll,
        "a new enrollment clears the flag"
    );
    phone
        .engine
        .sync_once()
        .await
        .expect("the same work goes through");
    assert!(phone.pending().is_empty(), "the outbox drained");
    assert_eq!(
        server.effects().len(),
        2,
        "each record reached the server once"
    );
    let (_, drafts, photos) = phone.work();
    assert_eq!(
        (drafts, photos),
        (before.1, before.2),
        "drafts and photos are still the phone's"
    );
}

#[tokio::test]
async fn a_token_refused_while_pulling_is_handled_the_same_way() {
    let server = seeded_server(2);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.edit_plate(1, "太平村2组001号甲");
    server.fail(
        Call::Scopes,
        1,
        TransportError::Unauthorised {
            message: "revoked".into(),
        },
    );
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("refused at the scope list");
    assert!(matches!(err, SyncError::NeedsReenroll), "{err:?}");
    assert!(
        phone.pending().is_empty(),
        "the push before it had gone through"
    );
    assert!(
        phone.engine.current_status().needs_reenroll,
        "and the phone is flagged"
    );
    assert_eq!(
        phone.store().cursors().expect("cursors").len(),
        2,
        "no scope was dropped because of an auth failure"
    );
}
