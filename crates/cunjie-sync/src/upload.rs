//! Photo uploads: the blob check, then tus 1.0 with a persisted upload URL, the server's offset
//! after every failure, per-chunk SHA-256 checksums while the link holds and an adaptive chunk
//! size (sync.md §5.7).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff};
use cunjie_protocol::v1::{codes, photo_hash};
use cunjie_store::UploadJob;

use crate::engine::{PhotoProgress, SyncEngine, SyncError, SyncReport};
use crate::transport::{Transport, TransportError};

/// What became of one photo in this run.
enum Outcome {
    /// The server holds it now.
    Confirmed,
    /// Left for a later sync, with the reason recorded on the photo.
    Deferred,
}

/// The chunk size: starts at `start`, doubles after a chunk gets through (up to `max`),
/// halves after one does not (down to `min`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkSize {
    now: usize,
    min: usize,
    max: usize,
}

impl ChunkSize {
    pub(crate) fn new(min: usize, start: usize, max: usize) -> Self {
        let min = min.max(1);
        let max = max.max(min);
        Self {
            now: start.clamp(min, max),
            min,
            max,
        }
    }

    pub(crate) fn get(self) -> usize {
        self.now
    }

    pub(crate) fn grow(&mut self) {
        self.now = self.now.saturating_mul(2).min(self.max);
    }

    pub(crate) fn shrink(&mut self) {
        self.now = (self.now / 2).max(self.min);
    }
}

fn is_code(e: &TransportError, wanted: &[&str]) -> bool {
    e.code().is_some_and(|c| wanted.contains(&c))
}

impl<T: Transport> SyncEngine<T> {
    /// Uploads every pending photo whose attestation the server has, oldest first. A photo
    /// that cannot go now is recorded with its reason and tried again next sync; only a lost
    /// link that outlasts the backoff, or a refused token, ends the run.
    pub(crate) async fn upload_photos(
        &self,
        token: &str,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let config = self.config();
        let mut chunk = ChunkSize::new(config.chunk_min, config.chunk_start, config.chunk_max);
        // Once the link drops a chunk in this run, chunks go without checksums (see below).
        let mut link_dropped = false;
        let mut seen = std::collections::HashSet::new();
        loop {
            let jobs = self.with_store(|s| s.photos_to_upload(config.photo_batch))?;
            let fresh: Vec<UploadJob> = jobs
                .into_iter()
                .filter(|j| !seen.contains(&j.sha256))
                .collect();
            if fresh.is_empty() {
                return Ok(());
            }
            for job in fresh {
                seen.insert(job.sha256.clone());
                match self
                    .upload_one(token, &job, &mut chunk, &mut link_dropped, report)
                    .await?
                {
                    Outcome::Confirmed => {}
                    Outcome::Deferred => report.photos_failed += 1,
                }
                self.refresh_counts();
            }
        }
    }

