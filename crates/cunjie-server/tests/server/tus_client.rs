//! A standard tus client against the real server: the official Python client, tuspy
//! (`pip install tuspy`), uploads an attested photo in checksummed chunks. Backend independent,
//! so it runs once, on SQLite.

use axum::http::StatusCode;
use cunjie_domain::person::Role;

use crate::harness::Harness;
use crate::photos::{Tus, attest_one, household_shot};

#[tokio::test]
async fn a_standard_tus_client_uploads_a_photo() {
    let import = std::process::Command::new("python3")
        .args(["-c", "import tusclient"])
        .output()
        .expect("python3 runs");
    assert!(
        import.status.success(),
        "the official tus client is missing: run `pip install tuspy` ({})",
        String::from_utf8_lossy(&import.stderr).trim()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .expect("db");
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 61, 0.0, Some(chrono::Duration::zero()));
    attest_one(&h, &mut phone, &photo).await;
    let file = dir.path().join("photo.jpg");
    std::fs::write(&file, &photo.bytes).expect("photo file");
    let served = h.serve().await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/server/tus_client.py");
    let args = [
        script.display().to_string(),
        format!("{}/api/v1/uploads", served.url),
        phone.token.clone(),
        file.display().to_string(),
        photo.sha().to_string(),
    ];
    // The client blocks; the server keeps running on this test's runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(&args)
            .env("NO_PROXY", "*")
            .output()
    })
    .await
    .expect("joined")
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "tuspy uploaded: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        url.contains("/api/v1/uploads/"),
        "tuspy followed the Location: {url}"
    );
    let tus = Tus::new(&served, &phone);
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::OK,
        "stored"
    );
    assert_eq!(
        std::fs::read(h.state.blobs.local_path(photo.sha()).expect("local")).expect("blob"),
        photo.bytes,
        "byte-identical"
    );
}
