//! A real PostgreSQL for the tests, and the conformance suite on it.
//!
//! [`TestPostgres`] runs `initdb` and `postgres` on a temporary directory under `/tmp` and a
//! free port on 127.0.0.1 (trust authentication, `fsync=off`). PostgreSQL refuses to run as
//! root, so when the tests run as root the server runs as the `postgres` OS user. One server
//! is shared by every test of this binary ([`shared`]); each test gets a fresh database of
//! its own ([`fresh_pg_db`]).
//!
//! The server is started through a small bash "guardian" that holds the read end of a pipe
//! from this process. When the pipe closes — [`TestPostgres`] is dropped, or the test process
//! exits, panics or is killed, which is also how the never-dropped shared server ends — the
//! guardian stops PostgreSQL (fast shutdown) and removes the directory.
//!
//! PostgreSQL must be installed: binaries are looked for in `$CUNJIE_PG_BIN`, then in the
//! highest `/usr/lib/postgresql/*/bin`. If they are missing the tests fail (never skip) and say
//! to run `bash scripts/test`, which installs it.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use cunjie_server::store::{Dialect, Value};
use cunjie_server::{Db, StorageError};

use crate::conformance;

/// How long PostgreSQL gets to accept connections after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the guardian gets to stop PostgreSQL and clean up on drop.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Watches the pipe from the test process; when it closes, stops PostgreSQL and removes the
/// directory. If PostgreSQL stops on its own first, prints its log and leaves the directory.
/// Arguments: directory, binary directory, port.
const GUARDIAN: &str = r#"
set -u
dir=$1 bin=$2 port=$3
"$bin/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=300 -c deadlock_timeout=100ms \
  >"$dir/postgres.log" 2>&1 </dev/null &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  read -r -t 1 _
  rc=$?
  if [ "$rc" -ge 1 ] && [ "$rc" -le 128 ]; then
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    rm -rf "$dir"
    exit 0
  fi
done
cat "$dir/postgres.log"
exit 1
"#;

/// A PostgreSQL server on a temporary directory, stopped (and the directory removed) on drop.
#[derive(Debug)]
pub(crate) struct TestPostgres {
    dir: PathBuf,
    port: u16,
    guardian: Option<Child>,
    started_in: Duration,
}

/// Which OS user runs PostgreSQL: `Some((uid, gid))` of `postgres` when we are root.
fn run_as() -> Option<(u32, u32)> {
    if id(&["-u"]) != 0 {
        return None;
    }
    Some((id(&["-u", "postgres"]), id(&["-g", "postgres"])))
}

fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().expect("`id` runs");
    assert!(
        out.status.success(),
        "`id {}` failed ({}): running as root, PostgreSQL needs the `postgres` OS user; run `bash scripts/test`, which installs PostgreSQL and creates it",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("`id` prints a number")
}

