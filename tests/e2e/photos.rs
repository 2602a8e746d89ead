//! Photo evidence end to end: a real server on 127.0.0.1, a phone with the real capture
//! pipeline and sync engine, and a proxy between them that cuts the link.

use std::sync::Arc;

use cunjie_device::capture_photo;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::PhotoHash;
use cunjie_domain::person::Role;
use cunjie_e2e::evidence::render_camera_jpeg;
use cunjie_e2e::phone::Phone;
use cunjie_e2e::proxy::{CutProxy, Rng};
use cunjie_e2e::server::TestServer;
use cunjie_media::Policy;
use cunjie_store::PhotoState;

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at(2026, 11, 18, 1, 5, 0))
}

/// The seed of a randomised run: `CUNJIE_SEED` replays one.
fn seed() -> u64 {
    let seed = std::env::var("CUNJIE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_130);
    eprintln!("seed {seed} (replay with CUNJIE_SEED={seed})");
    seed
}

/// An inspector's phone enrolled through `url` (the proxy or the server).
async fn inspector(server: &TestServer, url: &str) -> Phone {
    let phone = Phone::http(url, clock());
    let who = server.demo.inspector(0).id;
    phone
        .engine
        .enroll(url, &server.code(who, Role::Inspector), "红米 12C")
        .await
        .expect("enrolls");
    phone.engine.sync_once().await.expect("first sync");
    phone
}

/// Takes `n` camera-sized photos of the first household of the inspector's village.
fn photos(server: &TestServer, phone: &Phone, n: u32, seed: u64) -> Vec<PhotoHash> {
    let ctx = server.first_household_photo();
    (0..n)
        .map(|i| {
            let camera = render_camera_jpeg(seed as u32 + i, 2000, 1500);
            capture_photo(&mut phone.store(), &camera, &ctx, &Policy::default()).expect("captured")
        })
        .collect()
}

/// The bytes the server keeps for a photo, fetched as the township office would.
async fn server_copy(server: &TestServer, sha: &PhotoHash) -> Vec<u8> {
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{}/api/v1/admin/login", server.url))
        .json(&serde_json::json!({"username": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("session");
    let token = login["token"].as_str().expect("token");
    let resp = client
        .get(format!("{}/api/v1/admin/blobs/{sha}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("blob");
    assert_eq!(resp.status(), 200, "the server has photo {sha}");
    resp.bytes().await.expect("bytes").to_vec()
}

fn local_copy(phone: &Phone, sha: &PhotoHash) -> Vec<u8> {
    let s = phone.store();
    let row = s.photo(sha).expect("row");
    std::fs::read(s.photo_file(&row.local_path)).expect("local file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_cut_at_a_hundred_random_offsets_arrive_byte_identical() {
    let seed = seed();
    let server = TestServer::start(1, 1, 4);
    let proxy = CutProxy::start(server.addr()).expect("proxy");
    let phone = inspector(&server, &proxy.url()).await;
    let shots = photos(&server, &phone, 3, seed);
    let bytes: u64 = shots
        .iter()
        .map(|h| local_copy(&phone, h).len() as u64)
        .sum();
    // Cuts at random offsets of each connection's upload stream, small enough that every
    // photo is cut many times over.
    let mut rng = Rng::new(seed);
    let per_cut = (bytes / 150).max(1);
    proxy.plan_cuts((0..100).map(|_| 1 + rng.below(2 * per_cut)));
    let up_before = proxy.up();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 2_000, "no progress after {runs} syncs (seed {seed})");
        let _ = phone.engine.sync_once().await;
        let done = shots
            .iter()
            .all(|h| phone.store().photo(h).expect("row").state == PhotoState::Done);
        if done {
            break;
        }
    }
    let sent = proxy.up() - up_before;
    eprintln!(
        "{} photos, {bytes} bytes, {} cuts, {runs} syncs, {sent} bytes up ({:.3} per photo byte)",
        shots.len(),
        proxy.cuts(),
        sent as f64 / bytes as f64
    );
    assert_eq!(
        proxy.cuts(),
        100,
        "every planned cut happened during the uploads (seed {seed})"
    );
    for h in &shots {
        assert_eq!(
            server_copy(&server, h).await,
            local_copy(&phone, h),
            "photo {h} is byte-identical on the server (seed {seed})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_the_server_already_holds_costs_no_photo_bytes() {
    let server = TestServer::start(1, 1, 4);
    let proxy = CutProxy::start(server.addr()).expect("proxy");
    let phone = inspector(&server, &proxy.url()).await;
    let shot = photos(&server, &phone, 1, 7).remove(0);
    let size = local_copy(&phone, &shot).len() as u64;
    let first = phone.engine.sync_once().await.expect("sync");
    assert_eq!(first.photos_uploaded, 1, "uploaded once");
    // The phone loses the confirmation (restored from a backup, say) and tries again.
    phone.store().upload_reset(&shot).expect("forget");
    let before = proxy.up();
    let again = phone.engine.sync_once().await.expect("sync");
    let sent = proxy.up() - before;
    assert_eq!(again.photos_deduplicated, 1, "answered by the blob check");
    assert_eq!(again.photo_bytes_sent, 0, "no photo bytes");
    assert!(
        sent < 4_096 && sent < size / 20,
        "only small requests went up: {sent} bytes for a {size}-byte photo"
    );
    assert_eq!(
        phone.store().photo(&shot).expect("row").state,
        PhotoState::Done,
        "done"
    );
}
