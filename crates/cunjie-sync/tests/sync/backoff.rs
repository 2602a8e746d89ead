//! Retries: transient errors are retried with backoff until they pass, a bounded number of
//! times; permanent errors end the run at once.

use std::time::{Duration, Instant};

use backon::ExponentialBuilder;
use cunjie_sync::{SyncConfig, SyncError, TransportError, default_backoff};

use crate::fake::Call;
use crate::phone::{Phone, fast_config, seeded_server};

#[tokio::test]
async fn transient_errors_are_retried_until_they_pass() {
    let server = seeded_server(2);
    let phone = Phone::enrolled(&server, fast_config()).await;
    phone.edit_plate(1, "太平村2组001号甲");
    server.fail(Call::Push, 1, TransportError::Timeout);
    server.fail(
        Call::Scopes,
        1,
        TransportError::Busy {
            status: 503,
            code: None,
            message: String::new(),
        },
    );
    server.fail(
        Call::Pull,
        1,
        TransportError::Interrupted("reset by peer".into()),
    );
    server.fail(
        Call::Pull,
        1,
        TransportError::Unreachable("no route".into()),
    );
    let (push, scopes, pull) = (
        server.calls(Call::Push),
        server.calls(Call::Scopes),
        server.calls(Call::Pull),
    );

    phone
        .engine
        .sync_once()
        .await
        .expect("every transient error passes");

    assert_eq!(
        server.calls(Call::Push) - push,
        2,
        "push: one failure, one success"
    );
    assert_eq!(
        server.calls(Call::Scopes) - scopes,
        2,
        "scopes: one 503, one success"
    );
    assert_eq!(
        server.calls(Call::Pull) - pull,
        3,
        "pull: two failures, then the one page (the edit came back)"
    );
    assert!(phone.pending().is_empty(), "and the work got through");
}

#[tokio::test]
async fn retries_are_bounded_and_spaced_by_the_injected_backoff() {
    let server = seeded_server(2);
    let config = SyncConfig {
        backoff: ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(20))
            .with_max_delay(Duration::from_millis(20))
            .with_max_times(2),
        ..fast_config()
    };
    let phone = Phone::enrolled(&server, config).await;
    let scopes = server.calls(Call::Scopes);
    server.fail(
        Call::Scopes,
        10,
        TransportError::Unreachable("no signal".into()),
    );

    let start = Instant::now();
    let err = phone.engine.sync_once().await.expect_err("gives up");

    assert_eq!(
        server.calls(Call::Scopes) - scopes,
        3,
        "1 try + 2 retries, then it stops"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(40),
        "two pauses of 20 ms were taken: {:?}",
        start.elapsed()
    );
    assert!(
        matches!(err, SyncError::Transport(TransportError::Unreachable(_))),
        "{err:?}"
    );
    assert_eq!(
        phone.engine.current_status().last_error_zh.as_deref(),
        Some("网络中断，已保存在手机上，有信号时会自动上传"),
        "the badge says it in words a cleaner understands"
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let cases: Vec<(TransportError, &str)> = vec![
        (
            TransportError::Refused {
                status: 400,
                code: "bad_request".into(),
                message: "malformed".into(),
            },
            "a 4xx with a code",
        ),
        (
            TransportError::SeqGap {
                expected: None,
                message: "gap".into(),
            },
            "a seq gap with no expected seq",
        ),
        (
            TransportError::BadResponse("<html>login</html>".into()),
            "a captive portal's page",
        ),
    ];
    for (error, why) in cases {
        let server = seeded_server(2);
        let phone = Phone::enrolled(&server, fast_config()).await;
        phone.edit_plate(1, "太平村2组001号甲");
        let before = phone.pending();
        let push = server.calls(Call::Push);
        server.fail(Call::Push, 1, error.clone());

        let err = phone.engine.sync_once().await.expect_err(why);

        assert_eq!(
            server.calls(Call::Push) - push,
            1,
            "{why}: tried once, not retried"
        );
        assert!(
            matches!(&err, SyncError::Transport(e) if *e == error),
            "{why}: the error is passed on: {err:?}"
        );
        assert_eq!(phone.pending(), before, "{why}: nothing lost");
        assert!(
            !phone.engine.current_status().needs_reenroll,
            "{why}: not an auth failure"
        );
    }
}

#[test]
fn the_production_backoff_is_bounded() {
    use backon::BackoffBuilder;
    let delays: Vec<Duration> = default_backoff().build().collect();
    assert_eq!(delays.len(), 4, "4 retries, 5 tries in all");
    assert!(
        delays.iter().all(|d| *d <= Duration::from_secs(60)),
        "no pause over 30 s plus jitter: {delays:?}"
    );
    assert!(
        delays.iter().all(|d| *d >= Duration::from_secs(1)),
        "no pause under 1 s: {delays:?}"
    );
    assert!(
        delays.iter().sum::<Duration>() <= Duration::from_secs(120),
        "a run gives up within two minutes: {delays:?}"
    );
}
