//! Photos: content-addressed rows (the file itself is written and fsynced by the media layer
//! before the row is inserted) and the references records hold to them.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use cunjie_domain::fact::{PhotoAttestation, PhotoHash, Subject};
use cunjie_domain::ids::MutationId;
use cunjie_protocol::v1::{Op, photo_entity_id, photo_hash};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::db::{Store, enqueue, now_text, ts};
use crate::error::StoreError;

/// Upload state of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoState {
    /// Not yet sent.
    Pending,
    /// An upload is under way (its URL is persisted).
    Uploading,
    /// The server confirmed it.
    Done,
    /// The last attempt failed; it will be retried.
    Failed,
}

impl PhotoState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Uploading => "uploading",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "uploading" => Self::Uploading,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// A photo kept before signed photo evidence, waiting for its attestation
/// ([`Store::unattested_photos`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnattestedPhoto {
    /// Content hash of the upload derivative.
    pub sha256: PhotoHash,
    /// Bytes.
    pub size: u64,
    /// The derivative's file.
    pub path: PathBuf,
    /// When the phone kept it (the closest it knows to when it was taken).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// What the first fact referring to it is about.
    pub subject: Option<Subject>,
}

/// A photo as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    /// Content hash of the upload derivative.
    pub sha256: PhotoHash,
    /// Bytes.
    pub size: u64,
    /// MIME type.
    pub mime: String,
    /// Where the derivative is on the phone.
    pub local_path: String,
    /// Where the original is kept until the derivative is confirmed.
    pub original_path: Option<String>,
    /// Upload state.
    pub state: PhotoState,
    /// The persisted tus upload URL, if an upload was created.
    pub upload_url: Option<String>,
    /// Last error in words.
    pub last_error: Option<String>,
}

/// Checks every photo exists, then replaces the references of `entity_id` in `role`.
pub(crate) fn set_refs(
    tx: &Transaction<'_>,
    entity_id: &str,
    role: &str,
    photos: &[PhotoHash],
) -> Result<(), StoreError> {
    for p in photos {
        let found: Option<i64> = tx
            .query_row("SELECT 1 FROM photo WHERE sha256 = ?1", [p.as_str()], |r| {
                r.get(0)
            })
            .optional()?;
        if found.is_none() {
            return Err(StoreError::PhotoMissing(p.to_string()));
        }
    }
    tx.execute(
        "DELETE FROM photo_ref WHERE entity_id = ?1 AND role = ?2",
        params![entity_id, role],
    )?;
    for p in photos {
        tx.execute(
            "INSERT OR IGNORE INTO photo_ref (entity_id, sha256, role) VALUES (?1, ?2, ?3)",
            params![entity_id, p.as_str(), role],
        )?;
    }
    Ok(())
}

