//! R6 hostile input and the server-side R5 checks, on SQLite (the rules are backend independent).
//!
//! `every_endpoint_refuses_hostile_input` is a table of named bad requests against every route:
//! each must get a 4xx with a stable code (the API's JSON `{code, message}`, the dashboard's
//! error page with its `data-code`), store nothing (every table's rows and the blob folder
//! compared before and after), and leave the server serving (a good request right after).
//! The other tests stream huge bodies and watch the process's memory, upload corrupt and bomb
//! images, look for secrets in the database file, check the security headers and a revoked
//! phone.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use cunjie_domain::person::Role;
use cunjie_protocol::v1::{EntityKind, MutationStatus, Op, PushResponse, codes};
use cunjie_server::store::Value;
use cunjie_server::{Blobs, Db};
use http_body_util::BodyExt;
use serde_json::{Value as Json, json};
use tower::ServiceExt;

use crate::conformance::inspection;
use crate::harness::{Harness, Phone};
use crate::photos::{attest_one, household_shot};

// ---------------------------------------------------------------------------------------------
// Plumbing.

struct Sent {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Sent {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(400)
            .collect()
    }

    /// The stable code: the API's JSON `code`, or the dashboard page's `data-code`.
    fn code(&self) -> String {
        if let Ok(v) = serde_json::from_slice::<Json>(&self.body) {
            return v["code"].as_str().unwrap_or_default().to_owned();
        }
        let html = String::from_utf8_lossy(&self.body);
        html.find("data-code=\"")
            .map(|at| {
                html[at + 11..]
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    }

    fn content_type(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

async fn send(h: &Harness, req: Request<Body>) -> Sent {
    let resp = h
        .router
        .clone()
        .oneshot(req)
        .await
        .expect("the router answers");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Sent {
        status,
        headers,
        body,
    }
}

/// A request: method, path, headers, body.
fn req(method: &str, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).expect("request builds")
}

const JSON_CT: (&str, &str) = ("content-type", "application/json");
const FORM_CT: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A gzip bomb: `n` MiB of one byte, compressed (about 1000:1).
fn gzip_bomb(byte: u8, mib: usize) -> Vec<u8> {
    let chunk = vec![byte; 1024 * 1024];
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..mib {
        e.write_all(&chunk).expect("gzip");
    }
    e.finish().expect("gzip")
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

/// The process's resident memory in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// What the server holds: every table's rows and the blob folder.

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    /// Rows per table, each row rendered (`device.last_seen_at` and `token_expires_at` left out: reading is not
    /// storing).
    tables: BTreeMap<String, Vec<String>>,
    /// Files under the data directory with their sizes (empty partial files left out).
    files: BTreeMap<PathBuf, u64>,
}

fn tables(h: &Harness) -> Vec<String> {
    h.state
        .db
        .tx(|tx| {
            tx.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                &[],
            )
        })
        .expect("tables")
        .into_iter()
        .filter_map(|r| r.first().and_then(|v| v.text().map(str::to_owned)))
        .collect()
}

fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            if len > 0 || p.extension().is_none_or(|x| x != "part") {
                out.insert(p, len);
            }
        }
    }
}

fn snapshot(h: &Harness, data_dir: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    for t in tables(h) {
        let sql = if t == "device" {
            "SELECT id, township_id, person_id, role, name, token_hash, enrolled_at, revoked_at, last_seq FROM device ORDER BY id".to_owned()
        } else {
            format!("SELECT * FROM {t}")
        };
        let mut rows: Vec<String> = h
            .state
            .db
            .tx(|tx| tx.query(&sql, &[]))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|r| format!("{r:?}"))
            .collect();
        rows.sort();
        out.insert(t, rows);
    }
    let mut files = BTreeMap::new();
    walk(data_dir, &mut files);
    Snapshot { tables: out, files }
}

fn count(h: &Harness, table: &str) -> usize {
    h.state
        .db
        .tx(|tx| tx.query(&format!("SELECT COUNT(*) FROM {table}"), &[]))
        .expect("count")
        .first()
        .and_then(|r| r.first())
        .and_then(Value::int)
        .unwrap_or(0) as usize
}

