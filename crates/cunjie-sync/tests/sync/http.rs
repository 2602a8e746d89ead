//! The HTTP transport against a raw TCP stub: paths, headers, gzip both ways, status codes,
//! a gzip bomb, a refused connection and a server that never answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use cunjie_domain::ids::{DeviceId, MutationId};
use cunjie_protocol::body::{self, gunzip_limited, gzip_if_smaller};
use cunjie_protocol::v1::{
    Mutation, MutationResult, MutationStatus, Op, PullPage, PushRequest, PushResponse, ScopeList,
};
use cunjie_sync::{HttpTransport, Transport, TransportError};
use uuid::Uuid;

/// A request as the stub saw it.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One canned answer: status, extra headers, body.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn json(status: u16, value: &serde_json::Value) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type", "application/json")],
        body: serde_json::to_vec(value).expect("json"),
    }
}

/// Serves one connection per answer, in order, and returns what each request looked like.
fn stub(answers: Vec<Answer>) -> (String, JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').expect("header line");
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().expect("length"));
            let mut body = vec![0; len];
            reader.read_exact(&mut body).expect("body");
            let mut out = stream;
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                answer.status,
                answer.body.len()
            );
            for (k, v) in &answer.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            out.write_all(head.as_bytes()).expect("head");
            out.write_all(&answer.body).expect("body");
            out.flush().expect("flush");
            seen.push(Seen {
                request_line: request_line.trim_end().to_owned(),
                headers,
                body,
            });
        }
        seen
    });
    (url, handle)
}

fn big_push() -> PushRequest {
    let device = DeviceId::from_uuid(Uuid::from_u128(0xd1));
    PushRequest {
        mutations: (1..=20)
            .map(|seq| Mutation {
                device_id: device,
                seq,
                mutation_id: MutationId::from_uuid(Uuid::from_u128(0x1000 + u128::from(seq))),
                base_version: Some(3),
                hlc: seq << 16,
                schema_version: 1,
                device_time: None,
                payload: Op::UpdateFields {
                    entity: cunjie_protocol::v1::EntityKind::Household,
                    id: Uuid::from_u128(0x2000 + u128::from(seq)),
                    fields: [(
                        "door_plate".to_owned(),
                        serde_json::json!(format!("太平村1组{seq:03}号")),
                    )]
                    .into(),
                },
            })
            .collect(),
        sent_at: None,
    }
}