impl Store {
    /// Records a photo whose file is already durable at `local_path`. Saving the same photo
    /// twice is a no-op: photos are content-addressed.
    pub fn register_photo(
        &mut self,
        sha256: &PhotoHash,
        size: u64,
        mime: &str,
        local_path: &str,
        original_path: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO photo (sha256, size, mime, local_path, original_path, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6) ON CONFLICT (sha256) DO NOTHING",
            params![
                sha256.as_str(),
                size as i64,
                mime,
                local_path,
                original_path,
                now_text(self.clock.as_ref())
            ],
        )?;
        Ok(())
    }

    /// One photo.
    pub fn photo(&self, sha256: &PhotoHash) -> Result<PhotoRow, StoreError> {
        self.conn
            .query_row(
                "SELECT sha256, size, mime, local_path, original_path, state, upload_url, last_error FROM photo WHERE sha256 = ?1",
                [sha256.as_str()],
                |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?, r.get(6)?, r.get(7)?))
                },
            )
            .optional()?
            .map(|(h, size, mime, local_path, original_path, state, upload_url, last_error)| {
                Ok(PhotoRow {
                    sha256: h.parse().map_err(|_| StoreError::PhotoMissing(h.clone()))?,
                    size: size as u64,
                    mime,
                    local_path,
                    original_path,
                    state: PhotoState::parse(&state),
                    upload_url,
                    last_error,
                })
            })
            .unwrap_or_else(|| Err(StoreError::PhotoMissing(sha256.to_string())))
    }

    /// Photos not yet confirmed by the server, oldest first.
    pub fn photos_pending(&self) -> Result<Vec<PhotoHash>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256 FROM photo WHERE state != 'done' ORDER BY created_at, sha256",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            let h = r?;
            h.parse().map_err(|_| StoreError::PhotoMissing(h))
        })
        .collect()
    }

    /// Moves a photo's upload state on (the sync engine's bookkeeping).
    pub fn set_photo_state(
        &mut self,
        sha256: &PhotoHash,
        state: PhotoState,
        upload_url: Option<&str>,
        last_error: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE photo SET state = ?2, upload_url = COALESCE(?3, upload_url), last_error = ?4 WHERE sha256 = ?1",
            params![sha256.as_str(), state.as_str(), upload_url, last_error],
        )?;
        if n == 0 {
            return Err(StoreError::PhotoMissing(sha256.to_string()));
        }
        Ok(())
    }

    /// How many records refer to a photo.
    pub fn photo_ref_count(&self, sha256: &PhotoHash) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM photo_ref WHERE sha256 = ?1",
            [sha256.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

/// A photo ready to be kept: the media pipeline's output and its signed attestation.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    /// The upload derivative (watermarked JPEG); its SHA-256 must be `attestation.sha256`.
    pub derivative: &'a [u8],
    /// The thumbnail shown in lists.
    pub thumbnail: &'a [u8],
    /// The camera's original, kept until the server confirms the derivative.
    pub original: Option<&'a [u8]>,
    /// What the phone claims about the photo.
    pub attestation: PhotoAttestation,
    /// The device key's signature over the attestation (base64).
    pub signature: String,
}

/// A photo the sync engine should upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadJob {
    /// Content hash.
    pub sha256: PhotoHash,
    /// Size in bytes.
    pub size: u64,
    /// The derivative's file.
    pub path: PathBuf,
    /// The persisted tus upload URL, if an upload was created.
    pub upload_url: Option<String>,
    /// The offset the server last confirmed.
    pub confirmed_offset: u64,
}

/// What [`Store::sweep_photos`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoSweep {
    /// Files with no row (a capture interrupted before its row committed, a leftover temp
    /// file, an original kept past its confirmation), removed.
    pub orphans_removed: Vec<PathBuf>,
    /// Rows whose derivative file is missing: the evidence is lost on this phone (reported,
    /// never deleted: the record still names the photo).
    pub dangling: Vec<PhotoHash>,
}

/// Upload progress of all photos, for the sync badge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhotoTotals {
    /// Photos not yet confirmed.
    pub pending: u64,
    /// Bytes of those photos the server has not confirmed yet.
    pub bytes_remaining: u64,
    /// Bytes put on the wire for photos so far, resends included.
    pub bytes_sent: u64,
    /// Bytes of the photos the server confirmed.
    pub bytes_confirmed: u64,
}

const ORIGINALS: &str = "originals";

/// Writes `bytes` to `dir/name` durably: a temp file, fsync, rename, fsync the directory. The
/// file is complete on disk before anything can point at it.
fn write_durable(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    create_dir_durable(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        let half = bytes.len() / 2;
        f.write_all(&bytes[..half])?;
        failpoint!("phone::photo_mid_write");
        f.write_all(&bytes[half..])?;
        f.sync_all()?;
    }
    failpoint!("phone::photo_before_rename");
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok(path)
}

