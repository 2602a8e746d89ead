//! Photo uploads: after their attestation, by tus with the server's offset after every
//! failure, deduplicated by hash, never lost on a refused token.

use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{PhotoAttestation, PhotoHash, Subject};
use cunjie_store::{NewPhoto, PhotoState};
use cunjie_sync::{SyncError, TransportError};
use uuid::Uuid;

use crate::fake::{Call, FakeServer, cunjie_sync_test_sha};
use crate::phone::{Phone, fast_config, seeded_server};

/// Pseudo-random bytes standing in for a derivative (the engine never decodes them).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl Phone {
    /// Keeps a photo of `len` bytes the way the capture pipeline does: files first, then the
    /// row and its attestation in the outbox.
    fn take_photo(&self, seed: u64, len: usize) -> (PhotoHash, Vec<u8>) {
        let derivative = bytes(seed, len);
        let sha: PhotoHash = cunjie_sync_test_sha(&derivative).parse().expect("hex");
        let mut s = self.store();
        let attestation = PhotoAttestation {
            sha256: sha.clone(),
            size: derivative.len() as u64,
            taken_at: s.clock().now(),
            fix: None,
            subject: Subject {
                kind: SubjectKind::Household,
                id: Uuid::from_u128(0x1000 + u128::from(seed)),
            },
            device_id: s.device_id(),
        };
        s.save_photo(NewPhoto {
            derivative: &derivative,
            thumbnail: b"thumb",
            original: Some(b"original camera bytes"),
            attestation,
            signature: "c2lnbmVk".into(),
        })
        .expect("photo saved");
        (sha, derivative)
    }

    fn photo_state(&self, sha: &PhotoHash) -> PhotoState {
        self.store().photo(sha).expect("photo row").state
    }
}

async fn phone() -> (FakeServer, Phone) {
    let server = seeded_server(2);
    let phone = Phone::enrolled(&server, fast_config()).await;
    (server, phone)
}

#[tokio::test]
async fn a_photo_goes_after_its_record_and_arrives_byte_identical() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(1, 300_000);
    let original = phone
        .store()
        .photo(&sha)
        .expect("row")
        .original_path
        .expect("original kept until confirmed");
    let original = phone.store().photo_file(&original);
    assert!(original.is_file(), "the original is on the phone");

    let report = phone.engine.sync_once().await.expect("sync");
    assert_eq!(report.settled, 1, "the attestation went first");
    assert_eq!(report.photos_uploaded, 1, "then the photo");
    assert_eq!(
        server.blob(sha.as_str()),
        Some(derivative),
        "the server's copy is byte-identical"
    );
    assert_eq!(phone.photo_state(&sha), PhotoState::Done, "confirmed");
    assert!(
        !original.exists(),
        "the original goes once the derivative is confirmed"
    );
    // 128 KiB, then 256 KiB covers the rest of 300,000 bytes.
    assert_eq!(
        server.calls(Call::UploadChunk),
        2,
        "chunks grow after success"
    );
    let status = phone.engine.current_status();
    assert_eq!(
        (status.pending_photos, status.photo_bytes_remaining),
        (0, 0),
        "nothing left on the badge"
    );
    let again = phone.engine.sync_once().await.expect("second sync");
    assert_eq!(
        (again.photos_uploaded, server.calls(Call::CreateUpload)),
        (0, 1),
        "a confirmed photo is not sent again"
    );
}

#[tokio::test]
async fn a_photo_the_server_already_has_sends_no_bytes() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(2, 200_000);
    server.put_blob(sha.as_str(), derivative);
    let report = phone.engine.sync_once().await.expect("sync");
    assert_eq!(report.photos_deduplicated, 1, "answered by the blob check");
    assert_eq!(server.chunk_bytes(), 0, "no photo bytes sent");
    assert_eq!(server.calls(Call::CreateUpload), 0, "no upload created");
    assert_eq!(phone.photo_state(&sha), PhotoState::Done, "confirmed");
}

#[tokio::test]
async fn cut_chunks_resume_from_the_servers_offset_with_smaller_chunks() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(3, 700_000);
    server.fail_after(
        Call::UploadChunk,
        1,
        TransportError::Interrupted("connection reset".into()),
    );
    server.fail(
        Call::UploadChunk,
        2,
        TransportError::Interrupted("connection reset".into()),
    );
    let report = phone
        .engine
        .sync_once()
        .await
        .expect("sync survives the cuts");
    assert_eq!(report.photos_uploaded, 1, "uploaded");
    assert_eq!(
        server.blob(sha.as_str()),
        Some(derivative),
        "byte-identical"
    );
    assert_eq!(
        server.uploads().len(),
        1,
        "one upload, resumed, not restarted"
    );
    assert!(
        server.calls(Call::UploadOffset) >= 3,
        "the offset is asked after each failure"
    );
    let row = phone.store().photo(&sha).expect("row");
    assert_eq!(row.state, PhotoState::Done, "confirmed");
    assert_eq!(
        phone.store().photo_totals().expect("totals").bytes_sent,
        server.chunk_bytes(),
        "the phone counts every byte it put on the wire"
    );
    assert_eq!(
        report.photo_bytes_sent,
        server.chunk_bytes(),
        "and reports them"
    );
    assert!(
        server.unchecked_chunks() >= 1,
        "after a cut, a chunk goes without a checksum so its partial bytes count"
    );
}

