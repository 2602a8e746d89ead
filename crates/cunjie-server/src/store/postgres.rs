//! The PostgreSQL backend, on the synchronous `postgres` crate.
//!
//! The township server talks to a local or LAN database, so connections are made without TLS
//! (`NoTls`); TLS to a remote database is future work.
//!
//! Each pooled connection lives on its own worker thread, which owns the `postgres::Client`
//! and runs the statements sent to it. The synchronous client drives its connection with a
//! private Tokio runtime, and Tokio refuses to start a runtime from inside another one; the
//! server calls the database from `spawn_blocking`, from async `main` and from async tests,
//! so every call goes through the worker thread and is safe from any of them.
//!
//! Transactions run at READ COMMITTED: the push path locks the device row with `FOR UPDATE`
//! and the per-scope counter row lock orders writers. A transaction that hits a serialization
//! failure or a deadlock (SQLSTATE 40001, 40P01) is rolled back and its closure run again, up
//! to [`MAX_RETRIES`] times.

use std::cell::Cell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};

use super::{Backend, Dialect, StorageError, Tx, Value};

/// Migrations, applied in order; version `n` is the `n`-th entry (from 1).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_photos.sql"),
    include_str!("../../migrations/postgres/0003_scoring.sql"),
    include_str!("../../migrations/postgres/0004_device_token_expiry.sql"),
];

/// Key of the advisory lock that serialises concurrent migrators ("cunjie" in ASCII).
const MIGRATION_LOCK: i64 = 0x6375_6e6a_6965;

/// Connections kept open at most.
const POOL_SIZE: usize = 8;

/// How long a transaction waits for a free connection before giving up with `Busy`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect timeout used when the URL does not set one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a transaction's closure is run again after a serialization failure or deadlock.
pub(crate) const MAX_RETRIES: u32 = 3;

/// Prepared statements kept per connection; the cache is cleared when it grows past this.
const STATEMENT_CACHE: usize = 512;

/// The PostgreSQL backend.
pub(crate) struct PostgresBackend {
    pool: Pool,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the config: it may hold a password.
        f.debug_struct("PostgresBackend")
            .field("pool_size", &self.pool.max)
            .finish_non_exhaustive()
    }
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://user@host:port/db`, without TLS) and migrates it.
    pub(crate) fn open(url: &str) -> Result<Self, StorageError> {
        let mut config = Config::from_str(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("cunjie-server");
        }
        let pool = Pool {
            config,
            max: POOL_SIZE,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                live: 0,
            }),
            freed: Condvar::new(),
        };
        {
            let conn = pool.checkout()?;
            conn.conn()?.run(migrate)??;
        }
        Ok(Self { pool })
    }
}

/// Applies every migration not yet recorded in `schema_version`, one transaction each.
fn migrate(s: &mut Session) -> Result<(), StorageError> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let mut tx = s.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")?;
        if tx
            .query_opt(
                "SELECT 1 FROM schema_version WHERE version = $1",
                &[&version],
            )?
            .is_none()
        {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES ($1, now()::text)",
                &[&version],
            )?;
        }
        tx.commit()?;
    }
    // Statements prepared before the schema changed must not be reused.
    s.stmts.clear();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Connections: one worker thread per connection.

/// What a worker thread owns: the client and its prepared statements.
struct Session {
    client: Client,
    stmts: HashMap<String, Statement>,
}

impl Session {
    fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(stmt) = self.stmts.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        if self.stmts.len() >= STATEMENT_CACHE {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, postgres::Error> {
        let stmt = self.prepare(sql)?;
        let bound = bind(&stmt, params);
        self.client.execute(&stmt, &refs(&bound))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, postgres::Error> {
        let stmt = self.prepare(sql)?;
        let bound = bind(&stmt, params);
        let rows = self.client.query(&stmt, &refs(&bound))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, ColumnValue>(i).map(|c| c.0))
                    .collect()
            })
            .collect()
    }
}

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A handle on one connection's worker thread. Dropping it ends the thread and closes the
/// connection.
struct Conn {
    jobs: mpsc::Sender<Job>,
}