/// The directory holding `initdb` and `postgres`.
fn pg_bin() -> PathBuf {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("CUNJIE_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            has_server(&dir),
            "CUNJIE_PG_BIN={} holds no `postgres` and `initdb`; unset it to use /usr/lib/postgresql/*/bin (`bash scripts/test` installs PostgreSQL there)",
            dir.display()
        );
        return dir;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no postgres and initdb in $CUNJIE_PG_BIN or /usr/lib/postgresql/*/bin); \
             the PostgreSQL tests need a real server: run `bash scripts/test`, which installs it"
        ),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// Runs `f` on a fresh thread: the synchronous `postgres` client starts its own Tokio runtime,
/// which Tokio refuses inside another one (these helpers are called from async tests too).
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn connect(port: u16, dbname: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(dbname)
        .connect_timeout(Duration::from_secs(2))
        .connect(postgres::NoTls)
}

impl TestPostgres {
    /// Initialises a data directory and starts PostgreSQL on it, with a `cunjie_test` database.
    pub(crate) fn start() -> Self {
        off_runtime(Self::start_blocking)
    }

    fn start_blocking() -> Self {
        let started = Instant::now();
        let bin = pg_bin();
        let user = run_as();
        let as_user = |cmd: &mut Command| {
            if let Some((uid, gid)) = user {
                cmd.uid(uid).gid(gid);
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("cunjie-pg-")
            .tempdir_in("/tmp")
            .expect("a temp dir under /tmp")
            .keep();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .expect("temp dir handed to the postgres user");
        }
        let mut server = Self {
            dir,
            port: 0,
            guardian: None,
            started_in: Duration::ZERO,
        };

        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(server.dir.join("data"))
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(&server.dir);
        as_user(&mut initdb);
        let out = initdb.output().expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        // A port found free may be taken before PostgreSQL binds it: try a few.
        let mut last_log = String::new();
        for _ in 0..3 {
            server.port = free_port();
            let mut guardian = Command::new("bash");
            guardian
                .arg("-c")
                .arg(GUARDIAN)
                .arg("cunjie-pg-guardian")
                .arg(&server.dir)
                .arg(&bin)
                .arg(server.port.to_string())
                .current_dir(&server.dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            as_user(&mut guardian);
            server.guardian = Some(guardian.spawn().expect("bash runs"));
            match server.wait_ready() {
                Ok(()) => {
                    let mut client =
                        connect(server.port, "postgres").expect("PostgreSQL accepts connections");
                    client
                        .batch_execute("CREATE DATABASE cunjie_test")
                        .expect("database cunjie_test created");
                    server.started_in = started.elapsed();
                    return server;
                }
                Err(log) => last_log = log,
            }
        }
        panic!(
            "PostgreSQL did not start on {}:\n{last_log}",
            server.dir.display()
        );
    }

    /// Polls until PostgreSQL accepts connections; `Err(log)` if it stopped or never answered.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last_error: String;
        loop {
            match connect(self.port, "postgres") {
                Ok(_) => return Ok(()),
                Err(e) => last_error = e.to_string(),
            }
            let guardian = self
                .guardian
                .as_mut()
                .expect("the guardian was just started");
            if let Ok(Some(_)) = guardian.try_wait() {
                let mut log = String::new();
                if let Some(mut out) = guardian.stdout.take() {
                    let _ = out.read_to_string(&mut log);
                }
                self.guardian = None;
                return Err(log);
            }
            if Instant::now() >= deadline {
                self.stop();
                let log =
                    std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
                panic!(
                    "PostgreSQL did not accept connections within {READY_TIMEOUT:?} ({last_error}):\n{log}"
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The port PostgreSQL listens on (127.0.0.1).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// How long `initdb`, startup and the first database took.
    pub(crate) fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The URL of database `name` on this server.
    pub(crate) fn url_for(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of the `cunjie_test` database.
    pub(crate) fn url(&self) -> String {
        self.url_for("cunjie_test")
    }

    /// Creates an empty database `name` (an SQL identifier: letters, digits, underscores).
    pub(crate) fn create_database(&self, name: &str) {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?} is a plain identifier"
        );
        let port = self.port;
        off_runtime(|| {
            let mut client = connect(port, "postgres").expect("PostgreSQL accepts connections");
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap_or_else(|e| panic!("database {name} created: {e}"));
        });
    }

    /// Closes the guardian's pipe and waits for it to stop PostgreSQL; kills both if it hangs.
    fn stop(&mut self) {
        let Some(mut guardian) = self.guardian.take() else {
            return;
        };
        drop(guardian.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = guardian.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = guardian.kill();
        let _ = guardian.wait();
        if let Some(pid) = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server shared by this test binary, started on first use. A static is never dropped:
/// the guardian stops it when the process exits.
pub(crate) fn shared() -> &'static TestPostgres {
    static SHARED: OnceLock<TestPostgres> = OnceLock::new();
    SHARED.get_or_init(TestPostgres::start)
}

/// A fresh database on the shared server.
#[derive(Debug)]
pub(crate) struct PgDatabase {
    /// The server.
    pub(crate) server: &'static TestPostgres,
    /// The database's name.
    pub(crate) name: String,
}

impl PgDatabase {
    /// Its URL, for opening another [`Db`] on the same database.
    pub(crate) fn url(&self) -> String {
        self.server.url_for(&self.name)
    }
}

/// A new empty database on the shared server, opened (and migrated) as a [`Db`].
pub(crate) fn fresh_pg_db() -> (PgDatabase, Db) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let server = shared();
    let name = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    server.create_database(&name);
    let pg = PgDatabase { server, name };
    let db = Db::open(&pg.url()).unwrap_or_else(|e| panic!("{} opens: {e}", pg.url()));
    (pg, db)
}

macro_rules! on_pg {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (_pg, db) = fresh_pg_db();
            conformance::$name(db).await;
        }
    )*};
}

crate::conformance::scenarios!(on_pg);

fn count(db: &Db, sql: &str, params: &[Value]) -> i64 {
    let rows = db
        .tx(|tx| tx.query(sql, params))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match rows.as_slice() {
        [row] => row
            .first()
            .and_then(Value::int)
            .unwrap_or_else(|| panic!("{sql} returns an integer, got {row:?}")),
        _ => panic!("{sql} returns one row, got {rows:?}"),
    }
}

/// The backend on its own, without the server's rules: migrations are idempotent, `$n`
/// parameters and values round-trip (NULLs, integers, text, `count(*)`, booleans), an `Err`
/// or a failed statement rolls back, it works inside a Tokio runtime, and a deadlock is
/// retried.
#[test]
fn postgres_backend_smoke() {
    let (pg, db) = fresh_pg_db();
    let default = pg.server.url();
    assert_eq!(
        default,
        format!(
            "postgres://postgres@127.0.0.1:{}/cunjie_test",
            pg.server.port()
        ),
        "the server's default database URL"
    );
    Db::open(&default).expect("the cunjie_test database exists and migrates");
    eprintln!("PostgreSQL started in {:?}", pg.server.started_in());
    assert_eq!(
        db.dialect(),
        Dialect::Postgres,
        "a postgres:// URL opens the PostgreSQL backend"
    );
    let again = Db::open(&pg.url()).expect("opening a migrated database again is a no-op");
    // Migrators racing on an empty database wait for each other (advisory lock).
    pg.server.create_database(&format!("{}_race", pg.name));
    let race_url = pg.server.url_for(&format!("{}_race", pg.name));
    std::thread::scope(|s| {
        let openers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| Db::open(&race_url).map(|_| ())))
            .collect();
        for opener in openers {
            let res = opener.join().expect("an opener thread");
            assert!(res.is_ok(), "concurrent migrators all succeed: {res:?}");
        }
    });
    let versions = again
        .tx(|tx| tx.query("SELECT version FROM schema_version ORDER BY version", &[]))
        .expect("schema_version reads");
    assert_eq!(
        versions,
        vec![vec![Value::Int(1)]],
        "each migration is recorded once"
    );

    // Insert through one handle, read back through the other, with $n parameters.
    let township = |id: &str, code: &str| -> Vec<Value> {
        vec![
            Value::from(id),
            Value::from(code),
            Value::from("白云镇"),
            Value::from("2026-11-17T09:00:00Z"),
        ]
    };
    let insert = "INSERT INTO township (id, code, name, created_at) VALUES ($1, $2, $3, $4)";
    let changed = db
        .tx(|tx| tx.exec(insert, &township("t-1", "BAIYUN")))
        .expect("a township is inserted");
    assert_eq!(changed, 1, "one row inserted");
    let rows = again
        .tx(|tx| {
            tx.query(
                "SELECT id, code, name, created_at FROM township WHERE code = $1",
                &[Value::from("BAIYUN")],
            )
        })
        .expect("townships read");
    assert_eq!(
        rows,
        vec![township("t-1", "BAIYUN")],
        "the row reads back as inserted"
    );

    // NULL into BIGINT and TEXT columns, integers, count(*) (int8) and booleans.
    let receipt = "INSERT INTO receipt (device_id, seq, mutation_id, status, server_version, code, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let params = [
        Value::from("d-1"),
        Value::Int(i64::MAX),
        Value::from("m-1"),
        Value::from("applied"),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::from("2026-11-17T09:00:00Z"),
    ];
    db.tx(|tx| tx.exec(receipt, &params))
        .expect("NULLs bind to BIGINT and TEXT parameters");
    let rows = db
        .tx(|tx| tx.query("SELECT seq, server_version, code, count(*) OVER (), $1::bigint IS NULL FROM receipt WHERE device_id = $2", &[Value::Null, Value::from("d-1")]))
        .expect("the receipt reads");
    assert_eq!(
        rows,
        vec![vec![
            Value::Int(i64::MAX),
            Value::Null,
            Value::Null,
            Value::Int(1),
            Value::Int(1)
        ]],
        "integers, NULLs, count and booleans read back"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("BAIYUN")]
        ),
        1,
        "count(*) is an integer"
    );
    assert_eq!(
        count(&db, "SELECT sum(seq) FROM receipt", &[]),
        i64::MAX,
        "sum(bigint) is numeric, read as an integer"
    );

    // An Err from the closure rolls back what it wrote.
    let res: Result<(), StorageError> = db.tx(|tx| {
        tx.exec(insert, &township("t-2", "HEISHAN"))?;
        Err(StorageError::Column("stop"))
    });
    assert!(
        matches!(res, Err(StorageError::Column("stop"))),
        "the closure's error is returned as is, got {res:?}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("HEISHAN")]
        ),
        0,
        "the failed transaction's insert is rolled back"
    );

    // A failed statement rolls back too (even if the closure ignores it), and the pool recovers.
    let res: Result<(), StorageError> = db.tx(|tx| {
        tx.exec(insert, &township("t-3", "QINGSHUI"))?;
        let dup = tx.exec(insert, &township("t-1", "BAIYUN"));
        assert!(
            matches!(dup, Err(StorageError::Postgres(_))),
            "a duplicate key is a PostgreSQL error, got {dup:?}"
        );
        Ok(())
    });
    assert!(
        res.is_err(),
        "a transaction with a failed statement does not commit"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("QINGSHUI")]
        ),
        0,
        "nothing of it is kept"
    );

    // Inside a Tokio runtime (as in async tests and async main) the backend still works.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let n = rt.block_on(async { count(&db, "SELECT count(*) FROM township", &[]) });
    assert_eq!(n, 1, "queries work from inside a runtime");

    // Two transactions locking two rows in opposite orders deadlock; the victim is retried.
    db.tx(|tx| tx.exec(insert, &township("t-4", "LIUSHU")))
        .expect("a second township");
    let barrier = Arc::new(Barrier::new(2));
    let attempts = AtomicU64::new(0);
    let lock = "UPDATE township SET name = name || '' WHERE code = $1";
    std::thread::scope(|s| {
        let run = |first: &'static str, second: &'static str| {
            let (db, barrier, attempts) = (db.clone(), barrier.clone(), &attempts);
            s.spawn(move || {
                let mut tries = 0;
                db.tx(|tx| {
                    tries += 1;
                    attempts.fetch_add(1, Ordering::Relaxed);
                    tx.exec(lock, &[Value::from(first)])?;
                    if tries == 1 {
                        barrier.wait();
                    }
                    tx.exec(lock, &[Value::from(second)])
                })
            })
        };
        let a = run("BAIYUN", "LIUSHU");
        let b = run("LIUSHU", "BAIYUN");
        let (a, b) = (a.join().expect("thread a"), b.join().expect("thread b"));
        assert!(
            a.is_ok() && b.is_ok(),
            "both transactions commit after the deadlock is retried: {a:?} {b:?}"
        );
    });
    assert_eq!(
        attempts.load(Ordering::Relaxed),
        3,
        "exactly one of the two transactions ran again"
    );
}
