//! A real PostgreSQL for tests and benchmarks (the suite that uses it is `pg.rs`).
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
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cunjie_server::Db;

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