#[tokio::test]
async fn a_damaged_chunk_is_refused_and_resent() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(4, 100_000);
    server.corrupt_chunks(1);
    let report = phone.engine.sync_once().await.expect("sync");
    assert_eq!(report.photos_uploaded, 1, "uploaded after the resend");
    assert_eq!(
        server.blob(sha.as_str()),
        Some(derivative),
        "byte-identical"
    );
    assert_eq!(
        server.chunk_bytes(),
        200_000,
        "the damaged bytes were sent again, once"
    );
}

#[tokio::test]
async fn a_lost_answer_to_the_last_chunk_is_settled_by_the_blob_check() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(5, 100_000);
    server.drop_after(Call::UploadChunk, 0);
    let report = phone.engine.sync_once().await.expect("sync");
    assert_eq!(report.photos_uploaded, 1, "confirmed");
    assert_eq!(server.blob(sha.as_str()), Some(derivative), "stored once");
    assert_eq!(
        server.chunk_bytes(),
        100_000,
        "no byte was sent twice: the offset said it was all there"
    );
}

#[tokio::test]
async fn an_upload_cut_for_too_long_waits_and_an_expired_one_is_created_again() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(6, 400_000);
    server.fail_after(
        Call::UploadChunk,
        1,
        TransportError::Unreachable("no signal".into()),
    );
    // Five failures in a row: the whole retry schedule of `fast_config` (4 retries).
    server.fail(
        Call::UploadChunk,
        4,
        TransportError::Unreachable("no signal".into()),
    );
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("the link stayed down longer than the backoff");
    assert!(
        matches!(err, SyncError::Transport(_)),
        "a transport error: {err:?}"
    );
    let row = phone.store().photo(&sha).expect("row kept");
    assert!(row.upload_url.is_some(), "the upload URL was persisted");
    assert_eq!(row.state, PhotoState::Failed, "marked to try again");
    assert!(row.last_error.is_some(), "with a reason in words");
    assert_eq!(
        phone.engine.current_status().photo_bytes_remaining,
        400_000 - 128 * 1024,
        "the badge shows what is left"
    );

    server.expire_next(Call::UploadOffset);
    let report = phone.engine.sync_once().await.expect("sync");
    assert_eq!(report.photos_uploaded, 1, "uploaded");
    assert_eq!(
        server.uploads().len(),
        2,
        "a new upload replaced the expired one"
    );
    assert_eq!(
        server.blob(sha.as_str()),
        Some(derivative),
        "byte-identical"
    );
}

#[tokio::test]
async fn a_refused_token_mid_upload_keeps_the_photo_and_asks_to_enroll_again() {
    let (server, phone) = phone().await;
    let (sha, derivative) = phone.take_photo(7, 300_000);
    server.fail_after(
        Call::UploadChunk,
        1,
        TransportError::Unauthorised {
            message: "revoked".into(),
        },
    );
    let err = phone.engine.sync_once().await.expect_err("token refused");
    assert!(matches!(err, SyncError::NeedsReenroll), "{err:?}");
    let row = phone.store().photo(&sha).expect("the photo row stays");
    let file = phone.store().photo_file(&row.local_path);
    assert_eq!(
        std::fs::read(file).expect("file stays"),
        derivative,
        "bytes intact"
    );
    assert!(
        phone.engine.current_status().needs_reenroll,
        "the badge says so"
    );
}

#[tokio::test]
async fn photos_wait_for_their_attestation_to_reach_the_server() {
    let (server, phone) = phone().await;
    let (sha, _) = phone.take_photo(8, 50_000);
    server.fail(
        Call::Push,
        20,
        TransportError::Busy {
            status: 503,
            code: None,
            message: String::new(),
        },
    );
    phone.engine.sync_once().await.expect_err("push fails");
    assert_eq!(
        server.calls(Call::CreateUpload),
        0,
        "no upload before the record"
    );
    assert_eq!(server.calls(Call::BlobExists), 0, "not even a blob check");
    assert_eq!(
        phone.photo_state(&sha),
        PhotoState::Pending,
        "still pending"
    );
}

#[tokio::test]
async fn an_unattested_photo_is_refused_without_ending_the_sync() {
    let (server, phone) = phone().await;
    // The attestation is rejected (as if its signature did not verify): the server will
    // not take the bytes. Records still sync; the photo keeps its reason.
    let seq = phone.store().pending_mutations(10).expect("pending").len() as u64 + 1;
    server.reject_seq(seq);
    let (sha, _) = phone.take_photo(9, 50_000);
    // The fake rejects by seq before recording an attestation.
    let report = phone
        .engine
        .sync_once()
        .await
        .expect("the sync itself succeeds");
    assert_eq!(report.rejected, 1, "the attestation was refused");
    assert_eq!(report.photos_failed, 1, "the photo could not go");
    let row = phone.store().photo(&sha).expect("row kept");
    assert_eq!(row.state, PhotoState::Failed, "kept, waiting");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("签名")),
        "the reason in words: {:?}",
        row.last_error
    );
}