fn create_dir_durable(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Store {
    /// Where this store keeps photo files (`photos/` beside the database file).
    pub fn photo_dir(&self) -> Option<&Path> {
        self.photo_dir.as_deref()
    }

    /// Sets where photo files go (an in-memory store has none until this is called).
    pub fn set_photo_dir(&mut self, dir: PathBuf) {
        self.photo_dir = Some(dir);
    }

    /// The file a photo row names: absolute paths as they are, names under the photo folder.
    pub fn photo_file(&self, stored: &str) -> PathBuf {
        let p = Path::new(stored);
        match &self.photo_dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// The device's signing key `(seed, public key base64)`, if one was made.
    pub fn device_key(&self) -> Result<Option<([u8; 32], String)>, StoreError> {
        let row: Option<(Vec<u8>, String)> = self
            .conn
            .query_row(
                "SELECT seed, public_key FROM device_key WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(seed, pk)| <[u8; 32]>::try_from(seed).ok().map(|s| (s, pk))))
    }

    /// The device's signing key, made with `make` (which returns `(seed, public key base64)`)
    /// the first time. Once made, a key is never replaced: the server knows its public half.
    pub fn ensure_device_key(
        &mut self,
        make: impl FnOnce() -> ([u8; 32], String),
    ) -> Result<([u8; 32], String), StoreError> {
        if let Some(k) = self.device_key()? {
            return Ok(k);
        }
        let (seed, pk) = make();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO device_key (id, seed, public_key, created_at) VALUES (1, ?1, ?2, ?3)",
            params![seed.as_slice(), pk, now_text(self.clock.as_ref())],
        )?;
        // A phone enrolled before it had a key (an app from before signed photos): the server
        // does not know this key and would refuse every attestation signed with it, so the
        // phone waits for a new enrollment, which registers it (nothing is pushed meanwhile).
        tx.execute("UPDATE enrollment SET needs_reenroll = 1 WHERE id = 1", [])?;
        tx.commit()?;
        Ok((seed, pk))
    }

    /// Keeps a captured photo: writes the derivative, the thumbnail and the original durably
    /// under the photo folder, then commits, in one transaction, the photo row and the outbox
    /// row that carries its signed attestation to the server. Saving the same photo again
    /// changes nothing. Returns the hash that records use to refer to it.
    pub fn save_photo(&mut self, p: NewPhoto<'_>) -> Result<PhotoHash, StoreError> {
        let a = &p.attestation;
        if photo_hash(p.derivative) != a.sha256 || a.size != p.derivative.len() as u64 {
            return Err(StoreError::PhotoMismatch(a.sha256.to_string()));
        }
        if a.device_id != self.device {
            return Err(StoreError::PhotoMismatch(format!(
                "{} (signed by another device)",
                a.sha256
            )));
        }
        let dir = self.photo_dir.clone().ok_or(StoreError::NoPhotoDir)?;
        if self.photo(&a.sha256).is_ok() {
            return Ok(a.sha256.clone());
        }
        let name = format!("{}.jpg", a.sha256);
        let thumb = format!("{}.thumb.jpg", a.sha256);
        write_durable(&dir, &name, p.derivative)?;
        write_durable(&dir, &thumb, p.thumbnail)?;
        let original = match p.original {
            Some(bytes) => {
                write_durable(&dir.join(ORIGINALS), &name, bytes)?;
                Some(format!("{ORIGINALS}/{name}"))
            }
            None => None,
        };
        let now = now_text(self.clock.as_ref());
        let op = Op::AttestPhoto {
            attestation: Box::new(a.clone()),
            signature: p.signature.clone(),
        };
        failpoint!("phone::photo_files_written");
        let mutation: MutationId = self.ids.next();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO photo (sha256, size, mime, local_path, original_path, state, created_at, thumb_path, taken_at, subject_kind, subject_id)
             VALUES (?1, ?2, 'image/jpeg', ?3, ?4, 'pending', ?5, ?6, ?7, ?8, ?9)",
            params![
                a.sha256.as_str(),
                a.size as i64,
                name,
                original,
                now,
                thumb,
                ts(a.taken_at),
                a.subject.kind.as_str(),
                a.subject.id.to_string(),
            ],
        )?;
        enqueue(&tx, self.clock.as_ref(), mutation, &op, None)?;
        tx.commit()?;
        Ok(a.sha256.clone())
    }

    /// Photos kept by an app from before signed photo evidence (schema 5 and earlier): no
    /// attestation was ever made for them, so the server would never take their bytes. Each
    /// comes with the subject of the first fact that refers to it (`None` if no fact does).
    pub fn unattested_photos(&self) -> Result<Vec<UnattestedPhoto>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT p.sha256, p.size, p.local_path, p.created_at,
                    (SELECT f.row_json FROM photo_ref r JOIN fact f ON f.id = r.entity_id
                      WHERE r.sha256 = p.sha256 ORDER BY f.submitted_at, f.id LIMIT 1)
             FROM photo p WHERE p.taken_at IS NULL AND p.state != 'done' ORDER BY p.created_at, p.sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (h, size, path, created_at, fact) = row?;
            let sha256: PhotoHash = h.parse().map_err(|_| StoreError::PhotoMissing(h.clone()))?;
            let created_at = chrono::DateTime::parse_from_rfc3339(&created_at)
                .map_err(|_| StoreError::PhotoMissing(h.clone()))?
                .with_timezone(&chrono::Utc);
            let subject = fact
                .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
                .and_then(|v| serde_json::from_value::<Subject>(v.get("subject")?.clone()).ok());
            out.push(UnattestedPhoto {
                sha256,
                size: u64::try_from(size).unwrap_or(0),
                path: self.photo_file(&path),
                created_at,
                subject,
            });
        }
        Ok(out)
    }

    /// Attests a photo from [`Store::unattested_photos`] after an upgrade: records when and of
    /// what it was taken and queues its signed attestation, in one transaction. A photo that
    /// already has one is left as it is.
    pub fn attest_unattested_photo(
        &mut self,
        attestation: &PhotoAttestation,
        signature: &str,
    ) -> Result<bool, StoreError> {
        let a = attestation;
        if a.device_id != self.device {
            return Err(StoreError::PhotoMismatch(format!(
                "{} (signed by another device)",
                a.sha256
            )));
        }
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE photo SET taken_at = ?2, subject_kind = ?3, subject_id = ?4
             WHERE sha256 = ?1 AND taken_at IS NULL AND size = ?5",
            params![
                a.sha256.as_str(),
                ts(a.taken_at),
                a.subject.kind.as_str(),
                a.subject.id.to_string(),
                a.size as i64,
            ],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        let op = Op::AttestPhoto {
            attestation: Box::new(a.clone()),
            signature: signature.to_owned(),
        };
        let mutation: MutationId = self.ids.next();
        enqueue(&tx, self.clock.as_ref(), mutation, &op, None)?;
        tx.commit()?;
        Ok(true)
    }

    /// Photos to upload, oldest first, whose attestation the server already has (records go
    /// first; the server takes no bytes it was not told about). At most `limit`.
    pub fn photos_to_upload(&self, limit: u32) -> Result<Vec<UploadJob>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, size, local_path, upload_url, confirmed_offset FROM photo
             WHERE state != 'done' AND taken_at IS NOT NULL ORDER BY created_at, sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut jobs = Vec::new();
        for row in rows {
            let (h, size, path, upload_url, offset) = row?;
            let sha256: PhotoHash = h.parse().map_err(|_| StoreError::PhotoMissing(h.clone()))?;
            let unsent: Option<i64> = self
                .conn
                .query_row(
                    "SELECT 1 FROM outbox WHERE entity = 'photo' AND entity_id = ?1 LIMIT 1",
                    [photo_entity_id(&sha256).to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if unsent.is_some() {
                continue;
            }
            jobs.push(UploadJob {
                sha256,
                size: size as u64,
                path: self.photo_file(&path),
                upload_url,
                confirmed_offset: offset as u64,
            });
            if jobs.len() >= limit as usize {
                break;
            }
        }
        Ok(jobs)
    }

    /// Persists a created upload's URL before the first byte is sent.
    pub fn upload_started(&mut self, sha256: &PhotoHash, url: &str) -> Result<(), StoreError> {
        self.update_photo(
            sha256,
            "UPDATE photo SET state = 'uploading', upload_url = ?2, confirmed_offset = 0, last_error = NULL WHERE sha256 = ?1",
            params![sha256.as_str(), url],
        )
    }

    /// Records the server's offset and the bytes this attempt put on the wire.
    pub fn upload_progress(
        &mut self,
        sha256: &PhotoHash,
        offset: u64,
        sent: u64,
    ) -> Result<(), StoreError> {
        self.update_photo(
            sha256,
            "UPDATE photo SET confirmed_offset = ?2, bytes_sent = bytes_sent + ?3 WHERE sha256 = ?1",
            params![sha256.as_str(), offset as i64, sent as i64],
        )
    }

    /// Forgets an upload the server no longer has (expired, refused): the next try creates one.
    pub fn upload_reset(&mut self, sha256: &PhotoHash) -> Result<(), StoreError> {
        self.update_photo(
            sha256,
            "UPDATE photo SET state = 'pending', upload_url = NULL, confirmed_offset = 0 WHERE sha256 = ?1",
            params![sha256.as_str()],
        )
    }

    /// Records a failed attempt in words; the photo is tried again on the next sync.
    pub fn upload_failed(&mut self, sha256: &PhotoHash, error_zh: &str) -> Result<(), StoreError> {
        self.update_photo(
            sha256,
            "UPDATE photo SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE sha256 = ?1",
            params![sha256.as_str(), error_zh],
        )
    }

    /// The server holds the photo: marks it done and lets the original go (the row first, then
    /// the file; a crash in between leaves an orphan the sweeper removes).
    pub fn photo_confirmed(&mut self, sha256: &PhotoHash) -> Result<(), StoreError> {
        let row = self.photo(sha256)?;
        self.update_photo(
            sha256,
            "UPDATE photo SET state = 'done', confirmed_offset = size, confirmed_at = ?2, original_path = NULL, last_error = NULL WHERE sha256 = ?1",
            params![sha256.as_str(), now_text(self.clock.as_ref())],
        )?;
        if let Some(original) = row.original_path {
            // An original that cannot be removed now is an orphan for the next sweep.
            let _ = fs::remove_file(self.photo_file(&original));
        }
        Ok(())
    }

    /// Totals for the sync badge: photos pending, bytes remaining, bytes sent.
    pub fn photo_totals(&self) -> Result<PhotoTotals, StoreError> {
        let (pending, remaining, sent, confirmed): (i64, i64, i64, i64) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE state != 'done'),
                    coalesce(sum(size - confirmed_offset) FILTER (WHERE state != 'done'), 0),
                    coalesce(sum(bytes_sent), 0),
                    coalesce(sum(size) FILTER (WHERE state = 'done'), 0)
             FROM photo",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(PhotoTotals {
            pending: pending as u64,
            bytes_remaining: remaining.max(0) as u64,
            bytes_sent: sent as u64,
            bytes_confirmed: confirmed as u64,
        })
    }

    /// Reconciles the photo folder with the rows: removes files no row names (interrupted
    /// captures, temp files, released originals) and reports rows whose derivative is missing.
    pub fn sweep_photos(&mut self) -> Result<PhotoSweep, StoreError> {
        let mut sweep = PhotoSweep::default();
        let Some(dir) = self.photo_dir.clone() else {
            return Ok(sweep);
        };
        let mut known = std::collections::HashSet::new();
        let mut derivatives = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT sha256, local_path, thumb_path, original_path, state FROM photo",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            for row in rows {
                let (h, local, thumb, original, state) = row?;
                let local = self.photo_file(&local);
                known.insert(local.clone());
                if let Some(t) = thumb {
                    known.insert(self.photo_file(&t));
                }
                if let Some(o) = original {
                    known.insert(self.photo_file(&o));
                }
                derivatives.push((h, local, state));
            }
        }
        for folder in [dir.clone(), dir.join(ORIGINALS)] {
            let Ok(entries) = fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_file() && !known.contains(&path) {
                    fs::remove_file(&path)?;
                    sweep.orphans_removed.push(path);
                }
            }
            if !sweep.orphans_removed.is_empty() {
                sync_dir(&folder)?;
            }
        }
        for (h, local, state) in derivatives {
            if state != "done" && !local.is_file() {
                sweep
                    .dangling
                    .push(h.parse().map_err(|_| StoreError::PhotoMissing(h.clone()))?);
            }
        }
        sweep.orphans_removed.sort();
        Ok(sweep)
    }

    fn update_photo(
        &mut self,
        sha256: &PhotoHash,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), StoreError> {
        if self.conn.execute(sql, params)? == 0 {
            return Err(StoreError::PhotoMissing(sha256.to_string()));
        }
        Ok(())
    }
}
