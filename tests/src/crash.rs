//! R3 crash points (sync.md §6 T3): a phone or the server in a **child process** (the
//! `cunjie-crash` binary) that a failpoint kills, and what the harness needs around it.
//!
//! The product crates have failpoints behind their `failpoints` feature (`fail::fail_point!`,
//! named `phone::…` and `server::…`; `docs/reliability.md` lists them). A child reads the kill
//! planned for it from `CUNJIE_CRASH=<point>:<skip>:<delay_ms>` and registers a callback on that
//! point: at the `skip + 1`-th hit it calls [`std::process::abort`], at once or `delay_ms` later
//! from another thread (a kill while a request is in flight). Abort is kill -9 for what matters
//! here: no destructors, no unwinding, no flushing of anything the process still held; SQLite
//! and the file system see exactly what a power cut or an OOM kill would leave.
//!
//! The parent side: [`ServerProcess`] (the real server code on a seeded demo township, in a
//! child on a fixed port, killed and restarted on the same data folder), [`run_phone`] (a phone
//! child that enrolls, records inspections with photos through the real device API and syncs
//! until quiet; it prints `committed <id>` for every record whose submit returned), and the
//! orphan counts of a phone folder and of the server's data folder.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cunjie_domain::person::Role;
use cunjie_server::Township;
use cunjie_server::demo::{DemoTownship, demo_township};

/// The environment variable that plans a kill in a child.
pub const CRASH_ENV: &str = "CUNJIE_CRASH";

/// SIGABRT, the signal [`std::process::abort`] dies of.
const SIGABRT: i32 = 6;

/// A kill planned at a failpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// The failpoint, e.g. `phone::ack_mid`.
    pub point: String,
    /// Hits of the point to let pass before the kill.
    pub skip: u32,
    /// 0: abort at the hit; else abort this many milliseconds after it, from another thread,
    /// while the process goes on (a kill with a request in flight).
    pub delay_ms: u64,
}

impl Kill {
    /// The value of [`CRASH_ENV`].
    pub fn to_env(&self) -> String {
        format!("{}:{}:{}", self.point, self.skip, self.delay_ms)
    }

    /// Reads a value of [`CRASH_ENV`].
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.rsplitn(3, ':');
        let delay_ms = parts.next()?.parse().ok()?;
        let skip = parts.next()?.parse().ok()?;
        let point = parts.next()?.to_owned();
        Some(Self {
            point,
            skip,
            delay_ms,
        })
    }
}

impl std::fmt::Display for Kill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} after {} hits", self.point, self.skip)?;
        if self.delay_ms > 0 {
            write!(f, " + {} ms", self.delay_ms)?;
        }
        Ok(())
    }
}

static FIRED: AtomicBool = AtomicBool::new(false);

/// In a child: arms the kill [`CRASH_ENV`] plans, if any, and answers it.
pub fn arm_from_env() -> Option<Kill> {
    let kill = Kill::parse(&std::env::var(CRASH_ENV).ok()?)?;
    let (skip, delay, point) = (kill.skip, kill.delay_ms, kill.point.clone());
    let hits = AtomicU32::new(0);
    fail::cfg_callback(kill.point.clone(), move || {
        if hits.fetch_add(1, Ordering::SeqCst) != skip {
            return;
        }
        FIRED.store(true, Ordering::SeqCst);
        eprintln!("cunjie-crash: killed at {point} (hit {})", skip + 1);
        if delay == 0 {
            std::process::abort();
        }
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            std::process::abort();
        });
    })
    .ok()?;
    Some(kill)
}

