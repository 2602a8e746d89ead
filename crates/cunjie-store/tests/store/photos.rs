//! Photos: files durable before their row, row and attestation in one transaction, the
//! sweeper, and the upload bookkeeping the sync engine relies on.

use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{PhotoAttestation, PhotoHash, Subject};
use cunjie_protocol::v1::Op;
use cunjie_store::{NewPhoto, PhotoState, StoreError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::common::{Fixture, count, exec};

fn hex(bytes: &[u8]) -> PhotoHash {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .parse()
        .expect("hex")
}

fn attestation(f: &Fixture, bytes: &[u8]) -> PhotoAttestation {
    PhotoAttestation {
        sha256: hex(bytes),
        size: bytes.len() as u64,
        taken_at: f.now(),
        fix: None,
        subject: Subject {
            kind: SubjectKind::Household,
            id: Uuid::from_u128(0x3e9),
        },
        device_id: f.store.device_id(),
    }
}

fn save(f: &mut Fixture, bytes: &[u8]) -> Result<PhotoHash, StoreError> {
    let a = attestation(f, bytes);
    f.store.save_photo(NewPhoto {
        derivative: bytes,
        thumbnail: b"thumbnail",
        original: Some(b"the camera's original"),
        attestation: a,
        signature: "c2ln".into(),
    })
}

fn files(f: &Fixture) -> Vec<String> {
    let mut names = Vec::new();
    for dir in [
        f.dir.path().join("photos"),
        f.dir.path().join("photos/originals"),
    ] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries {
                let e = e.expect("entry");
                if e.file_type().expect("type").is_file() {
                    names.push(e.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    names.sort();
    names
}

#[test]
fn a_saved_photo_has_its_files_its_row_and_one_attestation_in_the_outbox() {
    let mut f = Fixture::new(1);
    let sha = save(&mut f, b"derivative one").expect("saved");
    let row = f.store.photo(&sha).expect("row");
    assert_eq!(row.state, PhotoState::Pending, "waiting for upload");
    assert_eq!(
        std::fs::read(f.store.photo_file(&row.local_path)).expect("file"),
        b"derivative one",
        "the derivative is on disk under its hash"
    );
    let pending = f.store.pending_mutations(10).expect("outbox");
    assert_eq!(pending.len(), 1, "one outbox row");
    assert!(
        matches!(&pending[0].payload, Op::AttestPhoto { attestation, .. } if attestation.sha256 == sha),
        "the attestation of this photo"
    );
    save(&mut f, b"derivative one").expect("the same photo again");
    assert_eq!(
        f.store.pending_mutations(10).expect("outbox").len(),
        1,
        "saving the same photo twice changes nothing"
    );
    assert_eq!(count(&f.path(), "photo"), 1, "one row");
}

#[test]
fn a_photo_that_does_not_match_its_attestation_is_refused_and_nothing_is_written() {
    let mut f = Fixture::new(1);
    let mut a = attestation(&f, b"what was signed");
    a.size += 1;
    let err = f
        .store
        .save_photo(NewPhoto {
            derivative: b"what was signed",
            thumbnail: b"t",
            original: None,
            attestation: a,
            signature: "c2ln".into(),
        })
        .expect_err("size differs");
    assert!(matches!(err, StoreError::PhotoMismatch(_)), "{err:?}");
    let other = attestation(&f, b"other bytes");
    let err = f
        .store
        .save_photo(NewPhoto {
            derivative: b"tampered bytes",
            thumbnail: b"t",
            original: None,
            attestation: other,
            signature: "c2ln".into(),
        })
        .expect_err("hash differs");
    assert!(matches!(err, StoreError::PhotoMismatch(_)), "{err:?}");
    assert!(files(&f).is_empty(), "no files");
    assert_eq!(count(&f.path(), "photo"), 0, "no rows");
    assert_eq!(count(&f.path(), "outbox"), 0, "no outbox rows");
}

#[test]
fn a_capture_that_fails_before_its_row_commits_leaves_only_orphans_the_sweeper_removes() {
    let mut f = Fixture::new(1);
    let kept = save(&mut f, b"kept photo").expect("saved");
    exec(
        &f.path(),
        "CREATE TRIGGER inject_fault BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
    );
    save(&mut f, b"interrupted photo").expect_err("the outbox insert fails");
    exec(&f.path(), "DROP TRIGGER inject_fault;");
    let interrupted = hex(b"interrupted photo");
    assert!(
        f.store.photo(&interrupted).is_err(),
        "no row for the interrupted capture"
    );
    assert_eq!(count(&f.path(), "outbox"), 1, "only the first attestation");
    // A temp file left by a crash mid-write, too.
    std::fs::write(f.dir.path().join("photos/.x.jpg.tmp"), b"half").expect("tmp");

    let sweep = f.store.sweep_photos().expect("sweep");
    assert_eq!(
        sweep.orphans_removed.len(),
        4,
        "derivative, thumbnail, original, temp: {sweep:?}"
    );
    assert!(sweep.dangling.is_empty(), "nothing dangling");
    assert_eq!(
        files(&f),
        vec![
            format!("{kept}.jpg"),
            format!("{kept}.jpg"),
            format!("{kept}.thumb.jpg"),
        ],
        "the saved photo's files stay (derivative, original, thumbnail)"
    );
    let again = f.store.sweep_photos().expect("sweep again");
    assert!(again.orphans_removed.is_empty(), "nothing more to remove");
}

#[test]
fn a_row_whose_file_vanished_is_reported_not_deleted() {
    let mut f = Fixture::new(1);
    let sha = save(&mut f, b"evidence").expect("saved");
    let row = f.store.photo(&sha).expect("row");
    std::fs::remove_file(f.store.photo_file(&row.local_path)).expect("remove");
    let sweep = f.store.sweep_photos().expect("sweep");
    assert_eq!(sweep.dangling, vec![sha.clone()], "reported");
    assert!(
        f.store.photo(&sha).is_ok(),
        "the row stays: records still name it"
    );
}

#[test]
fn uploads_wait_for_the_attestation_and_a_confirmation_releases_the_original() {
    let mut f = Fixture::new(1);
    let sha = save(&mut f, b"evidence bytes").expect("saved");
    assert!(
        f.store.photos_to_upload(10).expect("jobs").is_empty(),
        "not before its attestation reached the server"
    );
    let device = f.store.device_id();
    f.store
        .apply_push_response(
            device,
            &cunjie_protocol::v1::PushResponse {
                acked_through: 1,
                results: vec![cunjie_protocol::v1::MutationResult {
                    seq: 1,
                    status: cunjie_protocol::v1::MutationStatus::Applied { server_version: 1 },
                }],
                server_time_ms: f.now().timestamp_millis(),
            },
        )
        .expect("acked");
    let jobs = f.store.photos_to_upload(10).expect("jobs");
    assert_eq!(jobs.len(), 1, "now it may go");
    assert_eq!(jobs[0].size, 14, "its size");
    f.store
        .upload_started(&sha, "http://127.0.0.1/api/v1/uploads/1")
        .expect("url persisted");
    f.store.upload_progress(&sha, 8, 8).expect("progress");
    let totals = f.store.photo_totals().expect("totals");
    assert_eq!(
        (totals.pending, totals.bytes_remaining, totals.bytes_sent),
        (1, 6, 8),
        "the badge's figures"
    );
    let job = &f.store.photos_to_upload(10).expect("jobs")[0];
    assert_eq!(
        (job.upload_url.as_deref(), job.confirmed_offset),
        (Some("http://127.0.0.1/api/v1/uploads/1"), 8),
        "a restart continues the same upload"
    );
    let original = f.store.photo_file(
        &f.store
            .photo(&sha)
            .expect("row")
            .original_path
            .expect("kept"),
    );
    assert!(original.is_file(), "the original is kept until confirmed");
    f.store.photo_confirmed(&sha).expect("confirmed");
    assert!(!original.exists(), "then released");
    assert_eq!(
        f.store.photo(&sha).expect("row").state,
        PhotoState::Done,
        "done"
    );
    assert!(
        f.store.photos_to_upload(10).expect("jobs").is_empty(),
        "nothing left"
    );
}
