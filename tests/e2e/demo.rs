//! The README's demo command works and tells the right story.

use std::process::Command;

use cunjie_e2e::evidence::sha256_hex;

#[test]
fn demo_runs_and_prints_scores_under_scheme_t() {
    let dir = tempfile::tempdir().expect("dir");
    let url_file = dir.path().join("url.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_cunjie-demo"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--no-app")
        .arg("--print-url-file")
        .arg(&url_file)
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo exits 0; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("得分 score 82.00 / 100.00"),
        "household score 100 − 10 − 8: {stdout}"
    );
    assert!(
        stdout.contains("D-ROAD-PATROL      2     -20.00"),
        "two patrol lapses at −10: {stdout}"
    );
    assert!(stdout.contains("净额 net: ¥945.00"), "1000 − 55: {stdout}");
    assert!(
        stdout.contains("6 条记录 records, 4 张照片 photos"),
        "two inspections and four photo attestations wait in the outbox: {stdout}"
    );

    // Then the simulated month so far, the dashboard's address and the ranking.
    assert!(
        stdout.contains("16 部手机 phones"),
        "every cleaner and inspector works on a phone: {stdout}"
    );
    // Early in a month the ranking may have ties (no re-check yet), so only its lines count.
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("第 ") && l.contains("名"))
            .count(),
        4,
        "the four villages ranked: {stdout}"
    );
    let lines: Vec<String> = std::fs::read_to_string(&url_file)
        .expect("the URL file is written when the server is ready")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 4, "URL, user, password, period: {lines:?}");
    assert!(
        stdout.contains(&format!("{}/dashboard/", lines[0]))
            && lines[0].starts_with("http://127.0.0.1:"),
        "the dashboard's address on 127.0.0.1: {stdout}"
    );
    assert!(
        stdout.contains(&format!("admin / {}", lines[2])),
        "and its login: {stdout}"
    );
    assert!(
        dir.path().join("phone/cunjie.db").is_file(),
        "a real SQLite file on the phone"
    );
    assert!(
        dir.path().join("server/cunjie-server.db").is_file(),
        "and one on the server"
    );
    assert!(
        stdout.contains("4 张照片续传上传 uploaded by tus"),
        "the four photos reach the server: {stdout}"
    );
    assert_eq!(
        stdout
            .matches("stored · 哈希 hash ✓ · 签名 signature ✓")
            .count(),
        4,
        "each photo is stored with its hash and signature verified: {stdout}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("phone/photos"))
        .expect("photos dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    let (thumbs, photos): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|p| p.to_string_lossy().ends_with(".thumb.jpg"));
    assert_eq!(photos.len(), 4, "four evidence photos, no temp files left");
    assert_eq!(thumbs.len(), 4, "each with its thumbnail");
    assert_eq!(
        std::fs::read_dir(dir.path().join("phone/photos/originals"))
            .expect("originals dir")
            .count(),
        0,
        "the originals are released once the server confirmed the photos"
    );
    for p in photos {
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(
            &bytes[..3],
            &[0xFF, 0xD8, 0xFF],
            "{} is a JPEG",
            p.display()
        );
        let name = p.file_stem().expect("stem").to_string_lossy().to_string();
        assert_eq!(sha256_hex(&bytes).as_str(), name, "named by its SHA-256");
    }
}

#[test]
fn demo_refuses_unknown_arguments_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_cunjie-demo"))
        .arg("--frobnicate")
        .output()
        .expect("runs");
    assert!(!out.status.success(), "unknown argument fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown argument '--frobnicate'"),
        "and says which"
    );
}
