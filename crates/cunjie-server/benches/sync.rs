//! Sync benchmarks on a real server over real HTTP on 127.0.0.1, for SQLite and PostgreSQL:
//! push ingest (batches of 200), push latency with 300 concurrent devices, bytes on the wire
//! for one inspection, and the first pull of a 600-household village.
//!
//! `cargo bench -p cunjie-server --bench sync`
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the test binary; the bench uses part of it"
)]
#[path = "../tests/server/pg_launcher.rs"]
mod pg_launcher;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::{Clock, SystemClock};
use cunjie_domain::fact::{FactStatus, GeoFix, Inspection, ItemResult, PhotoHash, Subject};
use cunjie_domain::hlc::HlcClock;
use cunjie_domain::ids::{DeviceId, IdGen};
use cunjie_domain::person::Role;
use cunjie_domain::template::presets;
use cunjie_protocol::SCHEMA_VERSION;
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, Mutation, Op, PullPage, PushRequest, ScopeList,
};
use cunjie_server::demo::{DemoTownship, demo_township};
use cunjie_server::{AppState, Blobs, Db, Township};

struct Device {
    id: DeviceId,
    token: String,
    hlc: HlcClock,
    seq: u64,
}

struct Bench {
    url: String,
    demo: DemoTownship,
    office: Township,
    ids: Arc<IdGen<SystemClock>>,
    client: reqwest::Client,
}

impl Bench {
    async fn enroll(&self) -> Device {
        let person = self.demo.inspector(0).id;
        let code = self
            .office
            .enrollment_code(person, Role::Inspector, 7)
            .expect("code");
        let id: DeviceId = self.ids.next();
        let req = EnrollRequest {
            code,
            device_id: id,
            device_name: "bench".into(),
            public_key: None,
        };
        let resp: EnrollResponse = self
            .client
            .post(format!("{}/api/v1/enroll", self.url))
            .json(&req)
            .send()
            .await
            .expect("enroll")
            .json()
            .await
            .expect("json");
        Device {
            id,
            token: resp.token,
            hlc: HlcClock::new(id),
            seq: 1,
        }
    }

