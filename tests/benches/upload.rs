//! Photo upload over a link that is cut at random byte offsets: bytes put on the wire per photo
//! byte, syncs needed and time, for several cut rates. A real server on 127.0.0.1, a phone with
//! the real capture pipeline and sync engine, and the cutting proxy between them.
//!
//! `cargo bench -p cunjie-e2e --bench upload` (`CUNJIE_SEED=n` replays a run).
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use cunjie_device::capture_photo;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::person::Role;
use cunjie_e2e::evidence::render_camera_jpeg;
use cunjie_e2e::phone::Phone;
use cunjie_e2e::proxy::{CutProxy, Rng};
use cunjie_e2e::server::TestServer;
use cunjie_media::Policy;
use cunjie_store::PhotoState;

const PHOTOS: u32 = 12;

struct Row {
    label: &'static str,
    cuts: u64,
    photo_bytes: u64,
    up: u64,
    syncs: u32,
    secs: f64,
}

async fn run(label: &'static str, every: Option<u64>, seed: u64) -> Row {
    let server = TestServer::start(1, 1, 4);
    let proxy = CutProxy::start(server.addr()).expect("proxy");
    let phone = Phone::http(&proxy.url(), Arc::new(FakeClock::at(2026, 11, 18, 1, 5, 0)));
    let who = server.demo.inspector(0).id;
    phone
        .engine
        .enroll(&proxy.url(), &server.code(who, Role::Inspector), "bench")
        .await
        .expect("enrolls");
    phone.engine.sync_once().await.expect("first sync");
    let ctx = server.first_household_photo();
    let mut shots = Vec::new();
    let mut photo_bytes = 0;
    for i in 0..PHOTOS {
        let camera = render_camera_jpeg(seed as u32 + i, 2000, 1500);
        let mut s = phone.store();
        let sha = capture_photo(&mut s, &camera, &ctx, &Policy::default()).expect("captured");
        photo_bytes += s.photo(&sha).expect("row").size;
        shots.push(sha);
    }
    if let Some(every) = every {
        // One cut, on average, every `every` bytes the phone sends.
        let mut rng = Rng::new(seed);
        let n = photo_bytes / every + 1;
        proxy.plan_cuts((0..n).map(|_| 1 + rng.below(2 * every)));
    }
    let up0 = proxy.up();
    let t0 = Instant::now();
    let mut syncs = 0;
    loop {
        syncs += 1;
        let _ = phone.engine.sync_once().await;
        let s = phone.store();
        if shots
            .iter()
            .all(|h| s.photo(h).expect("row").state == PhotoState::Done)
        {
            break;
        }
        assert!(syncs < 5_000, "no progress (seed {seed})");
    }
    Row {
        label,
        cuts: proxy.cuts(),
        photo_bytes,
        up: proxy.up() - up0,
        syncs,
        secs: t0.elapsed().as_secs_f64(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seed = std::env::var("CUNJIE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_130);
    println!(
        "photo upload under random cuts · {PHOTOS} photos of 2000×1500 camera JPEGs → 1600 px derivatives · seed {seed}"
    );
    let mut rows = Vec::new();
    for (label, every) in [
        ("no cuts", None),
        ("a cut per 256 KiB", Some(256 * 1024)),
        ("a cut per 64 KiB", Some(64 * 1024)),
        ("a cut per 16 KiB", Some(16 * 1024)),
    ] {
        rows.push(run(label, every, seed).await);
    }
    println!(
        "{:<20} {:>6} {:>12} {:>12} {:>10} {:>7} {:>8}",
        "link", "cuts", "photo bytes", "bytes up", "up/photo", "syncs", "seconds"
    );
    for r in rows {
        println!(
            "{:<20} {:>6} {:>12} {:>12} {:>10.3} {:>7} {:>8.2}",
            r.label,
            r.cuts,
            r.photo_bytes,
            r.up,
            r.up as f64 / r.photo_bytes as f64,
            r.syncs,
            r.secs
        );
    }
    println!(
        "bytes up include every request: blob checks, tus HEAD/POST/PATCH headers, pushes and pulls."
    );
}