/// The differences between two snapshots, in words.
fn diff(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (t, rows) in &b.tables {
        let before = a.tables.get(t).cloned().unwrap_or_default();
        if &before != rows {
            let added: Vec<&String> = rows.iter().filter(|r| !before.contains(r)).collect();
            out.push(format!(
                "{t}: {} rows before, {} after; new or changed: {:?}",
                before.len(),
                rows.len(),
                added
                    .iter()
                    .map(|r| r.chars().take(300).collect::<String>())
                    .collect::<Vec<_>>()
            ));
        }
    }
    if a.files != b.files {
        out.push(format!("files: {:?} -> {:?}", a.files, b.files));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The server under attack.

struct World {
    h: Harness,
    data_dir: PathBuf,
    _db_dir: tempfile::TempDir,
    inspector: Phone,
    cleaner: Phone,
    staff: String,
    cookie: String,
    csrf: String,
    /// An open upload of an attested photo (`/api/v1/uploads/<id>`), nothing sent yet.
    upload: String,
    /// The length of that upload.
    upload_len: u64,
}

fn db_file(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("s.db").display())
}

async fn world() -> World {
    let db_dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&db_file(db_dir.path())).expect("db");
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().to_owned();
    let blobs = Blobs::local(&data_dir).expect("blob folders");
    let h = Harness::with_blobs(db, blobs, data);
    let person = h.demo.inspector(0).id;
    let mut inspector = h.enroll(person, Role::Inspector).await;
    let zone = h.demo.zones[0].id;
    let cleaner = h.enroll(h.demo.cleaner(zone).id, Role::Cleaner).await;
    let staff = staff_token(&h).await;
    let (cookie, csrf) = dashboard_login(&h).await;
    let s = household_shot(&h, &inspector, 0, 1, 0.0, None);
    attest_one(&h, &mut inspector, &s).await;
    let meta = format!("sha256 {}", STANDARD.encode(s.sha().as_str()));
    let len = s.bytes.len().to_string();
    let auth = format!("Bearer {}", inspector.token);
    let r = send(
        &h,
        req(
            "POST",
            "/api/v1/uploads",
            &[
                ("tus-resumable", "1.0.0"),
                ("authorization", &auth),
                ("upload-length", &len),
                ("upload-metadata", &meta),
            ],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "upload created: {}",
        r.text()
    );
    let upload = r.headers["location"].to_str().expect("ascii").to_owned();
    World {
        h,
        data_dir,
        _db_dir: db_dir,
        inspector,
        cleaner,
        staff,
        cookie,
        csrf,
        upload,
        upload_len: s.bytes.len() as u64,
    }
}

async fn staff_token(h: &Harness) -> String {
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/admin/login",
            None,
            Some(json!({"username": "admin", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "staff log in: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Signs in to the dashboard: the `cunjie_session=…` pair and the CSRF token of its forms.
async fn dashboard_login(h: &Harness) -> (String, String) {
    let r = send(
        h,
        req(
            "POST",
            "/dashboard/login",
            &[FORM_CT],
            "username=admin&password=correct+horse+battery",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login: {}", r.text());
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cunjie_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let token = cookie.trim_start_matches("cunjie_session=");
    let csrf = {
        use sha2::Digest;
        sha2::Sha256::digest(format!("{token}|cunjie-dashboard-csrf-v1").as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    (cookie, csrf)
}

/// What a case must get.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// An API error: this status and code, as JSON.
    Api(u16, &'static str),
    /// A dashboard error page (or the login page's error) with this status and `data-code`.
    Page(u16, &'static str),
    /// A push answered 200 whose one mutation is rejected with this code: only its receipt
    /// (and the device's `last_seq`) may change.
    Rejected(&'static str),
    /// Only the status (a `HEAD` has no body).
    Status(u16),
}

struct Case {
    name: String,
    req: Request<Body>,
    want: Want,
}

fn case(name: impl Into<String>, req: Request<Body>, want: Want) -> Case {
    Case {
        name: name.into(),
        req,
        want,
    }
}

/// A push body with one inspection mutation of `phone`, its JSON text edited by `edit`
/// (for values serde_json cannot write: `NaN`, `1e400`, …). The seq is the phone's next.
fn push_text(h: &Harness, phone: &mut Phone, edit: impl Fn(String) -> String) -> String {
    let insp = inspection(h, phone, 1, h.now() - Duration::hours(1));
    let mut m = h.mutations(
        phone,
        vec![(
            Op::SubmitInspection {
                inspection: Box::new(insp),
            },
            None,
        )],
    );
    // Pin the fix to a marker the edits can find.
    if let Op::SubmitInspection { inspection } = &mut m.mutations[0].payload
        && let Some(f) = inspection.fix.as_mut()
    {
        f.point.lat = 12.125;
        f.point.lon = 112.125;
        f.accuracy_m = 7.5;
    }
    edit(serde_json::to_string(&m).expect("json"))
}

fn all_cases(w: &mut World) -> Vec<Case> {
    let h = &w.h;
    let dev = format!("Bearer {}", w.inspector.token);
    let cleaner = format!("Bearer {}", w.cleaner.token);
    let staff = format!("Bearer {}", w.staff);
    let dev_a: (&str, &str) = ("authorization", dev.as_str());
    let staff_a: (&str, &str) = ("authorization", staff.as_str());
    let tus: (&str, &str) = ("tus-resumable", "1.0.0");
    let octet: (&str, &str) = ("content-type", "application/offset+octet-stream");
    let cookie: (&str, &str) = ("cookie", w.cookie.as_str());
    let csrf = w.csrf.clone();
    let long = "村".repeat(10_000);
    let long_ascii = "a".repeat(10_000);
    let sql = "'; DROP TABLE device; -- \" OR 1=1 /*";
    let nine_mib = vec![b' '; 9 * 1024 * 1024];
    let bomb_json = gzip_bomb(b' ', 64);
    let mut cases = Vec::new();

    // --- enroll ------------------------------------------------------------------------------
    let enroll = |name: &str, body: Vec<u8>, extra: &[(&str, &str)], want: Want| {
        let mut hs = vec![JSON_CT];
        hs.extend_from_slice(extra);
        case(
            format!("enroll: {name}"),
            req("POST", "/api/v1/enroll", &hs, body),
            want,
        )
    };
    let bad = Want::Api(400, codes::BAD_REQUEST);
    cases.push(enroll("truncated JSON", b"{\"code\":".to_vec(), &[], bad));
    cases.push(enroll("empty body", Vec::new(), &[], bad));
    cases.push(enroll("not JSON at all", vec![0xff, 0xfe, 0, 1], &[], bad));
    cases.push(enroll(
        "100,000 nested arrays",
        nested_arrays(100_000).into_bytes(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "100,000 nested objects",
        nested_objects(100_000).into_bytes(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "wrong types",
        br#"{"code": 12345, "device_id": true, "device_name": []}"#.to_vec(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "device id not a uuid",
        json!({"code": "ABCD-EFGH", "device_id": "../../etc/passwd", "device_name": "x"})
            .to_string()
            .into_bytes(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "SQL in the code",
        json!({"code": sql, "device_id": uuid::Uuid::from_u128(7), "device_name": sql})
            .to_string()
            .into_bytes(),
        &[],
        Want::Api(400, codes::ENROLLMENT_INVALID),
    ));
    cases.push(enroll(
        "10,000-character code",
        json!({"code": long, "device_id": uuid::Uuid::from_u128(8), "device_name": "x"})
            .to_string()
            .into_bytes(),
        &[],
        Want::Api(400, codes::ENROLLMENT_INVALID),
    ));
    let code = h
        .office
        .enrollment_code(h.demo.inspector(1).id, Role::Inspector, 7)
        .expect("code");
    cases.push(enroll(
        "a valid code, a 10,000-character device name",
        json!({"code": code, "device_id": uuid::Uuid::from_u128(10), "device_name": long})
            .to_string()
            .into_bytes(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "public key not base64",
        json!({"code": "ABCD-EFGH", "device_id": uuid::Uuid::from_u128(9), "device_name": "x", "public_key": "!!!"})
            .to_string()
            .into_bytes(),
        &[],
        bad,
    ));
    cases.push(enroll(
        "9 MiB body",
        nine_mib.clone(),
        &[],
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(enroll(
        "gzip bomb (64 MiB of spaces)",
        bomb_json.clone(),
        &[("content-encoding", "gzip")],
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(enroll(
        "gzip header, corrupt stream",
        {
            let mut g = gzip(br#"{"code":"x"}"#);
            let n = g.len();
            g[10..n - 8].iter_mut().for_each(|b| *b = 0xAA);
            g
        },
        &[("content-encoding", "gzip")],
        bad,
    ));
    cases.push(enroll(
        "unknown content encoding",
        b"{}".to_vec(),
        &[("content-encoding", "x-evil")],
        Want::Api(415, codes::UNSUPPORTED_MEDIA_TYPE),
    ));
    cases.push(case(
        "enroll: no content type",
        req("POST", "/api/v1/enroll", &[], "{}"),
        bad,
    ));
    cases.push(case(
        "enroll: wrong method",
        req("GET", "/api/v1/enroll", &[], Body::empty()),
        Want::Api(405, codes::BAD_REQUEST),
    ));

    // --- push --------------------------------------------------------------------------------
    let push = |name: &str, auth: Option<&str>, body: Vec<u8>, extra: &[(&str, &str)], want| {
        let mut hs = vec![JSON_CT];
        if let Some(a) = auth {
            hs.push(("authorization", a));
        }
        hs.extend_from_slice(extra);
        case(
            format!("push: {name}"),
            req("POST", "/api/v1/sync/push", &hs, body),
            want,
        )
    };
    let unauth = Want::Api(401, codes::UNAUTHORISED);
    cases.push(push(
        "no token",
        None,
        b"{\"mutations\":[]}".to_vec(),
        &[],
        unauth,
    ));
    cases.push(push(
        "SQL as the token",
        Some(&format!("Bearer {sql}")),
        b"{\"mutations\":[]}".to_vec(),
        &[],
        unauth,
    ));
    cases.push(push(
        "10,000-character token",
        Some(&format!("Bearer {long_ascii}")),
        b"{\"mutations\":[]}".to_vec(),
        &[],
        unauth,
    ));
    cases.push(push(
        "Basic instead of Bearer",
        Some("Basic YWRtaW46YWRtaW4="),
        b"{\"mutations\":[]}".to_vec(),
        &[],
        unauth,
    ));
    cases.push(push(
        "truncated JSON",
        Some(&dev),
        b"{\"mutations\":[".to_vec(),
        &[],
        bad,
    ));
    cases.push(push(
        "100,000 nested arrays",
        Some(&dev),
        format!("{{\"mutations\":{}}}", nested_arrays(100_000)).into_bytes(),
        &[],
        bad,
    ));
    cases.push(push(
        "mutations is a string",
        Some(&dev),
        br#"{"mutations":"all of them"}"#.to_vec(),
        &[],
        bad,
    ));
    cases.push(push(
        "unknown op",
        Some(&dev),
        push_text(h, &mut w.inspector, |s| {
            s.replace("submit_inspection", "drop_database")
        })
        .into_bytes(),
        &[],
        bad,
    ));
    w.inspector.next_seq -= 1;
    cases.push(push(
        "9 MiB body",
        Some(&dev),
        nine_mib.clone(),
        &[],
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(push(
        "gzip bomb (64 MiB of spaces)",
        Some(&dev),
        bomb_json.clone(),
        &[("content-encoding", "gzip")],
        Want::Api(413, codes::TOO_LARGE),
    ));
    // Whole-batch refusals: the JSON cannot say it, so nothing of the batch is applied.
    for (name, from, to) in [
        ("NaN latitude", "12.125", "NaN"),
        ("infinite latitude", "12.125", "Infinity"),
        ("latitude 1e400", "12.125", "1e400"),
        ("latitude as text", "12.125", "\"north\""),
        ("latitude null", "12.125", "null"),
        ("negative-infinite accuracy", "7.5", "-1e999"),
    ] {
        let body = push_text(h, &mut w.inspector, |s| s.replacen(from, to, 1));
        w.inspector.next_seq -= 1;
        cases.push(push(
            &format!("inspection with {name}"),
            Some(&dev),
            body.into_bytes(),
            &[],
            bad,
        ));
    }
    for (name, to) in [
        (
            "year 275760 (past chrono's range)",
            "+275760-09-13T00:00:00Z",
        ),
        ("not a time", "yesterday"),
        ("month 13", "2026-13-01T00:00:00Z"),
    ] {
        let body = push_text(h, &mut w.inspector, |s| {
            let v: Json = serde_json::from_str(&s).expect("json");
            let at = v["mutations"][0]["payload"]["inspection"]["started_at"]
                .as_str()
                .expect("started_at")
                .to_owned();
            s.replacen(&at, to, 1)
        });
        w.inspector.next_seq -= 1;
        cases.push(push(
            &format!("inspection started {name}"),
            Some(&dev),
            body.into_bytes(),
            &[],
            bad,
        ));
    }
    cases.push(push(
        "1,001 mutations",
        Some(&dev),
        {
            let one: Json =
                serde_json::from_str(&push_text(h, &mut w.inspector, |s| s)).expect("json");
            w.inspector.next_seq -= 1;
            let m = one["mutations"][0].clone();
            json!({"mutations": vec![m; 1001]}).to_string().into_bytes()
        },
        &[],
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(push(
        "another device's mutation",
        Some(&cleaner),
        push_text(h, &mut w.inspector, |s| s).into_bytes(),
        &[],
        Want::Api(400, codes::DEVICE_MISMATCH),
    ));
    w.inspector.next_seq -= 1;
    cases.push(push(
        "a seq far ahead",
        Some(&dev),
        {
            w.inspector.next_seq += 1_000_000;
            let s = push_text(h, &mut w.inspector, |s| s);
            w.inspector.next_seq -= 1_000_001;
            s.into_bytes()
        },
        &[],
        Want::Api(409, codes::SEQ_GAP),
    ));
    // Per-mutation refusals: valid JSON, impossible values. The batch is answered, the mutation
    // rejected (its receipt kept so the phone's queue moves on), no fact stored.
    for (name, from, to) in [
        ("latitude 1000", "12.125", "1000.0"),
        ("latitude -91", "12.125", "-91.0"),
        ("longitude 1e300", "112.125", "1e300"),
        ("negative accuracy", "7.5", "-5.0"),
    ] {
        let body = push_text(h, &mut w.inspector, |s| s.replacen(from, to, 1));
        cases.push(push(
            &format!("inspection with {name}"),
            Some(&dev),
            body.into_bytes(),
            &[],
            Want::Rejected(codes::INVALID),
        ));
    }
    for (name, to) in [
        ("in year 9999", "9999-12-31T23:59:59Z"),
        ("in year 1", "0001-01-01T00:00:00Z"),
        ("in 44 BC", "-0044-03-15T12:00:00Z"),
        ("in year 200000", "+200000-01-01T00:00:00Z"),
    ] {
        let body = push_text(h, &mut w.inspector, |s| {
            let v: Json = serde_json::from_str(&s).expect("json");
            let at = v["mutations"][0]["payload"]["inspection"]["started_at"]
                .as_str()
                .expect("started_at")
                .to_owned();
            s.replace(&at, to)
        });
        cases.push(push(
            &format!("inspection {name}"),
            Some(&dev),
            body.into_bytes(),
            &[],
            Want::Rejected(codes::INVALID),
        ));
    }
    {
        let body = push_text(h, &mut w.inspector, |s| {
            let mut v: Json = serde_json::from_str(&s).expect("json");
            let results = &mut v["mutations"][0]["payload"]["inspection"]["results"];
            if let Some(r) = results.as_array_mut().and_then(|a| a.first_mut()) {
                r["note"] = json!(format!("{sql}{}", "脏".repeat(10_000)));
            }
            v.to_string()
        });
        cases.push(push(
            "inspection with a 10,000-character note",
            Some(&dev),
            body.into_bytes(),
            &[],
            Want::Rejected(codes::INVALID),
        ));
    }
    {
        // The cleaner's own phone and person: only the role is wrong.
        let body = push_text(h, &mut w.cleaner, |s| s);
        cases.push(push(
            "a cleaner submits an inspection",
            Some(&cleaner),
            body.into_bytes(),
            &[],
            Want::Rejected(codes::WRONG_ROLE),
        ));
    }

    let hh = *h.demo.households[0].id.as_uuid();
    for (name, field, value) in [
        ("a 10,000-character head name", "head_name", json!(long)),
        (
            "a location at latitude 1000",
            "location",
            json!({"lat": 1000.0, "lon": 112.0}),
        ),
        (
            "a head name that is a number, in conflict",
            "head_name",
            json!(42),
        ),
    ] {
        let m = h.mutations(
            &mut w.inspector,
            vec![(
                Op::UpdateFields {
                    entity: EntityKind::Household,
                    id: hh,
                    fields: [(field.to_owned(), value)].into_iter().collect(),
                },
                Some(0),
            )],
        );
        cases.push(push(
            &format!("household edit with {name}"),
            Some(&dev),
            serde_json::to_vec(&m).expect("json"),
            &[],
            Want::Rejected(codes::INVALID),
        ));
    }

    // --- pull and scopes ---------------------------------------------------------------------
    let pull = |name: &str, q: &str, want| {
        case(
            format!("pull: {name}"),
            req(
                "GET",
                &format!("/api/v1/sync/pull{q}"),
                &[dev_a],
                Body::empty(),
            ),
            want,
        )
    };
    let village = h.demo.villages[0].id;
    let other_village = h.demo.villages[1].id;
    cases.push(pull("no scope", "", bad));
    cases.push(pull(
        "after is negative",
        &format!("?scope=village:{village}&after=-1"),
        bad,
    ));
    cases.push(pull(
        "after is text",
        &format!("?scope=village:{village}&after=abc"),
        bad,
    ));
    cases.push(pull(
        "limit past u32",
        &format!("?scope=village:{village}&limit=99999999999999"),
        bad,
    ));
    cases.push(pull(
        "SQL in the scope",
        "?scope=village%3A%27%20OR%201%3D1%20--",
        Want::Api(403, codes::FORBIDDEN),
    ));
    cases.push(pull(
        "10,000-character scope",
        &format!("?scope=village:{long_ascii}"),
        Want::Api(403, codes::FORBIDDEN),
    ));
    cases.push(pull(
        "another village",
        &format!("?scope=village:{other_village}"),
        Want::Api(403, codes::FORBIDDEN),
    ));
    cases.push(pull(
        "path traversal in the scope",
        "?scope=..%2F..%2Fetc%2Fpasswd",
        Want::Api(403, codes::FORBIDDEN),
    ));
    cases.push(case(
        "pull: no token",
        req(
            "GET",
            &format!("/api/v1/sync/pull?scope=village:{village}"),
            &[],
            Body::empty(),
        ),
        unauth,
    ));
    cases.push(case(
        "scopes: SQL as the token",
        req(
            "GET",
            "/api/v1/sync/scopes",
            &[("authorization", &format!("Bearer {sql}"))],
            Body::empty(),
        ),
        unauth,
    ));
    cases.push(case(
        "scopes: a staff token is not a device token",
        req("GET", "/api/v1/sync/scopes", &[staff_a], Body::empty()),
        unauth,
    ));

    // --- admin -------------------------------------------------------------------------------
    let login = |name: &str, body: Vec<u8>, want| {
        case(
            format!("admin login: {name}"),
            req("POST", "/api/v1/admin/login", &[JSON_CT], body),
            want,
        )
    };
    cases.push(login("truncated JSON", b"{\"username\":".to_vec(), bad));
    cases.push(login(
        "100,000 nested arrays",
        nested_arrays(100_000).into_bytes(),
        bad,
    ));
    cases.push(login(
        "wrong types",
        br#"{"username": ["admin"], "password": {"$ne": null}}"#.to_vec(),
        bad,
    ));
    cases.push(login(
        "SQL in the user name",
        json!({"username": "admin' --", "password": sql})
            .to_string()
            .into_bytes(),
        unauth,
    ));
    cases.push(login(
        "10,000-character name and password",
        json!({"username": long, "password": long})
            .to_string()
            .into_bytes(),
        unauth,
    ));
    cases.push(login(
        "9 MiB body",
        nine_mib.clone(),
        Want::Api(413, codes::TOO_LARGE),
    ));
    let enrollments = |name: &str, auth: Option<(&str, &str)>, body: Json, want| {
        let mut hs = vec![JSON_CT];
        hs.extend(auth);
        case(
            format!("admin enrollments: {name}"),
            req("POST", "/api/v1/admin/enrollments", &hs, body.to_string()),
            want,
        )
    };
    let person = h.demo.inspector(0).id;
    cases.push(enrollments(
        "no token",
        None,
        json!({"person_id": person, "role": "INSPECTOR"}),
        unauth,
    ));
    cases.push(enrollments(
        "a device token",
        Some(dev_a),
        json!({"person_id": person, "role": "INSPECTOR"}),
        unauth,
    ));
    cases.push(enrollments(
        "person id not a uuid",
        Some(staff_a),
        json!({"person_id": sql, "role": "INSPECTOR"}),
        bad,
    ));
    cases.push(enrollments(
        "unknown role",
        Some(staff_a),
        json!({"person_id": person, "role": "superuser"}),
        bad,
    ));
    cases.push(enrollments(
        "unknown person",
        Some(staff_a),
        json!({"person_id": uuid::Uuid::from_u128(42), "role": "INSPECTOR"}),
        Want::Api(404, codes::NOT_FOUND),
    ));
    let revoke = |name: &str, id: &str, auth: &[(&str, &str)], want| {
        case(
            format!("revoke: {name}"),
            req(
                "POST",
                &format!("/api/v1/admin/devices/{id}/revoke"),
                auth,
                Body::empty(),
            ),
            want,
        )
    };
    cases.push(revoke("no token", &w.inspector.id.to_string(), &[], unauth));
    cases.push(revoke(
        "a device revokes itself",
        &w.inspector.id.to_string(),
        &[dev_a],
        unauth,
    ));
    cases.push(revoke(
        "path traversal",
        "..%2F..%2Fetc%2Fpasswd",
        &[staff_a],
        bad,
    ));
    cases.push(revoke(
        "SQL as the id",
        "1%27%20OR%201%3D1",
        &[staff_a],
        bad,
    ));
    cases.push(revoke("not UTF-8", "%FF%FE", &[staff_a], bad));
    cases.push(revoke(
        "unknown device",
        &uuid::Uuid::from_u128(99).to_string(),
        &[staff_a],
        Want::Api(404, codes::NOT_FOUND),
    ));

    // --- blobs and evidence ------------------------------------------------------------------
    for (name, id) in [
        ("path traversal", "..%2F..%2F..%2Fetc%2Fpasswd"),
        ("dot dot", ".."),
        ("non-hex", &"z".repeat(64)),
        ("upper-case hex", &"A".repeat(64)),
        ("63 digits", &"a".repeat(63)),
        ("65 digits", &"a".repeat(65)),
        ("NUL byte", "%00"),
        ("not UTF-8", "%FF%FE"),
        ("10,000 characters", &long_ascii),
    ] {
        cases.push(case(
            format!("blob HEAD: {name}"),
            req(
                "HEAD",
                &format!("/api/v1/blobs/{id}"),
                &[dev_a],
                Body::empty(),
            ),
            Want::Status(400),
        ));
        cases.push(case(
            format!("blob GET: {name}"),
            req(
                "GET",
                &format!("/api/v1/admin/blobs/{id}"),
                &[staff_a],
                Body::empty(),
            ),
            bad,
        ));
        cases.push(case(
            format!("dashboard photo: {name}"),
            req(
                "GET",
                &format!("/dashboard/photos/{id}"),
                &[cookie],
                Body::empty(),
            ),
            // A path that is not UTF-8 is refused before the handler reads it.
            Want::Page(
                400,
                if name == "not UTF-8" {
                    "bad_request"
                } else {
                    "bad_hash"
                },
            ),
        ));
    }
    cases.push(case(
        "blob HEAD: no token",
        req(
            "HEAD",
            &format!("/api/v1/blobs/{}", "a".repeat(64)),
            &[],
            Body::empty(),
        ),
        Want::Status(401),
    ));
    cases.push(case(
        "blob GET: a device token",
        req(
            "GET",
            &format!("/api/v1/admin/blobs/{}", "a".repeat(64)),
            &[dev_a],
            Body::empty(),
        ),
        unauth,
    ));
    for (name, id) in [
        ("path traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("SQL", "1%27%20OR%201%3D1"),
        ("not UTF-8", "%FF"),
    ] {
        cases.push(case(
            format!("evidence: {name}"),
            req(
                "GET",
                &format!("/api/v1/admin/facts/{id}/evidence"),
                &[staff_a],
                Body::empty(),
            ),
            bad,
        ));
    }
    cases.push(case(
        "evidence: unknown fact",
        req(
            "GET",
            &format!("/api/v1/admin/facts/{}/evidence", uuid::Uuid::from_u128(5)),
            &[staff_a],
            Body::empty(),
        ),
        Want::Api(404, codes::NOT_FOUND),
    ));
    cases.push(case(
        "openapi: wrong method",
        req("POST", "/api/v1/openapi.json", &[JSON_CT], "{}"),
        Want::Api(405, codes::BAD_REQUEST),
    ));
    cases.push(case(
        "openapi: path traversal next to it",
        req("GET", "/api/v1/..%2F..%2Fetc%2Fpasswd", &[], Body::empty()),
        Want::Api(404, codes::NOT_FOUND),
    ));

    // --- tus ---------------------------------------------------------------------------------
    let meta = format!("sha256 {}", STANDARD.encode("a".repeat(64)));
    let create = |name: &str, hs: &[(&str, &str)], want| {
        case(
            format!("tus POST: {name}"),
            req("POST", "/api/v1/uploads", hs, Body::empty()),
            want,
        )
    };
    let m = meta.as_str();
    cases.push(create(
        "no Tus-Resumable",
        &[dev_a, ("upload-length", "10"), ("upload-metadata", m)],
        Want::Api(412, codes::TUS_VERSION),
    ));
    cases.push(create(
        "Tus-Resumable 0.2.2",
        &[
            dev_a,
            ("tus-resumable", "0.2.2"),
            ("upload-length", "10"),
            ("upload-metadata", m),
        ],
        Want::Api(412, codes::TUS_VERSION),
    ));
    cases.push(create(
        "no token",
        &[tus, ("upload-length", "10"), ("upload-metadata", m)],
        unauth,
    ));
    cases.push(create(
        "no Upload-Length",
        &[tus, dev_a, ("upload-metadata", m)],
        bad,
    ));
    for (name, v) in [
        ("negative Upload-Length", "-1"),
        ("Upload-Length past u64", "99999999999999999999999"),
        ("Upload-Length in hex", "0x10"),
        ("Upload-Length with a space inside", "1 0"),
    ] {
        cases.push(create(
            name,
            &[tus, dev_a, ("upload-length", v), ("upload-metadata", m)],
            bad,
        ));
    }
    cases.push(create(
        "huge Upload-Length",
        &[
            tus,
            dev_a,
            ("upload-length", "9223372036854775807"),
            ("upload-metadata", m),
        ],
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(create(
        "two different Upload-Lengths",
        &[
            tus,
            dev_a,
            ("upload-length", "10"),
            ("upload-length", "33554432"),
            ("upload-metadata", m),
        ],
        bad,
    ));
    cases.push(create(
        "Upload-Defer-Length",
        &[
            tus,
            dev_a,
            ("upload-defer-length", "1"),
            ("upload-metadata", m),
        ],
        bad,
    ));
    cases.push(create(
        "no metadata",
        &[tus, dev_a, ("upload-length", "10")],
        bad,
    ));
    cases.push(create(
        "metadata not base64",
        &[
            tus,
            dev_a,
            ("upload-length", "10"),
            ("upload-metadata", "sha256 !!!"),
        ],
        bad,
    ));
    let traversal = format!("sha256 {}", STANDARD.encode("../../../../etc/passwd"));
    cases.push(create(
        "path traversal as the sha256",
        &[
            tus,
            dev_a,
            ("upload-length", "10"),
            ("upload-metadata", &traversal),
        ],
        bad,
    ));
    let sqlmeta = format!("sha256 {}", STANDARD.encode(sql));
    cases.push(create(
        "SQL as the sha256",
        &[
            tus,
            dev_a,
            ("upload-length", "10"),
            ("upload-metadata", &sqlmeta),
        ],
        bad,
    ));
    cases.push(create(
        "a photo nobody attested",
        &[tus, dev_a, ("upload-length", "10"), ("upload-metadata", m)],
        Want::Api(403, codes::NOT_REFERENCED),
    ));
    let dup = format!("{m},sha256 {}", STANDARD.encode("b".repeat(64)));
    cases.push(create(
        "sha256 twice in the metadata",
        &[
            tus,
            dev_a,
            ("upload-length", "10"),
            ("upload-metadata", &dup),
        ],
        bad,
    ));
    let up = w.upload.clone();
    let len = w.upload_len;
    let patch = |name: &str, path: &str, hs: &[(&str, &str)], body: Body, want| {
        case(
            format!("tus PATCH: {name}"),
            req("PATCH", path, hs, body),
            want,
        )
    };
    let random = format!("/api/v1/uploads/{}", uuid::Uuid::from_u128(77));
    cases.push(patch(
        "before the upload was created",
        &random,
        &[tus, dev_a, octet, ("upload-offset", "0")],
        Body::from(vec![1u8; 10]),
        Want::Api(404, codes::NOT_FOUND),
    ));
    for (name, id) in [
        ("path traversal as the id", "..%2F..%2Fetc%2Fpasswd"),
        ("non-hex id", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
        ("not UTF-8 id", "%FF%FE"),
        ("10,000-character id", &long_ascii),
    ] {
        // A path that is not UTF-8 is refused before the handler reads it (400); any other
        // id that is not one of this phone's uploads is unknown (404).
        let (status, code) = if id.starts_with('%') {
            (400, codes::BAD_REQUEST)
        } else {
            (404, codes::NOT_FOUND)
        };
        cases.push(patch(
            name,
            &format!("/api/v1/uploads/{id}"),
            &[tus, dev_a, octet, ("upload-offset", "0")],
            Body::from(vec![1u8; 10]),
            Want::Api(status, code),
        ));
        cases.push(case(
            format!("tus HEAD: {name}"),
            req(
                "HEAD",
                &format!("/api/v1/uploads/{id}"),
                &[tus, dev_a],
                Body::empty(),
            ),
            Want::Status(status),
        ));
        cases.push(case(
            format!("tus DELETE: {name}"),
            req(
                "DELETE",
                &format!("/api/v1/uploads/{id}"),
                &[tus, dev_a],
                Body::empty(),
            ),
            Want::Api(status, code),
        ));
    }
    cases.push(patch(
        "no Tus-Resumable",
        &up,
        &[dev_a, octet, ("upload-offset", "0")],
        Body::from(vec![1u8; 10]),
        Want::Api(412, codes::TUS_VERSION),
    ));
    cases.push(patch(
        "no Upload-Offset",
        &up,
        &[tus, dev_a, octet],
        Body::from(vec![1u8; 10]),
        bad,
    ));
    cases.push(patch(
        "negative Upload-Offset",
        &up,
        &[tus, dev_a, octet, ("upload-offset", "-1")],
        Body::from(vec![1u8; 10]),
        bad,
    ));
    cases.push(patch(
        "Upload-Offset ahead of the server",
        &up,
        &[tus, dev_a, octet, ("upload-offset", "5")],
        Body::from(vec![1u8; 10]),
        Want::Api(409, codes::OFFSET_MISMATCH),
    ));
    cases.push(patch(
        "two different Upload-Offsets",
        &up,
        &[
            tus,
            dev_a,
            octet,
            ("upload-offset", "0"),
            ("upload-offset", "5"),
        ],
        Body::from(vec![1u8; 10]),
        bad,
    ));
    cases.push(patch(
        "wrong content type",
        &up,
        &[
            tus,
            dev_a,
            ("content-type", "image/jpeg"),
            ("upload-offset", "0"),
        ],
        Body::from(vec![1u8; 10]),
        Want::Api(415, codes::UNSUPPORTED_MEDIA_TYPE),
    ));
    cases.push(patch(
        "md5 checksum",
        &up,
        &[
            tus,
            dev_a,
            octet,
            ("upload-offset", "0"),
            ("upload-checksum", "md5 AAAA"),
        ],
        Body::from(vec![1u8; 10]),
        bad,
    ));
    let wrong_sum = format!("sha256 {}", STANDARD.encode([0u8; 32]));
    cases.push(patch(
        "checksum does not match",
        &up,
        &[
            tus,
            dev_a,
            octet,
            ("upload-offset", "0"),
            ("upload-checksum", &wrong_sum),
        ],
        Body::from(vec![1u8; 10]),
        Want::Api(460, codes::CHECKSUM_MISMATCH),
    ));
    let too_long = (len + 1).to_string();
    cases.push(patch(
        "Content-Length past the upload",
        &up,
        &[
            tus,
            dev_a,
            octet,
            ("upload-offset", "0"),
            ("content-length", &too_long),
        ],
        Body::from(vec![1u8; (len + 1) as usize]),
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(patch(
        "a streamed body past the upload (no Content-Length)",
        &up,
        &[
            tus,
            dev_a,
            octet,
            ("upload-offset", "0"),
            ("upload-checksum", &wrong_sum),
        ],
        Body::from(vec![0u8; 1024 * 1024]),
        Want::Api(413, codes::TOO_LARGE),
    ));
    cases.push(patch(
        "another device's upload",
        &up,
        &[
            tus,
            ("authorization", &cleaner),
            octet,
            ("upload-offset", "0"),
        ],
        Body::from(vec![1u8; 10]),
        Want::Api(404, codes::NOT_FOUND),
    ));
    cases.push(case(
        "tus HEAD: another device's upload",
        req(
            "HEAD",
            &up,
            &[tus, ("authorization", &cleaner)],
            Body::empty(),
        ),
        Want::Status(404),
    ));
    cases.push(case(
        "tus DELETE: another device's upload",
        req(
            "DELETE",
            &up,
            &[tus, ("authorization", &cleaner)],
            Body::empty(),
        ),
        Want::Api(404, codes::NOT_FOUND),
    ));
    cases.push(case(
        "tus DELETE: no Tus-Resumable",
        req("DELETE", &up, &[dev_a], Body::empty()),
        Want::Api(412, codes::TUS_VERSION),
    ));
    cases.push(case(
        "tus OPTIONS: path traversal",
        req(
            "OPTIONS",
            "/api/v1/uploads/..%2F..%2Fetc",
            &[],
            Body::empty(),
        ),
        Want::Status(204),
    ));

    // --- dashboard ---------------------------------------------------------------------------
    let dash = |name: &str, path: &str, hs: &[(&str, &str)], body: Vec<u8>, want| {
        let mut all = vec![FORM_CT];
        all.extend_from_slice(hs);
        case(
            format!("dashboard: {name}"),
            req("POST", path, &all, body),
            want,
        )
    };
    let bad_login = Want::Page(401, "bad_login");
    cases.push(dash(
        "login with SQL",
        "/dashboard/login",
        &[],
        format!("username=admin%27+--&password={}", urlencode(sql)).into_bytes(),
        bad_login,
    ));
    cases.push(dash(
        "login with 10,000-character fields",
        "/dashboard/login",
        &[],
        format!("username={long_ascii}&password={long_ascii}").into_bytes(),
        bad_login,
    ));
    cases.push(dash(
        "login with bytes that are not UTF-8",
        "/dashboard/login",
        &[],
        vec![0xff, 0xfe, b'=', 0x80, b'&', 0xc3],
        Want::Page(400, "bad_request"),
    ));
    cases.push(dash(
        "login with a JSON body",
        "/dashboard/login",
        &[JSON_CT],
        br#"{"username":"admin","password":"correct horse battery"}"#.to_vec(),
        Want::Page(400, "bad_request"),
    ));
    cases.push(dash(
        "login with a 3 MiB body",
        "/dashboard/login",
        &[],
        vec![b'a'; 3 * 1024 * 1024],
        Want::Page(413, "too_large"),
    ));
    cases.push(dash(
        "login, gzip bomb",
        "/dashboard/login",
        &[("content-encoding", "gzip")],
        gzip_bomb(b'a', 64),
        Want::Page(400, "bad_request"),
    ));
    let forms = [
        "/dashboard/logout",
        "/dashboard/ranking/recompute",
        "/dashboard/ranking/publish",
        "/dashboard/appeals",
        "/dashboard/inputs",
        "/dashboard/schemes",
    ];
    for path in forms {
        cases.push(dash(
            &format!("{path} without a CSRF token"),
            path,
            &[cookie],
            b"period=2026-11".to_vec(),
            Want::Page(403, "csrf"),
        ));
        cases.push(dash(
            &format!("{path} with SQL as the CSRF token"),
            path,
            &[cookie],
            format!("csrf={}&period=2026-11", urlencode(sql)).into_bytes(),
            Want::Page(403, "csrf"),
        ));
        cases.push(dash(
            &format!("{path} with a 3 MiB body"),
            path,
            &[cookie],
            format!("csrf={csrf}&x={}", "a".repeat(3 * 1024 * 1024)).into_bytes(),
            Want::Page(413, "too_large"),
        ));
    }
    for (name, period) in [
        ("SQL", sql.to_owned()),
        ("10,000 characters", long.clone()),
        ("month 99", "2026-99".to_owned()),
        ("year 275760", "275760-01".to_owned()),
        ("nothing", String::new()),
    ] {
        cases.push(dash(
            &format!("recompute a period of {name}"),
            "/dashboard/ranking/recompute",
            &[cookie],
            format!("csrf={csrf}&period={}", urlencode(&period)).into_bytes(),
            Want::Page(400, "bad_period"),
        ));
    }
    let fact = uuid::Uuid::from_u128(5);
    for (name, id, comment, want) in [
        (
            "path traversal",
            "..%2F..%2Fetc",
            sql,
            Want::Page(400, "bad_request"),
        ),
        ("not UTF-8", "%FF%FE", sql, Want::Page(400, "bad_request")),
        (
            "an unknown fact",
            &fact.to_string(),
            sql,
            Want::Page(404, "not_found"),
        ),
        (
            "an unknown fact, 10,000-character comment",
            &fact.to_string(),
            long.as_str(),
            Want::Page(400, "bad_request"),
        ),
    ] {
        cases.push(dash(
            &format!("review of {name}"),
            &format!("/dashboard/facts/{id}/review"),
            &[cookie],
            format!("csrf={csrf}&comment={}", urlencode(comment)).into_bytes(),
            want,
        ));
    }
    for (name, path, want) in [
        (
            "household, path traversal",
            "/dashboard/households/..%2F..%2Fetc",
            Want::Page(400, "bad_id"),
        ),
        (
            "household, not UTF-8",
            "/dashboard/households/%FF%FE",
            Want::Page(400, "bad_request"),
        ),
        (
            "evidence, SQL",
            "/dashboard/facts/1%27%20OR%201%3D1/evidence",
            Want::Page(400, "bad_id"),
        ),
        (
            "logout by GET",
            "/dashboard/logout",
            Want::Page(405, "bad_request"),
        ),
    ] {
        cases.push(case(
            format!("dashboard: {name}"),
            req("GET", path, &[cookie], Body::empty()),
            want,
        ));
    }
    cases
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A good request that reads the database: the phone's scopes.
async fn still_serving(w: &World) -> Result<(), String> {
    let (s, body) =
        w.h.call("GET", "/api/v1/sync/scopes", Some(&w.inspector.token), None)
            .await;
    if s == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("scopes after it: {s} {body}"))
    }
}

fn check(want: Want, got: &Sent, dashboard: bool) -> Result<(), String> {
    let (status, code) = match want {
        Want::Api(s, c) | Want::Page(s, c) => (s, Some(c)),
        Want::Rejected(_) => (200, None),
        Want::Status(s) => (s, None),
    };
    if got.status.as_u16() != status {
        return Err(format!(
            "status {} (want {status}): {}",
            got.status,
            got.text()
        ));
    }
    if let Some(c) = code {
        if got.code() != c {
            return Err(format!(
                "code '{}' (want '{c}'): {}",
                got.code(),
                got.text()
            ));
        }
        let ct = got.content_type();
        let want_ct = if matches!(want, Want::Page(..)) || dashboard {
            "text/html"
        } else {
            "application/json"
        };
        if !ct.starts_with(want_ct) {
            return Err(format!("content type '{ct}', want {want_ct}"));
        }
    }
    if let Want::Rejected(c) = want {
        let r: PushResponse = serde_json::from_slice(&got.body)
            .map_err(|e| format!("not a push response ({e}): {}", got.text()))?;
        match r.results.as_slice() {
            [one] => match &one.status {
                MutationStatus::Rejected { code, .. } if code == c => {}
                other => return Err(format!("mutation {other:?}, want rejected {c}")),
            },
            other => return Err(format!("{} results, want 1", other.len())),
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_endpoint_refuses_hostile_input() {
    let mut w = world().await;
    // SQL metacharacters in a name are just text: stored verbatim (every query is
    // parameterised). This also gives the head name a version, so an edit based on version 0
    // below is a real conflict.
    let hh = *w.h.demo.households[0].id.as_uuid();
    let sql = "王'; DROP TABLE household; -- \" OR 1=1";
    let m = w.h.mutations(
        &mut w.inspector,
        vec![(
            Op::UpdateFields {
                entity: EntityKind::Household,
                id: hh,
                fields: [("head_name".to_owned(), json!(sql))].into_iter().collect(),
            },
            Some(1),
        )],
    );
    let (s, body) = w.h.push(&w.inspector, &m).await;
    assert_eq!(s, StatusCode::OK, "pushed: {body}");
    assert_eq!(body["results"][0]["status"], "applied", "applied: {body}");
    let stored =
        w.h.state
            .db
            .tx(|tx| {
                tx.query(
                    "SELECT row_json FROM record WHERE entity = 'household' AND id = $1",
                    &[Value::Text(hh.to_string())],
                )
            })
            .expect("record");
    let row: Json = serde_json::from_str(stored[0][0].text().expect("json")).expect("json");
    assert_eq!(row["head_name"], sql, "stored verbatim");
    let cases = all_cases(&mut w);
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    let total = cases.len();
    for c in cases {
        assert!(
            names.insert(c.name.clone()),
            "case names are unique: {}",
            c.name
        );
        let dashboard = c.req.uri().path().starts_with("/dashboard");
        let before = snapshot(&w.h, &w.data_dir);
        let got = send(&w.h, c.req).await;
        let mut problems = Vec::new();
        if let Err(e) = check(c.want, &got, dashboard) {
            problems.push(e);
        }
        let after = snapshot(&w.h, &w.data_dir);
        let mut changed = diff(&before, &after);
        if matches!(c.want, Want::Rejected(_)) {
            // A rejected mutation keeps its receipt and moves the device's last_seq: nothing else.
            changed.retain(|d| !d.starts_with("receipt:") && !d.starts_with("device:"));
            let receipts = after.tables["receipt"].len() - before.tables["receipt"].len();
            if receipts != 1 {
                problems.push(format!("{receipts} receipts stored, want 1"));
            }
        }
        if !changed.is_empty() {
            problems.push(format!("stored: {changed:?}"));
        }
        if let Err(e) = still_serving(&w).await {
            problems.push(e);
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", c.name, problems.join("; ")));
        }
    }
    assert!(
        total > 150,
        "the catalogue covers every endpoint: {total} cases"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} hostile cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The far-off times and impossible places never reached a page: every page still renders.
    for path in [
        "/dashboard/",
        "/dashboard/households",
        "/dashboard/map",
        "/dashboard/ranking",
        "/dashboard/audit",
    ] {
        let r = send(
            &w.h,
            req("GET", path, &[("cookie", &w.cookie)], Body::empty()),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path} renders after the attack: {}",
            r.text()
        );
    }
    assert_eq!(
        count(&w.h, "fact"),
        0,
        "no hostile inspection became a fact"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory: huge bodies over real HTTP.

/// Sends `head` (request line and headers, without the blank line) and a chunked body of
/// `mib` MiB of zeros over a real connection, stopping when the server answers or closes.
/// Returns the status and the answer's body.
async fn chunked_zeros(addr: std::net::SocketAddr, head: &str, mib: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!("{head}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        let chunk = vec![0u8; 64 * 1024];
        let frame = format!("{:x}\r\n", chunk.len());
        for _ in 0..mib * 16 {
            wr.write_all(frame.as_bytes()).await?;
            wr.write_all(&chunk).await?;
            wr.write_all(b"\r\n").await?;
        }
        wr.write_all(b"0\r\n\r\n").await?;
        Ok::<_, std::io::Error>(())
    });
    let mut got = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if got.windows(4).any(|w| w == b"\r\n\r\n") && got.len() > 12 {
                // Headers are in; the error bodies are small: give them a moment to arrive.
                let more = tokio::time::timeout(std::time::Duration::from_millis(500), async {
                    while let Ok(n) = rd.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                });
                let _ = more.await;
                break;
            }
        }
    })
    .await;
    writer.abort();
    assert!(read.is_ok(), "the server answers a {mib} MiB body");
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Runs a memory-measuring test alone in a child process (the test binary again, filtered to
/// `name`): the other tests of this binary run in parallel and would move the RSS.
/// Returns true in the parent, which has checked the child passed; false in the child.
fn in_own_process(name: &str) -> bool {
    const CHILD: &str = "CUNJIE_HOSTILE_MEMORY_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return false;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} in its own process:\n{text}"
    );
    true
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn huge_bodies_are_refused_without_memory_growth() {
    if in_own_process("hostile::huge_bodies_are_refused_without_memory_growth") {
        return;
    }
    runtime().block_on(huge_bodies());
}

async fn huge_bodies() {
    let w = world().await;
    let served = w.h.serve().await;
    let host = format!("Host: {}", served.addr);
    let auth = format!("Authorization: Bearer {}", w.inspector.token);
    // Warm up the allocator and the connection path with one small refusal.
    let _ = chunked_zeros(
        served.addr,
        &format!(
            "POST /api/v1/sync/push HTTP/1.1\r\n{host}\r\n{auth}\r\nContent-Type: application/json"
        ),
        1,
    )
    .await;
    let before_all = snapshot(&w.h, &w.data_dir);
    let base = rss_kib();
    let heads = [
        (
            "push, 200 MiB",
            format!(
                "POST /api/v1/sync/push HTTP/1.1\r\n{host}\r\n{auth}\r\nContent-Type: application/json"
            ),
            "too_large",
        ),
        (
            "enroll, 200 MiB",
            format!("POST /api/v1/enroll HTTP/1.1\r\n{host}\r\nContent-Type: application/json"),
            "too_large",
        ),
        (
            "tus PATCH, 200 MiB",
            format!(
                "PATCH {} HTTP/1.1\r\n{host}\r\n{auth}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream",
                w.upload
            ),
            "too_large",
        ),
        (
            "dashboard login, 200 MiB",
            format!(
                "POST /dashboard/login HTTP/1.1\r\n{host}\r\nContent-Type: application/x-www-form-urlencoded"
            ),
            "too_large",
        ),
    ];
    for (name, head, code) in heads {
        let (status, text) = chunked_zeros(served.addr, &head, 200).await;
        assert_eq!(
            status,
            413,
            "{name} is refused as too large: {}",
            &text[..text.len().min(300)]
        );
        assert!(
            text.contains(code),
            "{name} says {code}: {}",
            &text[..text.len().min(600)]
        );
        let grown = rss_kib().saturating_sub(base) / 1024;
        assert!(
            grown < 40,
            "{name}: the server's memory grew by {grown} MiB (RSS)"
        );
    }
    // A gzip bomb over the wire: 512 MiB of zeros in about half a MiB.
    let bomb = gzip_bomb(0, 512);
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}/api/v1/sync/push", served.url))
        .bearer_auth(&w.inspector.token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .expect("the bomb is answered");
    assert_eq!(r.status().as_u16(), 413, "a gzip bomb is too large");
    let grown = rss_kib().saturating_sub(base) / 1024;
    assert!(
        grown < 40,
        "gzip bomb: the server's memory grew by {grown} MiB (RSS)"
    );
    assert!(
        diff(&before_all, &snapshot(&w.h, &w.data_dir)).is_empty(),
        "nothing stored by huge bodies"
    );
    still_serving(&w)
        .await
        .expect("serving after the huge bodies");
}

// ---------------------------------------------------------------------------------------------
// Corrupt and bomb images.

/// A real JPEG whose frame header claims 65,500 × 65,500 pixels (a decompression bomb for any
/// decoder that trusts it).
fn bomb_jpeg() -> Vec<u8> {
    let mut j = crate::photos::jpeg(3, None);
    let sof = j
        .windows(2)
        .position(|w| w[0] == 0xFF && (w[1] == 0xC0 || w[1] == 0xC2))
        .expect("a frame header");
    // FFC0, length (2), precision (1), height (2), width (2).
    j[sof + 5..sof + 7].copy_from_slice(&65_500u16.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&65_500u16.to_be_bytes());
    j
}

/// A JPEG with an EXIF segment whose IFD claims 65,535 entries pointing past the end.
fn bad_exif_jpeg() -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&0xFFFFu16.to_le_bytes());
    tiff.extend_from_slice(&[
        0x32, 0x01, 2, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0xF0, 0xFF, 0xFF, 0xFF,
    ]);
    crate::photos::jpeg(4, Some(tiff))
}

#[test]
fn corrupt_and_bomb_images_are_kept_as_attested_without_decoding() {
    if in_own_process("hostile::corrupt_and_bomb_images_are_kept_as_attested_without_decoding") {
        return;
    }
    runtime().block_on(corrupt_images());
}

async fn corrupt_images() {
    let mut w = world().await;
    let served = w.h.serve().await;
    let tus = crate::photos::Tus::new(&served, &w.inspector);
    let subject = cunjie_domain::fact::Subject {
        kind: cunjie_domain::catalog::SubjectKind::Household,
        id: *w.h.demo.households[2].id.as_uuid(),
    };
    let taken = w.h.now() - Duration::minutes(3);
    let mut truncated = crate::photos::jpeg(5, None);
    truncated.truncate(truncated.len() / 3);
    let base = rss_kib();
    for (name, bytes) in [
        (
            "random bytes",
            (0..50_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect::<Vec<u8>>(),
        ),
        ("a truncated JPEG", truncated),
        ("a JPEG claiming 65,500 × 65,500 pixels", bomb_jpeg()),
        ("a JPEG with a corrupt EXIF directory", bad_exif_jpeg()),
        (
            "an HTML page",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
        ),
    ] {
        let s = crate::photos::shot(&w.inspector, bytes.clone(), subject, taken, None);
        attest_one(&w.h, &mut w.inspector, &s).await;
        let r = tus.upload_whole(&s).await;
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "{name}: the attested bytes are taken"
        );
        let grown = rss_kib().saturating_sub(base) / 1024;
        assert!(grown < 40, "{name}: memory grew by {grown} MiB");
        let stored =
            w.h.state
                .blobs
                .local_path(s.sha())
                .and_then(|p| std::fs::read(p).ok());
        assert_eq!(
            stored.as_deref(),
            Some(&bytes[..]),
            "{name}: stored byte for byte"
        );
        // The dashboard serves it as a JPEG that the browser may not sniff into anything else.
        let r = send(
            &w.h,
            req(
                "GET",
                &format!("/dashboard/photos/{}", s.sha().as_str()),
                &[("cookie", &w.cookie)],
                Body::empty(),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: served to staff");
        assert_eq!(r.content_type(), "image/jpeg", "{name}: as a JPEG");
        assert_eq!(
            r.headers
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{name}: never sniffed"
        );
    }
    still_serving(&w).await.expect("serving after the images");
}

// ---------------------------------------------------------------------------------------------
// R5 on the server: secrets stored hashed, security headers, revoked phones.

#[tokio::test]
async fn tokens_codes_and_passwords_are_stored_only_hashed() {
    let db_dir = tempfile::tempdir().expect("temp dir");
    let w = {
        let db = Db::open(&db_file(db_dir.path())).expect("db");
        Harness::new(db)
    };
    let inspector = w.demo.inspector(0).id;
    // An unused code, a used one (through a phone's enrollment), an API and a dashboard session.
    let unused = w
        .office
        .enrollment_code(inspector, Role::Inspector, 7)
        .expect("code");
    let code = w
        .office
        .enrollment_code(inspector, Role::Inspector, 7)
        .expect("code");
    let device_id: cunjie_domain::ids::DeviceId = w.new_id();
    let (s, body) = w
        .call(
            "POST",
            "/api/v1/enroll",
            None,
            Some(json!({"code": code, "device_id": device_id, "device_name": "phone"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "enrolled: {body}");
    let device_token = body["token"].as_str().expect("token").to_owned();
    let staff = staff_token(&w).await;
    let (cookie, _) = dashboard_login(&w).await;
    let session = cookie.trim_start_matches("cunjie_session=").to_owned();
    let (s, body) = w
        .call(
            "POST",
            "/api/v1/admin/enrollments",
            Some(&staff),
            Some(json!({"person_id": inspector, "role": "INSPECTOR"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a code by the API: {body}");
    let api_code = body["code"].as_str().expect("code").to_owned();
    let password = "correct horse battery";
    let secrets: Vec<(&str, String)> = vec![
        ("device token", device_token),
        ("API session token", staff),
        ("dashboard session token", session),
        ("used enrollment code", code),
        ("unused enrollment code", unused),
        ("enrollment code from the API", api_code),
        ("staff password", password.to_owned()),
    ];
    // Every forms a secret could take: as given, without dashes, lower case.
    let forms = |s: &str| {
        let plain = s.replace('-', "");
        vec![
            s.to_owned(),
            plain.clone(),
            plain.to_lowercase(),
            plain.to_uppercase(),
        ]
    };
    // Every text column of the secret-holding tables (and all the others too).
    for t in tables(&w) {
        let rows = w
            .state
            .db
            .tx(|tx| tx.query(&format!("SELECT * FROM {t}"), &[]))
            .expect("rows");
        for r in rows {
            for v in r {
                let Some(text) = v.text() else { continue };
                for (what, secret) in &secrets {
                    for f in forms(secret) {
                        assert!(
                            !text.contains(&f),
                            "the {what} appears in plain text in table {t}: {text}"
                        );
                    }
                }
            }
        }
    }
    for t in ["device", "staff", "staff_session", "enrollment_code"] {
        assert!(count(&w, t) > 0, "{t} has rows to inspect");
    }
    // And nowhere in the database file or its write-ahead log.
    w.state
        .db
        .tx(|tx| tx.exec("PRAGMA wal_checkpoint(TRUNCATE)", &[]).map(|_| ()))
        .ok();
    for entry in std::fs::read_dir(db_dir.path()).expect("db dir").flatten() {
        // The write-ahead log may be checkpointed away meanwhile.
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        for (what, secret) in &secrets {
            for f in forms(secret) {
                assert!(
                    !bytes.windows(f.len()).any(|w| w == f.as_bytes()),
                    "the {what} appears in {}",
                    entry.path().display()
                );
            }
        }
    }
}

fn has_security_headers(r: &Sent, what: &str) {
    let get = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}: nosniff");
    assert_eq!(get("x-frame-options"), "DENY", "{what}: no framing");
    assert!(
        get("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}: CSP forbids framing: {:?}",
        get("content-security-policy")
    );
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}: no referrer");
    assert!(!get("cache-control").is_empty(), "{what}: a cache policy");
}

#[tokio::test]
async fn api_and_dashboard_answers_carry_security_headers() {
    let w = world().await;
    let dev = format!("Bearer {}", w.inspector.token);
    for (what, r) in [
        (
            "openapi",
            req("GET", "/api/v1/openapi.json", &[], Body::empty()),
        ),
        ("health", req("GET", "/healthz", &[], Body::empty())),
        (
            "scopes",
            req(
                "GET",
                "/api/v1/sync/scopes",
                &[("authorization", &dev)],
                Body::empty(),
            ),
        ),
        (
            "an API error",
            req("POST", "/api/v1/enroll", &[JSON_CT], "{"),
        ),
        (
            "an unknown API path",
            req("GET", "/api/v1/nothing", &[], Body::empty()),
        ),
        (
            "tus OPTIONS",
            req("OPTIONS", "/api/v1/uploads", &[], Body::empty()),
        ),
        (
            "tus HEAD",
            req(
                "HEAD",
                &w.upload,
                &[("tus-resumable", "1.0.0"), ("authorization", &dev)],
                Body::empty(),
            ),
        ),
        (
            "the login page",
            req("GET", "/dashboard/login", &[], Body::empty()),
        ),
        (
            "the overview",
            req(
                "GET",
                "/dashboard/",
                &[("cookie", &w.cookie)],
                Body::empty(),
            ),
        ),
        (
            "a dashboard error",
            req(
                "GET",
                "/dashboard/photos/zz",
                &[("cookie", &w.cookie)],
                Body::empty(),
            ),
        ),
        (
            "the stylesheet",
            req("GET", "/dashboard/style.css", &[], Body::empty()),
        ),
    ] {
        let got = send(&w.h, r).await;
        assert!(got.status.as_u16() < 500, "{what}: {}", got.status);
        has_security_headers(&got, what);
    }
}

#[tokio::test]
async fn a_revoked_phone_gets_401_on_push_pull_and_upload() {
    let mut w = world().await;
    let staff = w.staff.clone();
    // A second photo attested before the revocation, so an upload would otherwise be allowed.
    let s = household_shot(&w.h, &w.inspector, 1, 9, 0.0, None);
    attest_one(&w.h, &mut w.inspector, &s).await;
    let (status, body) =
        w.h.call(
            "POST",
            &format!("/api/v1/admin/devices/{}/revoke", w.inspector.id),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "revoked: {body}");
    let before = snapshot(&w.h, &w.data_dir);
    let dev = format!("Bearer {}", w.inspector.token);
    let a = ("authorization", dev.as_str());
    let tus = ("tus-resumable", "1.0.0");
    let push = push_text(&w.h, &mut w.inspector, |s| s);
    let meta = format!("sha256 {}", STANDARD.encode(s.sha().as_str()));
    let len = s.bytes.len().to_string();
    let village = w.h.demo.villages[0].id;
    for (what, r) in [
        (
            "push",
            req("POST", "/api/v1/sync/push", &[a, JSON_CT], push),
        ),
        (
            "pull",
            req(
                "GET",
                &format!("/api/v1/sync/pull?scope=village:{village}"),
                &[a],
                Body::empty(),
            ),
        ),
        (
            "scopes",
            req("GET", "/api/v1/sync/scopes", &[a], Body::empty()),
        ),
        (
            "upload create",
            req(
                "POST",
                "/api/v1/uploads",
                &[a, tus, ("upload-length", &len), ("upload-metadata", &meta)],
                Body::empty(),
            ),
        ),
        (
            "upload PATCH",
            req(
                "PATCH",
                &w.upload,
                &[
                    a,
                    tus,
                    ("content-type", "application/offset+octet-stream"),
                    ("upload-offset", "0"),
                ],
                Body::from(vec![1u8; 10]),
            ),
        ),
        (
            "upload DELETE",
            req("DELETE", &w.upload, &[a, tus], Body::empty()),
        ),
        (
            "blob HEAD",
            req(
                "GET",
                &format!("/api/v1/blobs/{}", s.sha().as_str()),
                &[a],
                Body::empty(),
            ),
        ),
    ] {
        let got = send(&w.h, r).await;
        if what == "blob HEAD" {
            // GET on a HEAD route: the router's 405 comes before authentication.
            assert!(got.status.is_client_error(), "{what}: {}", got.status);
            continue;
        }
        assert_eq!(
            got.status,
            StatusCode::UNAUTHORIZED,
            "{what} by a revoked phone: {}",
            got.text()
        );
        assert_eq!(got.code(), codes::UNAUTHORISED, "{what}: stable code");
    }
    let got = send(
        &w.h,
        req(
            "HEAD",
            &format!("/api/v1/blobs/{}", s.sha().as_str()),
            &[a],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(
        got.status,
        StatusCode::UNAUTHORIZED,
        "blob HEAD by a revoked phone"
    );
    let got = send(&w.h, req("HEAD", &w.upload, &[a, tus], Body::empty())).await;
    assert_eq!(
        got.status,
        StatusCode::UNAUTHORIZED,
        "upload HEAD by a revoked phone"
    );
    assert!(
        diff(&before, &snapshot(&w.h, &w.data_dir)).is_empty(),
        "a revoked phone stores nothing"
    );
}
