//! The store's error type.

use cunjie_domain::fact::RectificationError;
use cunjie_domain::validate::Issue;

/// What can go wrong in the store. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("the local database failed: {0}; the last saved work is intact, try again")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("the local database could not be upgraded: {0}; keep the file and report this")]
    Migration(#[from] rusqlite_migration::Error),
    /// The database was written by a newer app version.
    #[error(
        "this database was made by a newer app (schema {found}, this app knows {supported}); update the app, do not delete the data"
    )]
    NewerDatabase {
        /// The file's schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A stored row could not be decoded or encoded.
    #[error("a stored record could not be read: {0}")]
    Json(#[from] serde_json::Error),
    /// A record is missing.
    #[error("{entity} {id} is not on this phone; sync and try again")]
    NotFound {
        /// Kind of record.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// Submission refused: blocking validation issues.
    #[error("cannot submit yet: {} problem(s) to fix first", .0.len())]
    NotSubmittable(Vec<Issue>),
    /// A fact that is already submitted cannot be changed; submit a correction instead.
    #[error("{0} is already submitted and cannot be changed; submit a correction instead")]
    AlreadySubmitted(String),
    /// A rectification transition the state machine refuses.
    #[error(transparent)]
    Rectification(#[from] RectificationError),
    /// A photo is referenced that was never saved on this phone.
    #[error("photo {0} is not saved on this phone; take the photo again")]
    PhotoMissing(String),
    /// A photo whose bytes do not match what its attestation says (hash, size or device).
    #[error("photo {0} does not match its attestation; take the photo again")]
    PhotoMismatch(String),
    /// The store has no folder for photo files (an in-memory store without one).
    #[error("this phone has no folder for photos; restart the app")]
    NoPhotoDir,
    /// A photo file could not be written or read.
    #[error("a photo file could not be written or read: {0}; free some space and try again")]
    PhotoFile(#[from] std::io::Error),
    /// Signing out refused: records or photos have not reached the server yet.
    #[error(
        "{records} record(s) and {photos} photo(s) have not reached the server yet; sync first, then sign out"
    )]
    Unsynced {
        /// Records waiting.
        records: u64,
        /// Photos waiting.
        photos: u64,
    },
    /// A field that cannot be edited on the phone.
    #[error("field '{0}' cannot be changed on the phone; ask the township office")]
    FieldNotEditable(String),
    /// An acknowledgement that does not match the outbox.
    #[error("the server acknowledged seq {acked} but the oldest pending is {oldest}; sync again")]
    AckMismatch {
        /// acked_through from the server.
        acked: u64,
        /// Oldest pending seq.
        oldest: u64,
    },
}