/// In a child, at the end of its work: if a delayed kill fired, waits for it, so a planned
/// kill that was reached always ends the process.
pub fn await_kill() {
    if FIRED.load(Ordering::SeqCst) {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// Whether a child died of the planned kill.
pub fn killed(status: &ExitStatus) -> bool {
    status.signal() == Some(SIGABRT)
}

/// How a phone child works: it makes `records` inspections in all (counting those made in
/// earlier runs), every `photo_every`-th with a failed item and its photo, syncing after every
/// second one, then syncs until quiet.
#[derive(Debug, Clone, Copy)]
pub struct PhonePlan {
    /// Inspections in all.
    pub records: u32,
    /// Every how many inspections one carries a photo.
    pub photo_every: u32,
    /// Seeds the camera pictures (modulo 10,000: the same seed takes the same pictures).
    pub seed: u64,
}

/// What one phone child did.
#[derive(Debug)]
pub struct PhoneRun {
    /// How it ended.
    pub status: ExitStatus,
    /// Ids of the inspections whose submit returned (the person saw them saved).
    pub committed: Vec<String>,
}

/// Runs a phone child on `dir` (created by the child; enrolled with `code` when it is not yet)
/// against `url`, with `kill` planned. Panics if it runs longer than `timeout`.
pub fn run_phone(
    bin: &Path,
    dir: &Path,
    url: &str,
    code: Option<&str>,
    plan: PhonePlan,
    kill: Option<&Kill>,
    timeout: Duration,
) -> PhoneRun {
    let mut cmd = child_command(bin);
    cmd.current_dir(dir.parent().unwrap_or(dir))
        .arg("phone")
        .arg(dir)
        .arg(url)
        .arg(code.unwrap_or("-"))
        .arg(plan.records.to_string())
        .arg(plan.photo_every.to_string())
        .arg(plan.seed.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env_remove(CRASH_ENV);
    if let Some(k) = kill {
        cmd.env(CRASH_ENV, k.to_env());
    }
    let mut child = cmd.spawn().expect("phone child starts");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let status = wait_for(&mut child, timeout)
        .unwrap_or_else(|| panic!("phone child on {} ran past {timeout:?}", dir.display()));
    let out = reader.join().expect("reader");
    PhoneRun {
        status,
        committed: out
            .lines()
            .filter_map(|l| l.strip_prefix("committed "))
            .map(str::to_owned)
            .collect(),
    }
}

/// `bin` run through `sh` with core dumps off (an aborted child must not leave a core file),
/// so that `kill -9`-like aborts stay cheap and leave nothing behind; arguments follow.
fn child_command(bin: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -c 0; exec \"$0\" \"$@\"")
        .arg(bin);
    cmd
}

fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return Some(s);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The township server in a child process (`cunjie-crash server`): the product's `serve` with
/// the upload sweep at start, on a data folder seeded with the demo township, on a port that
/// stays the same across restarts (the phones keep their server address).
#[derive(Debug)]
pub struct ServerProcess {
    /// The office's operations on the same database (enrollment codes).
    pub office: Township,
    /// What was seeded.
    pub demo: DemoTownship,
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl ServerProcess {
    /// Seeds a fresh data folder with the demo township (not started yet).
    pub fn seeded(bin: &Path, villages: usize, groups: u32, households: u32) -> Self {
        let dir = tempfile::tempdir().expect("server dir");
        let demo = demo_township(villages, groups, households);
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let (_db, office) = crate::server::seed_township(&url, &demo);
        Self {
            office,
            demo,
            dir,
            bin: bin.to_owned(),
            port: 0,
            child: None,
        }
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `http://127.0.0.1:PORT` (once started).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server database, read through a connection of the test's own.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("server.db")).expect("server database")
    }

    /// The server database through the server's own storage layer, as the final check reads it.
    pub fn store(&self) -> cunjie_server::Db {
        let url = format!("sqlite://{}", self.dir.path().join("server.db").display());
        cunjie_server::Db::open(&url).expect("server database")
    }

    /// A one-time enrollment code for the inspector of village `v`.
    pub fn inspector_code(&self, v: usize) -> String {
        self.office
            .enrollment_code(self.demo.inspector(v).id, Role::Inspector, 7)
            .expect("enrollment code")
    }

    /// Starts (or restarts) the server child with `kill` planned; returns once it listens.
    pub fn start(&mut self, kill: Option<&Kill>) {
        assert!(self.child.is_none(), "one server child at a time");
        let mut cmd = child_command(&self.bin);
        cmd.current_dir(self.dir.path())
            .arg("server")
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove(CRASH_ENV);
        if let Some(k) = kill {
            cmd.env(CRASH_ENV, k.to_env());
        }
        let mut child = cmd.spawn().expect("server child starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server child prints its port");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("server child did not start: {line:?}"));
        assert!(self.port == 0 || self.port == port, "restarted on its port");
        self.port = port;
        self.child = Some(child);
    }

    /// Waits up to `timeout` for the child to end by itself; answers how it ended (`None`:
    /// still running).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let until = Instant::now() + timeout;
        loop {
            if let Some(s) = child.try_wait().expect("wait") {
                self.child = None;
                return Some(s);
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the child (SIGKILL) if it runs.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Files in a phone's photo folder that no photo row names (crash leftovers: temp files, photos
/// whose row never committed), and photo rows not yet confirmed whose file is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhoneLeftovers {
    /// Files no row names.
    pub orphans: usize,
    /// Rows pointing at a missing file.
    pub dangling: usize,
}

/// Counts [`PhoneLeftovers`] in the phone folder `dir`, reading its database (no sweep).
pub fn phone_leftovers(dir: &Path) -> PhoneLeftovers {
    let photos = dir.join("photos");
    let db = rusqlite::Connection::open(dir.join("cunjie.db")).expect("phone db");
    let mut named = BTreeSet::new();
    let mut out = PhoneLeftovers::default();
    let mut stmt = db
        .prepare("SELECT local_path, thumb_path, original_path, state FROM photo")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .expect("query");
    for row in rows {
        let (local, thumb, original, state) = row.expect("row");
        let local = photos.join(local);
        if state != "done" && !local.is_file() {
            out.dangling += 1;
        }
        named.insert(local);
        named.extend(thumb.map(|t| photos.join(t)));
        named.extend(original.map(|o| photos.join(o)));
    }
    for folder in [photos.clone(), photos.join("originals")] {
        for entry in std::fs::read_dir(&folder).into_iter().flatten() {
            let path = entry.expect("entry").path();
            if path.is_file() && !named.contains(&path) {
                out.orphans += 1;
            }
        }
    }
    out
}

/// What the server's data folder holds that it should not once the phones are quiet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerLeftovers {
    /// `uploads/*.part` files of no open upload, or of any upload once everything is stored.
    pub parts: usize,
    /// Files under `blobs/` that are not the blob of a `stored` photo (staging files, blobs
    /// without their row).
    pub stray_blobs: usize,
    /// `stored` photos whose blob file is missing.
    pub dangling: usize,
}

/// Counts [`ServerLeftovers`] in a server data folder.
pub fn server_leftovers(dir: &Path) -> ServerLeftovers {
    let db = rusqlite::Connection::open(dir.join("server.db")).expect("server db");
    let stored: BTreeSet<String> = db
        .prepare("SELECT sha256 FROM photo WHERE state = 'stored'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut out = ServerLeftovers {
        parts: std::fs::read_dir(dir.join("uploads"))
            .into_iter()
            .flatten()
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
            .count(),
        ..ServerLeftovers::default()
    };
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.join("blobs")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten() {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                if stored.contains(&name) {
                    found.insert(name);
                } else {
                    out.stray_blobs += 1;
                }
            }
        }
    }
    out.dangling = stored.len() - found.len();
    out
}

/// `PRAGMA integrity_check` of an SQLite file is `ok`.
pub fn integrity_ok(path: &Path) -> bool {
    let db = rusqlite::Connection::open(path).expect("database");
    let r: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    r == "ok"
}

/// The phone's store, opened by the test (after the child ended) for the final check.
pub fn open_phone_store(dir: &Path) -> cunjie_store::Store {
    cunjie_store::Store::open(
        &dir.join("cunjie.db"),
        cunjie_store::StoreOptions {
            clock: Arc::new(cunjie_domain::clock::SystemClock),
            id_seed: None,
        },
    )
    .expect("phone store opens")
}
