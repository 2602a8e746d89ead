//! Photos: content-addressed rows (the file itself is written and fsynced by the media layer
//! before the row is inserted) and the references records hold to them.

use cunjie_domain::fact::PhotoHash;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::db::{Store, now_text};
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
