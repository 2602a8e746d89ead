//! A throwaway PostgreSQL for the end-to-end tests and benches: the server crate's launcher
//! (`crates/cunjie-server/tests/server/pg_launcher.rs`, one server per test binary, stopped
//! when the process exits), with a fresh database per run.

#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the server's test binary; only part of it is used here"
)]
#[path = "../../crates/cunjie-server/tests/server/pg_launcher.rs"]
mod launcher;

/// A fresh, migrated database on the shared PostgreSQL (which stays up until the process ends).
#[derive(Debug)]
pub struct PgDatabase {
    inner: launcher::PgDatabase,
}

impl PgDatabase {
    /// Creates one (starting PostgreSQL on first use; fails if it is not installed: `bash
    /// scripts/test` installs it).
    pub fn fresh() -> Self {
        let (inner, _db) = launcher::fresh_pg_db();
        Self { inner }
    }

    /// Its `postgres://` URL.
    pub fn url(&self) -> String {
        self.inner.url()
    }
}