    fn inspection(&self, dev: &Device, n: usize) -> Inspection {
        let t = presets::household_sanbao();
        let hh = &self.demo.households[n % self.demo.households.len()];
        let now = SystemClock.now();
        let subject = Subject {
            kind: SubjectKind::Household,
            id: *hh.id.as_uuid(),
        };
        let mut insp = Inspection::start(
            self.ids.next(),
            t.reference(),
            subject,
            hh.village,
            self.demo.inspector(0).id,
            dev.id,
            now,
        );
        insp.fix = hh.location.map(|point| GeoFix {
            point,
            accuracy_m: 6.0,
            fix_time: Some(now),
            mock: false,
        });
        let photo = |c: char| -> PhotoHash { c.to_string().repeat(64).parse().expect("hex") };
        insp.answer(ItemResult {
            note: Some("房前塑料袋散落".into()),
            ..ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo('a')])
        });
        insp.answer(ItemResult {
            note: Some("柴草堆在路边".into()),
            ..ItemResult::fail("HH_CLUTTER", 1, vec![photo('b')])
        });
        insp.pass_remaining(&t);
        insp.submitted_at = Some(now);
        insp.status = FactStatus::Submitted;
        insp
    }

    fn batch(&self, dev: &mut Device, n: usize) -> PushRequest {
        let mutations = (0..n)
            .map(|k| {
                let insp = self.inspection(dev, dev.seq as usize + k);
                let m = Mutation {
                    device_id: dev.id,
                    seq: dev.seq,
                    mutation_id: self.ids.next(),
                    base_version: None,
                    hlc: dev.hlc.tick(&SystemClock).packed(),
                    schema_version: SCHEMA_VERSION,
                    device_time: None,
                    payload: Op::SubmitInspection {
                        inspection: Box::new(insp),
                    },
                };
                dev.seq += 1;
                m
            })
            .collect();
        PushRequest {
            mutations,
            sent_at: None,
        }
    }

    async fn push(&self, dev: &Device, req: &PushRequest) -> usize {
        let enc = cunjie_protocol::body::encode_json(req).expect("encodes");
        let mut r = self
            .client
            .post(format!("{}/api/v1/sync/push", self.url))
            .bearer_auth(&dev.token)
            .header("content-type", "application/json");
        if enc.gzip {
            r = r.header("content-encoding", "gzip");
        }
        let resp = r.body(enc.bytes).send().await.expect("push");
        assert!(
            resp.status().is_success(),
            "push accepted: {}",
            resp.status()
        );
        resp.bytes().await.expect("body").len()
    }

    /// GET with gzip; returns (compressed bytes on the wire, decoded JSON bytes).
    async fn get_gzip(&self, dev: &Device, path: &str) -> (usize, Vec<u8>) {
        let resp = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&dev.token)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("get");
        let gz = resp
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "gzip");
        let wire = resp.bytes().await.expect("body").to_vec();
        let raw = if gz {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&wire[..])
                .read_to_end(&mut out)
                .expect("gunzip");
            out
        } else {
            wire.clone()
        };
        (wire.len(), raw)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(label: &str, db: Db) {
    let demo = demo_township(1, 30, 600);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let blobs = tempfile::tempdir().expect("blob dir");
    let office = Township::init(
        db.clone(),
        clock.clone(),
        &demo.township,
        "admin",
        "correct horse battery",
    )
    .expect("township");
    demo.seed(&office).expect("seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cunjie_server::serve(
        listener,
        AppState::new(db, clock, Blobs::local(blobs.path()).expect("blob folders")),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::builder()
        .no_gzip()
        .pool_max_idle_per_host(400)
        .build()
        .expect("client");
    let b = Bench {
        url,
        demo,
        office,
        ids: Arc::new(IdGen::new(SystemClock)),
        client,
    };
    println!("\n== {label} ==");

    // 4 first: the first pull of the village by a fresh phone.
    let dev = b.enroll().await;
    let start = Instant::now();
    let (wire, raw) = b.get_gzip(&dev, "/api/v1/sync/scopes").await;
    let scopes: ScopeList = serde_json::from_slice(&raw).expect("scopes");
    let (mut wire_total, mut raw_total, mut changes) = (wire, raw.len(), 0usize);
    for s in &scopes.scopes {
        let mut after = 0;
        loop {
            let (w, raw) = b
                .get_gzip(
                    &dev,
                    &format!(
                        "/api/v1/sync/pull?scope={}&after={after}&limit=500",
                        s.scope
                    ),
                )
                .await;
            let page: PullPage = serde_json::from_slice(&raw).expect("page");
            wire_total += w;
            raw_total += raw.len();
            changes += page.changes.len();
            after = page.next_after;
            if page.up_to_date {
                break;
            }
        }
    }
    println!(
        "first pull (1 village: {} households, {} zones, {} facilities; {} changes): {:.1} KiB on the wire (gzip), {:.1} KiB JSON, {:.0} ms",
        b.demo.households.len(),
        b.demo.zones.len(),
        b.demo.facilities.len(),
        changes,
        wire_total as f64 / 1024.0,
        raw_total as f64 / 1024.0,
        start.elapsed().as_secs_f64() * 1e3
    );

    // 3: bytes on the wire for one inspection with 12 items and 2 findings.
    let mut one = b.enroll().await;
    let req = b.batch(&mut one, 1);
    let json = serde_json::to_vec(&req).expect("json");
    let enc = cunjie_protocol::body::encode_json(&req).expect("enc");
    let resp_len = b.push(&one, &req).await;
    println!(
        "one inspection (12 items, 2 findings) push: {} B JSON, {} B sent ({}), response {} B",
        json.len(),
        enc.bytes.len(),
        if enc.gzip { "gzip" } else { "plain" },
        resp_len
    );

    // 1: ingest, one device, batches of 200.
    let mut dev = b.enroll().await;
    let batches: Vec<PushRequest> = (0..15).map(|_| b.batch(&mut dev, 200)).collect();
    let start = Instant::now();
    for req in &batches {
        b.push(&dev, req).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = batches.len() * 200;
    println!(
        "push ingest: {n} mutations in batches of 200: {:.0} mutations/s, {:.0} ms per batch",
        n as f64 / secs,
        secs * 1e3 / batches.len() as f64
    );

    // 2: 300 concurrent devices, 5 batches of 5 each.
    let mut devices = Vec::new();
    for _ in 0..300 {
        devices.push(b.enroll().await);
    }
    let b = Arc::new(b);
    let start = Instant::now();
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|mut dev| {
            let b = b.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                for _ in 0..5 {
                    let req = b.batch(&mut dev, 5);
                    let t = Instant::now();
                    b.push(&dev, &req).await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "300 concurrent devices × 5 pushes of 5: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {:.0} mutations/s overall",
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.95).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().expect("some").as_secs_f64() * 1e3,
        (lat.len() * 5) as f64 / secs
    );
    let _ = stop.send(());
    server.await.expect("join").expect("served");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Db::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .expect("sqlite");
    rt.block_on(run("SQLite (file, WAL, synchronous=FULL)", sqlite));
    let (_pg, pg) = pg_launcher::fresh_pg_db();
    rt.block_on(run("PostgreSQL (local, fsync=off test server)", pg));
}