    async fn upload_one(
        &self,
        token: &str,
        job: &UploadJob,
        chunk: &mut ChunkSize,
        link_dropped: &mut bool,
        report: &mut SyncReport,
    ) -> Result<Outcome, SyncError> {
        let sha = &job.sha256;
        // Pauses after retryable failures; the schedule restarts after each chunk that lands.
        let mut delays = self.config().backoff.build();
        // The server may already hold it: a second attach or a retry after a crash costs one
        // small request and no photo bytes.
        let exists = loop {
            match self.transport().blob_exists(token, sha).await {
                Ok(found) => break found,
                Err(e) if e.is_retryable() => {
                    let d = self.pause_or_fail(sha, e, &mut delays)?;
                    tokio::time::sleep(d).await;
                }
                Err(e) => return self.photo_refused(sha, e),
            }
        };
        if exists {
            self.with_store(|s| s.photo_confirmed(sha))?;
            report.photos_deduplicated += 1;
            return Ok(Outcome::Confirmed);
        }
        let bytes = match std::fs::read(&job.path) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(%sha, path = %job.path.display(), error = %e, "photo file unreadable");
                self.with_store(|s| {
                    s.upload_failed(sha, "照片文件在手机上找不到了，请重新拍照补上")
                })?;
                return Ok(Outcome::Deferred);
            }
        };
        if photo_hash(&bytes) != *sha || bytes.len() as u64 != job.size {
            tracing::error!(%sha, "photo file changed on the phone since it was taken");
            self.with_store(|s| s.upload_failed(sha, "照片文件在手机上已损坏，请重新拍照补上"))?;
            return Ok(Outcome::Deferred);
        }
        let size = job.size;
        let mut url = job.upload_url.clone();
        let mut hash_refusals = 0;
        loop {
            let u = match &url {
                Some(u) => u.clone(),
                None => match self.transport().create_upload(token, sha, size).await {
                    Ok(u) => {
                        // Persisted before the first byte: a restart continues this upload.
                        self.with_store(|s| s.upload_started(sha, &u))?;
                        url = Some(u.clone());
                        u
                    }
                    Err(e) if e.is_retryable() => {
                        let d = self.pause_or_fail(sha, e, &mut delays)?;
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    Err(e) => return self.photo_refused(sha, e),
                },
            };
            // The server is the authority for the offset.
            let mut offset = match self.transport().upload_offset(token, &u).await {
                Ok(o) => o,
                Err(e) if is_code(&e, &[codes::UPLOAD_GONE, codes::NOT_FOUND]) => {
                    self.with_store(|s| s.upload_reset(sha))?;
                    url = None;
                    continue;
                }
                Err(e) if e.is_retryable() => {
                    let d = self.pause_or_fail(sha, e, &mut delays)?;
                    tokio::time::sleep(d).await;
                    continue;
                }
                Err(e) => return self.photo_refused(sha, e),
            };
            if offset > size {
                // Not this photo's upload any more; start a clean one.
                self.with_store(|s| s.upload_reset(sha))?;
                url = None;
                continue;
            }
            self.show_progress(sha, offset, size);
            if offset == size {
                // Every byte arrived but the answer to the last chunk was lost: the server
                // finalises an upload when its last byte lands, so ask for the blob.
                match self.transport().blob_exists(token, sha).await {
                    Ok(true) => break,
                    Ok(false) => {
                        self.with_store(|s| s.upload_reset(sha))?;
                        url = None;
                        continue;
                    }
                    Err(e) if e.is_retryable() => {
                        let d = self.pause_or_fail(sha, e, &mut delays)?;
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    Err(e) => return self.photo_refused(sha, e),
                }
            }
            let mut restart = false;
            while offset < size && !restart {
                let end = size.min(offset + chunk.get() as u64);
                let piece = bytes[offset as usize..end as usize].to_vec();
                let sent = end - offset;
                report.photo_bytes_sent += sent;
                // While the link holds, each chunk carries its checksum and lands whole or not
                // at all. Once a chunk is lost to the link, the rest of this sync's chunks go
                // without one, so the server keeps whatever part arrives: a link that dropped
                // once drops again, and on 2G every byte that gets through must count. The
                // whole file's SHA-256 is checked at the end either way.
                let checksum = !*link_dropped;
                failpoint!("phone::chunk_in_flight");
                match self
                    .transport()
                    .upload_chunk(token, &u, offset, piece, checksum)
                    .await
                {
                    Ok(new) => {
                        if new == size {
                            // The server stored the blob; the phone has not recorded it yet.
                            failpoint!("phone::blob_finalised");
                        }
                        self.with_store(|s| s.upload_progress(sha, new, sent))?;
                        delays = self.config().backoff.build();
                        chunk.grow();
                        if new <= offset || new > size {
                            // The server did not move, or moved past the end: ask it again.
                            restart = true;
                        }
                        offset = new;
                        self.show_progress(sha, offset, size);
                    }
                    Err(e) => {
                        self.with_store(|s| s.upload_progress(sha, offset, sent))?;
                        chunk.shrink();
                        if is_code(&e, &[codes::UPLOAD_GONE, codes::NOT_FOUND]) {
                            self.with_store(|s| s.upload_reset(sha))?;
                            url = None;
                        } else if is_code(&e, &[codes::HASH_MISMATCH]) {
                            // The server discarded the upload: the bytes it got did not hash
                            // to the claim. The local file was checked above; send it again,
                            // but not forever.
                            hash_refusals += 1;
                            self.with_store(|s| s.upload_reset(sha))?;
                            url = None;
                            if hash_refusals >= 3 {
                                return self.photo_refused(sha, e);
                            }
                        } else if is_code(&e, &[codes::OFFSET_MISMATCH, codes::CHECKSUM_MISMATCH]) {
                            // Ask for the offset and resend from there.
                        } else if e.is_retryable() {
                            *link_dropped = true;
                            let d = self.pause_or_fail(sha, e, &mut delays)?;
                            tokio::time::sleep(d).await;
                        } else {
                            return self.photo_refused(sha, e);
                        }
                        restart = true;
                    }
                }
            }
            if !restart && offset == size {
                break;
            }
        }
        self.with_store(|s| s.photo_confirmed(sha))?;
        report.photos_uploaded += 1;
        Ok(Outcome::Confirmed)
    }

    /// A retryable failure: the pause before the next try, or, once the backoff is spent, the
    /// error that ends this run (recorded on the photo first).
    fn pause_or_fail(
        &self,
        sha: &cunjie_domain::fact::PhotoHash,
        e: TransportError,
        delays: &mut ExponentialBackoff,
    ) -> Result<Duration, SyncError> {
        tracing::warn!(%sha, error = %e, "photo upload interrupted");
        match delays.next() {
            Some(d) => Ok(d),
            None => {
                self.with_store(|s| s.upload_failed(sha, e.message_zh()))?;
                Err(SyncError::Transport(e))
            }
        }
    }

    /// A refusal retrying soon will not fix: a refused token ends the run (nothing deleted);
    /// anything else is recorded on the photo, which waits for the next sync.
    fn photo_refused(
        &self,
        sha: &cunjie_domain::fact::PhotoHash,
        e: TransportError,
    ) -> Result<Outcome, SyncError> {
        if matches!(e, TransportError::Unauthorised { .. }) {
            return Err(self.transport_failed(e));
        }
        tracing::warn!(%sha, error = %e, "photo upload refused; will try again next sync");
        self.with_store(|s| s.upload_failed(sha, e.message_zh()))?;
        Ok(Outcome::Deferred)
    }

    fn show_progress(&self, sha: &cunjie_domain::fact::PhotoHash, confirmed: u64, size: u64) {
        self.status_sender().send_modify(|st| {
            st.upload = Some(PhotoProgress {
                sha256: sha.clone(),
                confirmed,
                size,
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::ChunkSize;

    #[test]
    fn chunks_double_on_success_and_halve_on_failure_within_bounds() {
        let mut c = ChunkSize::new(32 * 1024, 128 * 1024, 1024 * 1024);
        assert_eq!(c.get(), 128 * 1024, "starts at 128 KiB");
        for _ in 0..5 {
            c.grow();
        }
        assert_eq!(c.get(), 1024 * 1024, "capped at 1 MiB");
        c.shrink();
        assert_eq!(c.get(), 512 * 1024, "halved");
        for _ in 0..10 {
            c.shrink();
        }
        assert_eq!(c.get(), 32 * 1024, "floored at 32 KiB");
        let odd = ChunkSize::new(64, 1, 16);
        assert_eq!(odd.get(), 64, "a maximum below the minimum is raised to it");
    }
}