#[tokio::test]
async fn a_push_is_gzipped_with_a_bearer_token_and_a_gzipped_answer_is_read() {
    let answer = PushResponse {
        acked_through: 20,
        results: (1..=20)
            .map(|seq| MutationResult {
                seq,
                status: MutationStatus::Applied { server_version: 4 },
            })
            .collect(),
        server_time_ms: 1_795_396_000_000,
    };
    let enc = body::encode_json(&answer).expect("encodes");
    assert!(enc.gzip, "the stub's answer is gzipped");
    let (url, server) = stub(vec![Answer {
        status: 200,
        headers: vec![
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        body: enc.bytes,
    }]);
    let t = HttpTransport::new(&format!("{url}/")).expect("transport");
    let req = big_push();

    let got = t.push("cjd1.token-1", &req).await.expect("pushes");

    assert_eq!(got, answer, "the gzipped answer was inflated and read");
    let seen = server.join().expect("stub");
    let r = &seen[0];
    assert_eq!(
        r.request_line, "POST /api/v1/sync/push HTTP/1.1",
        "path and method"
    );
    assert_eq!(
        r.header("authorization"),
        Some("Bearer cjd1.token-1"),
        "bearer token"
    );
    assert_eq!(
        r.header("content-encoding"),
        Some("gzip"),
        "a big body is gzipped"
    );
    assert_eq!(r.header("content-type"), Some("application/json"), "JSON");
    assert!(
        r.header("accept-encoding")
            .is_some_and(|v| v.contains("gzip")),
        "asks for gzipped answers"
    );
    let sent: PushRequest =
        serde_json::from_slice(&gunzip_limited(&r.body, 1 << 20).expect("gzip")).expect("json");
    assert_eq!(sent, req, "the body is the request");
}

#[tokio::test]
async fn scopes_and_pull_use_get_with_an_encoded_query() {
    let list = serde_json::json!({"scopes": [{"scope": "village:a", "epoch": 2, "head": 9}], "server_time_ms": 5});
    let page = serde_json::json!({"scope": "village:a", "epoch": 2, "changes": [], "next_after": 9, "up_to_date": true});
    let (url, server) = stub(vec![json(200, &list), json(200, &page)]);
    let t = HttpTransport::new(&url).expect("transport");

    let got: ScopeList = t.scopes("tok").await.expect("scopes");
    assert_eq!(got.scopes[0].head, 9, "scope list read");
    let got: PullPage = t.pull("tok", "village:a b", 3, 2, 500).await.expect("pull");
    assert!(got.up_to_date, "page read");

    let seen = server.join().expect("stub");
    assert_eq!(
        seen[0].request_line, "GET /api/v1/sync/scopes HTTP/1.1",
        "scopes path"
    );
    assert_eq!(
        seen[1].request_line,
        "GET /api/v1/sync/pull?scope=village%3Aa+b&after=3&epoch=2&limit=500&with=sample%2Creview HTTP/1.1",
        "pull path with the scope encoded, asking for the optional kinds this phone reads"
    );
    assert_eq!(
        seen[1].header("authorization"),
        Some("Bearer tok"),
        "token on GETs too"
    );
    assert_eq!(
        seen[1].header("content-encoding"),
        None,
        "no body, no encoding"
    );
}

#[tokio::test]
async fn error_statuses_become_typed_errors() {
    let cases: Vec<(Answer, TransportError, bool, &str)> = vec![
        (
            json(
                401,
                &serde_json::json!({"code": "unauthorised", "message": "revoked"}),
            ),
            TransportError::Unauthorised {
                message: "revoked".into(),
            },
            false,
            "401",
        ),
        (
            json(
                409,
                &serde_json::json!({"code": "seq_gap", "message": "this device must continue: expected 41, got 44"}),
            ),
            TransportError::SeqGap {
                expected: Some(41),
                message: "this device must continue: expected 41, got 44".into(),
            },
            false,
            "409 seq_gap, expected from the message",
        ),
        (
            json(
                409,
                &serde_json::json!({"code": "seq_gap", "message": "gap", "expected_seq": 12}),
            ),
            TransportError::SeqGap {
                expected: Some(12),
                message: "gap".into(),
            },
            false,
            "409 seq_gap with expected_seq",
        ),
        (
            Answer {
                status: 502,
                headers: vec![("Content-Type", "text/html")],
                body: b"<html>Bad Gateway</html>".to_vec(),
            },
            TransportError::Busy {
                status: 502,
                code: None,
                message: String::new(),
            },
            true,
            "a proxy's 502 page",
        ),
        (
            json(
                429,
                &serde_json::json!({"code": "internal", "message": "slow down"}),
            ),
            TransportError::Busy {
                status: 429,
                code: Some("internal".into()),
                message: "slow down".into(),
            },
            true,
            "429",
        ),
        (
            json(
                413,
                &serde_json::json!({"code": "too_large", "message": "over 1 MB"}),
            ),
            TransportError::Refused {
                status: 413,
                code: "too_large".into(),
                message: "over 1 MB".into(),
            },
            false,
            "413 keeps the server's code",
        ),
    ];
    for (answer, want, retryable, why) in cases {
        let (url, server) = stub(vec![answer]);
        let t = HttpTransport::new(&url).expect("transport");
        let err = t.push("tok", &big_push()).await.expect_err(why);
        assert_eq!(err, want, "{why}");
        assert_eq!(err.is_retryable(), retryable, "{why}: retryable");
        server.join().expect("stub");
    }
}

#[tokio::test]
async fn a_gzip_bomb_answer_is_refused_not_inflated() {
    // 17 members of 1 MiB of spaces each: 17 MiB once inflated, over the 16 MiB limit.
    let member = gzip_if_smaller(vec![b' '; 1 << 20]);
    assert!(member.gzip, "spaces compress");
    let bomb = member.bytes.repeat(17);
    let (url, server) = stub(vec![Answer {
        status: 200,
        headers: vec![("Content-Encoding", "gzip")],
        body: bomb,
    }]);
    let t = HttpTransport::new(&url).expect("transport");
    let err = t.scopes("tok").await.expect_err("a bomb is refused");
    assert!(
        matches!(&err, TransportError::BadResponse(m) if m.contains("decompressed")),
        "refused as too large: {err:?}"
    );
    server.join().expect("stub");
}

#[tokio::test]
async fn no_server_and_a_silent_server_are_retryable() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let t = HttpTransport::new(&format!("http://127.0.0.1:{port}")).expect("transport");
    let err = t.scopes("tok").await.expect_err("nobody listens");
    assert!(matches!(err, TransportError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable(), "no signal is retryable");

    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let t = HttpTransport::with_timeout(&url, Duration::from_millis(300)).expect("transport");
    let err = t.scopes("tok").await.expect_err("never answers");
    assert_eq!(err, TransportError::Timeout, "a silent server times out");
    assert!(err.is_retryable(), "a timeout is retryable");
    drop(silent);
}

#[test]
fn the_engine_over_http_can_run_on_a_spawned_task() {
    fn send<F: std::future::Future + Send>(_: F) {}
    let store =
        cunjie_store::Store::open_in_memory(cunjie_store::StoreOptions::default()).expect("store");
    let store = std::sync::Arc::new(std::sync::Mutex::new(store));
    let t = HttpTransport::new("http://127.0.0.1:9").expect("transport");
    let engine = cunjie_sync::SyncEngine::new(store, t).expect("engine");
    // Compiles only if the futures are Send (no store lock held across an await).
    send(engine.sync_once());
    send(engine.enroll("http://127.0.0.1:9", "code", "phone"));
    assert!(
        !engine.current_status().syncing,
        "creating the futures does not start a sync"
    );
}
