//! Server storage behind one small seam.
//!
//! Each backend (SQLite, PostgreSQL) provides only connections, transactions, migrations and
//! two primitives, `exec` and `query`, over a neutral [`Value`]. Every rule (push, merge,
//! change log, enrollment, scopes) is written once, in `crate::core`, against [`Tx`], so the
//! same conformance suite proves both backends. SQL is written with `$1, $2, …` placeholders in
//! ascending order of first appearance, which both SQLite and PostgreSQL accept.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::sync::Arc;

/// A value crossing the storage seam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text (ids, JSON, timestamps in RFC 3339).
    Text(String),
}

impl Value {
    /// The integer, if this is one.
    pub fn int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// Builds a `&[Value]` parameter list.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::store::Value::from($v)),*][..] };
}
pub(crate) use vals;

/// Which SQL dialect a transaction speaks, for the few places they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// SQLite failed.
    #[error("database error (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A SQLite migration failed.
    #[error("database migration failed (SQLite): {0}")]
    SqliteMigration(#[from] rusqlite_migration::Error),
    /// PostgreSQL failed.
    #[error("database error (PostgreSQL): {0}")]
    Postgres(#[from] ::postgres::Error),
    /// The database URL is not understood.
    #[error(
        "database URL '{0}' is not understood; use sqlite:///path/to/file.db or postgres://user@host:port/db"
    )]
    BadUrl(String),
    /// A stored JSON row did not decode.
    #[error("a stored record could not be read: {0}")]
    Json(#[from] serde_json::Error),
    /// A column held an unexpected type.
    #[error("unexpected value in column {0}")]
    Column(&'static str),
    /// Used internally to roll a transaction back when the caller's closure failed.
    #[error("transaction rolled back")]
    RolledBack,
    /// The database could not be reached in time.
    #[error("the database is busy; try again")]
    Busy,
}

/// One open transaction.
pub trait Tx {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// Runs a statement, returning rows changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError>;
    /// Runs a query, returning all rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StorageError>;
}

/// A storage backend: connections, transactions, migrations.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// Runs `f` in one transaction; commits if it returns `Ok`, rolls back otherwise.
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>;
}

/// The server's database handle (cheap to clone).
#[derive(Debug, Clone)]
pub struct Db {
    backend: Arc<dyn Backend>,
}

impl Db {
    /// Opens and migrates the database named by `url` (`sqlite://…` or `postgres://…`).
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let backend: Arc<dyn Backend> = if let Some(path) = url.strip_prefix("sqlite://") {
            Arc::new(sqlite::SqliteBackend::open(std::path::Path::new(path))?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(postgres::PostgresBackend::open(url)?)
        } else {
            return Err(StorageError::BadUrl(url.to_owned()));
        };
        Ok(Self { backend })
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// Runs `f` in one transaction. An `Err` from `f` rolls back and is returned as is.
    pub fn tx<R, E: From<StorageError>>(
        &self,
        mut f: impl FnMut(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut out: Option<Result<R, E>> = None;
        let res = self.backend.transaction(&mut |tx| match f(tx) {
            Ok(r) => {
                out = Some(Ok(r));
                Ok(())
            }
            Err(e) => {
                out = Some(Err(e));
                Err(StorageError::RolledBack)
            }
        });
        match (res, out) {
            (Ok(()), Some(r)) => r,
            (Err(StorageError::RolledBack), Some(Err(e))) => Err(e),
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), None) => Err(E::from(StorageError::RolledBack)),
        }
    }
}

/// Reads column `i` of a row as text.
pub(crate) fn text(row: &[Value], i: usize, name: &'static str) -> Result<String, StorageError> {
    row.get(i)
        .and_then(Value::text)
        .map(str::to_owned)
        .ok_or(StorageError::Column(name))
}

/// Reads column `i` of a row as optional text.
pub(crate) fn opt_text(row: &[Value], i: usize) -> Option<String> {
    row.get(i).and_then(Value::text).map(str::to_owned)
}

/// Reads column `i` of a row as an integer.
pub(crate) fn int(row: &[Value], i: usize, name: &'static str) -> Result<i64, StorageError> {
    row.get(i)
        .and_then(Value::int)
        .ok_or(StorageError::Column(name))
}
