//! Pushing the outbox: exactly once across lost answers, batches in seq order, rejections
//! settle, and a server that lost its tail gets the acknowledged seqs again.

use std::collections::BTreeSet;

use cunjie_protocol::v1::MutationStatus;
use cunjie_store::SyncState;
use cunjie_sync::{SyncConfig, SyncError, TransportError};

use crate::fake::Call;
use crate::phone::{Phone, fast_config, seeded_server};

fn once_each(effects: &[cunjie_domain::ids::MutationId]) -> bool {
    effects.iter().collect::<BTreeSet<_>>().len() == effects.len()
}

#[tokio::test]
async fn a_lost_push_answer_then_a_retry_takes_effect_exactly_once() {
    let server = seeded_server(4);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.photos(1);
    let inspection = phone.submit(1);
    phone.edit_plate(2, "太平村3组002号甲");
    phone.edit_plate(3, "太平村1组003号乙");
    let sent: Vec<_> = phone.pending().iter().map(|m| m.mutation_id).collect();
    assert_eq!(sent.len(), 3, "three records waiting");

    // The server commits the batch, then the answer is lost on the way back.
    server.drop_answers(Call::Push, 1);
    let report = phone.engine.sync_once().await.expect("the retry succeeds");

    assert_eq!(server.calls(Call::Push), 2, "one lost answer, one retry");
    let effects = server.effects();
    assert_eq!(
        effects.len(),
        3,
        "three effects on the server, not six: {effects:?}"
    );
    assert!(once_each(&effects), "each mutation took effect once");
    assert_eq!(
        effects.iter().copied().collect::<BTreeSet<_>>(),
        sent.iter().copied().collect::<BTreeSet<_>>(),
        "the effects are the phone's mutations"
    );
    assert_eq!(report.settled, 3, "all three settled by the retry's answer");
    assert!(phone.pending().is_empty(), "the outbox is empty");
    assert_eq!(
        phone
            .store()
            .sync_state(&inspection.to_string())
            .expect("state"),
        SyncState::Synced,
        "the inspection shows as synced"
    );
    let status = phone.engine.current_status();
    assert_eq!(
        (
            status.pending_records,
            status.last_error_zh.as_deref(),
            status.syncing
        ),
        (0, None, false),
        "the badge shows nothing waiting and no error"
    );
    assert!(
        status.last_success.is_some(),
        "a successful sync is recorded"
    );
}

#[tokio::test]
async fn answers_lost_until_retries_run_out_are_resolved_by_the_next_sync() {
    let server = seeded_server(4);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.edit_plate(1, "太平村2组001号甲");
    phone.edit_plate(2, "太平村3组002号甲");
    let before = phone.pending();

    // Committed, answer lost; then the network stays down for every retry.
    server.drop_answers(Call::Push, 1);
    server.fail(
        Call::Push,
        4,
        TransportError::Unreachable("no signal".into()),
    );
    let err = phone.engine.sync_once().await.expect_err("retries run out");
    assert!(
        matches!(err, SyncError::Transport(TransportError::Unreachable(_))),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "网络中断，已保存在手机上，有信号时会自动上传",
        "the person is told in plain words that nothing is lost"
    );
    assert_eq!(
        server.calls(Call::Push),
        5,
        "five tries in all, then it stops"
    );
    assert_eq!(
        phone.pending(),
        before,
        "the phone still holds both, unchanged"
    );
    let (in_flight, attempts, last_error) =
        phone.store().delivery(before[0].seq).expect("delivery");
    assert!(in_flight, "marked as sent before the request went out");
    assert_eq!(attempts, 1, "one push attempt recorded for this sync");
    assert_eq!(
        last_error.as_deref(),
        Some("网络中断，已保存在手机上，有信号时会自动上传"),
        "the reason is kept with the record"
    );
    assert_eq!(
        phone.engine.current_status().last_error_zh.as_deref(),
        Some("网络中断，已保存在手机上，有信号时会自动上传"),
        "and shown on the badge"
    );
    assert_eq!(
        server.effects().len(),
        2,
        "the server applied both once already"
    );

    phone.engine.sync_once().await.expect("signal is back");
    assert_eq!(
        server.effects().len(),
        2,
        "the resend changed nothing on the server"
    );
    assert!(phone.pending().is_empty(), "and settled the phone's outbox");
    assert_eq!(
        phone.engine.current_status().last_error_zh,
        None,
        "the error is cleared"
    );
}

#[tokio::test]
async fn batches_go_in_seq_order_and_a_rejection_settles_without_blocking_the_queue() {
    let server = seeded_server(6);
    let config = SyncConfig {
        max_batch_count: 2,
        ..fast_config()
    };
    let phone = Phone::enrolled(&server, config).await;
    let seqs: Vec<u64> = (1..=5)
        .map(|n| phone.edit_plate(n, &format!("新门牌{n}")))
        .collect();
    server.reject_seq(seqs[1]);
    let device = phone.store().device_id();

    let report = phone.engine.sync_once().await.expect("syncs");

    assert_eq!(
        server.calls(Call::Push),
        3,
        "five mutations in batches of two: 2 + 2 + 1"
    );
    assert_eq!(
        (report.settled, report.rejected),
        (5, 1),
        "all settled, one rejected"
    );
    assert!(
        matches!(
            server.receipt(device, seqs[1]),
            Some(MutationStatus::Rejected { .. })
        ),
        "the server kept a rejection receipt"
    );
    assert!(
        phone.pending().is_empty(),
        "the rejected one does not block the queue"
    );
    let state = phone
        .store()
        .sync_state(&crate::phone::hh_id(2).to_string())
        .expect("state");
    assert!(
        matches!(state, SyncState::Rejected { ref code, .. } if code == "not_assigned"),
        "the phone shows it as sent back: {state:?}"
    );
}

#[tokio::test]
async fn a_server_restored_from_a_backup_gets_the_lost_seqs_again() {
    let server = seeded_server(6);
    let phone = Phone::enrolled(&server, fast_config()).await;
    for n in 1..=3 {
        phone.edit_plate(n, &format!("旧门牌{n}"));
    }
    phone
        .engine
        .sync_once()
        .await
        .expect("first three acknowledged");
    let device = phone.store().device_id();
    // The server is restored from a backup that has only seq 1.
    server.lose_tail(device, 1);
    phone.edit_plate(4, "新门牌4");

    let report = phone.engine.sync_once().await.expect("recovers");

    assert_eq!(
        report.replayed, 2,
        "seqs 2 and 3 came from the acknowledged log"
    );
    let effects = server.effects();
    assert_eq!(
        effects.len(),
        4,
        "every mutation is on the server once: {effects:?}"
    );
    assert!(once_each(&effects), "no duplicates");
    assert!(
        phone.pending().is_empty(),
        "seq 4 was pushed after the replay"
    );
}

#[tokio::test]
async fn a_batch_the_server_finds_too_large_is_split() {
    let server = seeded_server(6);
    let phone = Phone::enrolled(&server, fast_config()).await;
    for n in 1..=4 {
        phone.edit_plate(n, &format!("新门牌{n}"));
    }
    let push = server.calls(Call::Push);
    server.fail(
        Call::Push,
        1,
        TransportError::Refused {
            status: 413,
            code: "too_large".into(),
            message: "over the limit".into(),
        },
    );

    phone
        .engine
        .sync_once()
        .await
        .expect("smaller batches go through");

    assert_eq!(
        server.calls(Call::Push) - push,
        3,
        "one refused batch of 4, then two batches of 2"
    );
    assert_eq!(server.effects().len(), 4, "each once");
    assert!(phone.pending().is_empty(), "all settled");
}