impl Conn {
    /// Starts a worker thread and connects it.
    fn connect(config: &Config) -> Result<Self, StorageError> {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), postgres::Error>>(1);
        let (jobs, jobs_rx) = mpsc::channel::<Job>();
        let config = config.clone();
        std::thread::Builder::new()
            .name("cunjie-postgres".to_owned())
            .spawn(move || {
                let client = match config.connect(NoTls) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                if ready_tx.send(Ok(())).is_err() {
                    return;
                }
                let mut session = Session {
                    client,
                    stmts: HashMap::new(),
                };
                while let Ok(job) = jobs_rx.recv() {
                    job(&mut session);
                }
            })
            .map_err(|_| StorageError::Busy)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self { jobs }),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(StorageError::Busy),
        }
    }

    /// Runs `f` on the worker thread and waits for its result. `Err(Busy)` if the worker is gone.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R, StorageError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |s: &mut Session| {
                let _ = tx.send(f(s));
            }))
            .map_err(|_| StorageError::Busy)?;
        rx.recv().map_err(|_| StorageError::Busy)
    }

    /// Runs a statement that needs no result (BEGIN, COMMIT, ROLLBACK).
    fn simple(&self, sql: &'static str) -> Result<Result<(), postgres::Error>, StorageError> {
        self.run(move |s| s.client.batch_execute(sql))
    }

    /// Whether the connection is known to be dead (or its worker is gone).
    fn is_closed(&self) -> bool {
        self.run(|s| s.client.is_closed()).unwrap_or(true)
    }
}

// ---------------------------------------------------------------------------------------------
// The pool.

struct Pool {
    config: Config,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    /// Connections not in use (most recently used last).
    idle: Vec<Conn>,
    /// Connections open, idle or checked out (or being opened).
    live: usize,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes an idle connection, opens one if fewer than `max` are open, or waits for one.
    fn checkout(&self) -> Result<Pooled<'_>, StorageError> {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                    broken: Cell::new(false),
                });
            }
            if state.live < self.max {
                state.live += 1;
                drop(state);
                return match Conn::connect(&self.config) {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                        broken: Cell::new(false),
                    }),
                    Err(e) => {
                        self.lock().live -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StorageError::Busy);
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A checked-out connection; goes back to the pool on drop, or is dropped if broken.
struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    broken: Cell<bool>,
}

impl Pooled<'_> {
    fn conn(&self) -> Result<&Conn, StorageError> {
        self.conn.as_ref().ok_or(StorageError::Busy)
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let mut state = self.pool.lock();
        if self.broken.get() || std::thread::panicking() {
            state.live -= 1;
            drop(state);
            drop(conn);
        } else {
            state.idle.push(conn);
            drop(state);
        }
        self.pool.freed.notify_one();
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions.

fn is_retryable(e: &postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// One open transaction on a checked-out connection.
struct PgTx<'a> {
    conn: &'a Conn,
    /// A statement failed: PostgreSQL has aborted the transaction, it cannot commit.
    failed: bool,
    /// A statement failed with a serialization failure or deadlock: worth running again.
    retryable: bool,
}

impl PgTx<'_> {
    fn note<T>(
        &mut self,
        r: Result<Result<T, postgres::Error>, StorageError>,
    ) -> Result<T, StorageError> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.failed = true;
                self.retryable |= is_retryable(&e);
                Err(e.into())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
        let (sql, params) = (sql.to_owned(), params.to_vec());
        let r = self.conn.run(move |s| s.exec(&sql, &params));
        self.note(r)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StorageError> {
        let (sql, params) = (sql.to_owned(), params.to_vec());
        let r = self.conn.run(move |s| s.query(&sql, &params));
        self.note(r)
    }
}

/// How one attempt at a transaction ended.
enum Attempt {
    Done(Result<(), StorageError>),
    Retry,
}

impl PostgresBackend {
    /// Checks a connection out and opens a transaction on it. A pooled connection found dead
    /// (the server restarted, the network dropped it) is discarded and another one tried.
    fn begin(&self) -> Result<Pooled<'_>, StorageError> {
        let mut tries = 0;
        loop {
            let pooled = self.pool.checkout()?;
            match pooled
                .conn()?
                .simple("BEGIN ISOLATION LEVEL READ COMMITTED")
            {
                Ok(Ok(())) => return Ok(pooled),
                Ok(Err(e)) => {
                    pooled.broken.set(pooled.conn()?.is_closed());
                    tries += 1;
                    if !pooled.broken.get() || tries > self.pool.max {
                        return Err(e.into());
                    }
                }
                Err(e) => {
                    pooled.broken.set(true);
                    tries += 1;
                    if tries > self.pool.max {
                        return Err(e);
                    }
                }
            }
        }
    }

    fn attempt(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StorageError>,
        last: bool,
    ) -> Result<Attempt, StorageError> {
        let pooled = self.begin()?;
        let conn = pooled.conn()?;
        let mut tx = PgTx {
            conn,
            failed: false,
            retryable: false,
        };
        let res = f(&mut tx);
        let (failed, retryable) = (tx.failed, tx.retryable);
        if res.is_ok() && !failed {
            return match conn.simple("COMMIT") {
                Ok(Ok(())) => Ok(Attempt::Done(Ok(()))),
                Ok(Err(e)) => {
                    pooled.broken.set(conn.is_closed());
                    if is_retryable(&e) && !last {
                        Ok(Attempt::Retry)
                    } else {
                        Ok(Attempt::Done(Err(e.into())))
                    }
                }
                Err(e) => {
                    pooled.broken.set(true);
                    Ok(Attempt::Done(Err(e)))
                }
            };
        }
        match conn.simple("ROLLBACK") {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => pooled.broken.set(true),
        }
        if retryable && !last {
            return Ok(Attempt::Retry);
        }
        // A closure that swallowed a failed statement and returned Ok still cannot commit.
        Ok(Attempt::Done(res.and(Err(StorageError::RolledBack))))
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        for attempt in 0..=MAX_RETRIES {
            match self.attempt(f, attempt == MAX_RETRIES)? {
                Attempt::Done(r) => return r,
                Attempt::Retry => std::thread::sleep(Duration::from_millis(5 << attempt)),
            }
        }
        Err(StorageError::Busy)
    }
}

// ---------------------------------------------------------------------------------------------
// Values in and out.

/// Converts `params` to Rust values of the types PostgreSQL inferred for the statement's
/// parameters: a NULL is bound with the parameter's own type, an integer bound to a text
/// parameter is sent as its decimal text and a text holding an integer bound to an integer
/// parameter as that integer (as SQLite would coerce them). Anything else is passed as is and
/// the driver reports the mismatch.
fn bind(stmt: &Statement, params: &[Value]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    let types = stmt.params();
    params
        .iter()
        .enumerate()
        .map(|(i, v)| -> Box<dyn ToSql + Sync + Send> {
            let Some(ty) = types.get(i) else {
                // Too many parameters: the driver reports the count mismatch.
                return Box::new(Option::<String>::None);
            };
            match (v, ty) {
                (Value::Null, t) if *t == Type::INT8 => Box::new(Option::<i64>::None),
                (Value::Null, t) if *t == Type::INT4 => Box::new(Option::<i32>::None),
                (Value::Null, t) if *t == Type::INT2 => Box::new(Option::<i16>::None),
                (Value::Null, t) if *t == Type::BOOL => Box::new(Option::<bool>::None),
                (Value::Null, t) if *t == Type::FLOAT8 => Box::new(Option::<f64>::None),
                (Value::Null, t) if *t == Type::FLOAT4 => Box::new(Option::<f32>::None),
                (Value::Null, _) => Box::new(Option::<String>::None),
                (Value::Int(n), t) if *t == Type::INT8 => Box::new(*n),
                (Value::Int(n), t) if *t == Type::INT4 => int_or_wide::<i32>(*n),
                (Value::Int(n), t) if *t == Type::INT2 => int_or_wide::<i16>(*n),
                (Value::Int(n), t) if *t == Type::BOOL => Box::new(*n != 0),
                (Value::Int(n), t) if *t == Type::FLOAT8 => Box::new(*n as f64),
                (Value::Int(n), t) if *t == Type::FLOAT4 => Box::new(*n as f32),
                (Value::Int(n), t) if <String as ToSql>::accepts(t) => Box::new(n.to_string()),
                (Value::Int(n), _) => Box::new(*n),
                (Value::Text(s), t) if [Type::INT8, Type::INT4, Type::INT2].contains(t) => {
                    match s.trim().parse::<i64>() {
                        Ok(n) if *t == Type::INT8 => Box::new(n),
                        Ok(n) if *t == Type::INT4 => int_or_wide::<i32>(n),
                        Ok(n) => int_or_wide::<i16>(n),
                        Err(_) => Box::new(s.clone()),
                    }
                }
                (Value::Text(s), _) => Box::new(s.clone()),
            }
        })
        .collect()
}

/// `n` as the narrower integer type, or as an `i64` (which the driver refuses with a clear
/// error) when it does not fit.
fn int_or_wide<T>(n: i64) -> Box<dyn ToSql + Sync + Send>
where
    T: TryFrom<i64> + ToSql + Sync + Send + 'static,
{
    match T::try_from(n) {
        Ok(v) => Box::new(v),
        Err(_) => Box::new(n),
    }
}

fn refs(bound: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    bound.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
}

/// One result column read as a [`Value`]: integers and booleans as `Int`, text, JSON and
/// names as `Text`, NULL as `Null`. `numeric` (what `sum(bigint)` returns) and floats are
/// truncated to integers, as the SQLite backend does with reals.
struct ColumnValue(Value);

type BoxError = Box<dyn StdError + Sync + Send>;

impl<'a> FromSql<'a> for ColumnValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => Value::Int(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Int(f64::from_sql(ty, raw)? as i64),
            Type::FLOAT4 => Value::Int(f32::from_sql(ty, raw)? as i64),
            Type::NUMERIC => Value::Int(numeric_to_i64(raw)?),
            Type::JSON => Value::Text(std::str::from_utf8(raw)?.to_owned()),
            Type::JSONB => match raw.split_first() {
                Some((1, json)) => Value::Text(std::str::from_utf8(json)?.to_owned()),
                _ => return Err("unsupported jsonb format version".into()),
            },
            _ if <String as FromSql<'_>>::accepts(ty) => Value::Text(String::from_sql(ty, raw)?),
            _ => return Err(format!("PostgreSQL type {ty} is not supported by the storage seam; cast the column to text or bigint").into()),
        };
        Ok(Self(v))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Self(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Decodes a binary `numeric`, truncating any fraction towards zero.
fn numeric_to_i64(raw: &[u8]) -> Result<i64, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        let b = raw.get(2 * i..2 * i + 2).ok_or("truncated numeric")?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    if sign != 0x0000 && sign != 0x4000 {
        return Err("numeric is NaN or infinite".into());
    }
    let mut acc: i128 = 0;
    for i in 0..=weight.max(-1) {
        let digit = match usize::try_from(i) {
            Ok(i) if i < ndigits => i128::from(word(4 + i)?),
            _ => 0,
        };
        acc = acc
            .checked_mul(10_000)
            .and_then(|a| a.checked_add(digit))
            .ok_or("numeric out of range")?;
    }
    if sign == 0x4000 {
        acc = -acc;
    }
    Ok(i64::try_from(acc)?)
}

#[cfg(test)]
mod tests {
    use super::numeric_to_i64;

    fn numeric(weight: i16, negative: bool, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [
            u16::try_from(digits.len()).expect("few digits"),
            weight as u16,
            if negative { 0x4000 } else { 0 },
            0,
        ] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numerics_decode_to_integers() {
        assert_eq!(
            numeric_to_i64(&numeric(0, false, &[])).expect("zero"),
            0,
            "an empty numeric is zero"
        );
        assert_eq!(
            numeric_to_i64(&numeric(1, false, &[12, 3456])).expect("int"),
            123_456,
            "two base-10000 digits"
        );
        assert_eq!(
            numeric_to_i64(&numeric(2, true, &[1])).expect("neg"),
            -100_000_000,
            "trailing zero digits are implied by the weight"
        );
        assert_eq!(
            numeric_to_i64(&numeric(0, false, &[7, 5000])).expect("fraction"),
            7,
            "7.5 truncates to 7"
        );
        assert_eq!(
            numeric_to_i64(&numeric(-1, false, &[5000])).expect("small"),
            0,
            "0.5 truncates to 0"
        );
        assert!(
            numeric_to_i64(&numeric(5, false, &[1])).is_err(),
            "1e20 does not fit an i64"
        );
    }
}
