//! The load run of issue 7 (item 10): the real `cunjie-server` binary as a child process on
//! 127.0.0.1 (SQLite in its data folder, or a throwaway PostgreSQL), and a [`Fleet`] of
//! simulated phones (a real store and the real sync engine over HTTP each, one per inspector
//! and cleaner of a big demo township) working a compressed month: each day every phone
//! records offline, then all of them sync at once. The fleet's proxy (clean lanes: no faults)
//! times every answer the server gives; a thread samples the server's resident memory from
//! `/proc/<pid>/status`. The run ends with the fleet's final check (0 lost, 0 duplicated, every
//! phone equal to the server) and answers its figures; the caller decides what to assert.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::fault::Answer;
use crate::pg::PgDatabase;
use crate::reliability::{Fleet, FleetSize, Verdict};
use crate::server::TestServer;

/// Where the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the server's data folder.
    Sqlite,
    /// A fresh database on a throwaway PostgreSQL.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// A process's memory, from `/proc/<pid>/status`, in KiB: (VmRSS, VmHWM).
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples a process's resident memory every 50 ms until dropped; keeps the highest.
#[derive(Debug)]
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let (peak, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some((rss, _)) = memory_kib(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Self {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Latency figures of a set of answers, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// How many.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// The slowest.
    pub max: f64,
}

impl Latency {
    /// Of these answers (nearest-rank percentiles).
    pub fn of<'a>(answers: impl IntoIterator<Item = &'a Answer>) -> Self {
        let mut ms: Vec<f64> = answers
            .into_iter()
            .map(|a| a.micros as f64 / 1000.0)
            .collect();
        if ms.is_empty() {
            return Self::default();
        }
        ms.sort_by(f64::total_cmp);
        let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        Self {
            count: ms.len(),
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: ms[ms.len() - 1],
        }
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.count, self.p50, self.p95, self.p99, self.max
        )
    }
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The database.
    pub backend: Backend,
    /// The seed.
    pub seed: u64,
    /// Days of field work.
    pub days: u32,
    /// The final check's verdict (phones, records, photos, receipts, syncs…).
    pub verdict: Verdict,
    /// Push requests (`POST /api/v1/sync/push`).
    pub push: Latency,
    /// Pull pages (`GET /api/v1/sync/pull`).
    pub pull: Latency,
    /// Photo uploads created (`POST /api/v1/uploads`) and chunks sent (`PATCH`).
    pub uploads: (usize, usize),
    /// Every answer.
    pub all: Latency,
    /// Answers with a 5xx status (method, path, status).
    pub server_errors: Vec<(String, String, u16)>,
    /// Exchanges the server broke (closed without a whole answer, or timed out).
    pub broken: u64,
    /// Wall time of the days (work and sync), without start-up and enrollment.
    pub days_time: Duration,
    /// Wall time of the run, start-up, enrollment and final check included.
    pub elapsed: Duration,
    /// Server RSS right after it started, KiB.
    pub rss_start: u64,
    /// Server RSS after every phone enrolled and pulled its registry, KiB.
    pub rss_enrolled: u64,
    /// Server RSS after each day's sync, KiB.
    pub rss_days: Vec<u64>,
    /// Highest RSS sampled (every 50 ms), KiB.
    pub rss_peak: u64,
    /// The kernel's high-water mark of the server's RSS (`VmHWM`), KiB.
    pub hwm: u64,
}

impl LoadReport {
    /// RSS growth from the end of the first day to the end of the last one, KiB (negative:
    /// it shrank).
    pub fn growth_kib(&self) -> i64 {
        match (self.rss_days.first(), self.rss_days.last()) {
            (Some(a), Some(b)) => *b as i64 - *a as i64,
            _ => 0,
        }
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.verdict;
        let r = &v.recorded;
        let mib = |k: u64| k as f64 / 1024.0;
        writeln!(
            f,
            "load on {} (seed {}): {} phones, {} days; {} records ({} facts, {} orders, {} steps, {} edits), {} photos ({} bytes); {} receipts; 0 lost, 0 duplicated, converged",
            self.backend,
            self.seed,
            v.phones,
            self.days,
            r.records(),
            r.facts,
            r.orders,
            r.steps,
            r.edits,
            r.photos,
            r.photo_bytes,
            v.receipts,
        )?;
        writeln!(f, "  push: {}", self.push)?;
        writeln!(f, "  pull: {}", self.pull)?;
        writeln!(
            f,
            "  photos: {} uploads, {} chunks; all answers: {}",
            self.uploads.0, self.uploads.1, self.all
        )?;
        writeln!(
            f,
            "  5xx: {}; broken exchanges: {}; syncs {} ({} failed)",
            self.server_errors.len(),
            self.broken,
            v.syncs,
            v.failed_syncs
        )?;
        writeln!(
            f,
            "  server RSS: {:.1} MiB at start, {:.1} MiB after enrollment, {:.1} MiB after day 1, {:.1} MiB after the last day (growth {:+.1} MiB), peak {:.1} MiB (VmHWM {:.1} MiB)",
            mib(self.rss_start),
            mib(self.rss_enrolled),
            mib(self.rss_days.first().copied().unwrap_or(0)),
            mib(self.rss_days.last().copied().unwrap_or(0)),
            self.growth_kib() as f64 / 1024.0,
            mib(self.rss_peak),
            mib(self.hwm)
        )?;
        write!(
            f,
            "  time: {:.1} s for the days, {:.1} s in all",
            self.days_time.as_secs_f64(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Runs the load: the server binary `bin` (`cunjie-server`) on `backend` with
/// `size.demo()` seeded, `size.phones()` phones for `size.days` days of
/// `size.records_per_phone / size.days` records each, then the final check.
pub async fn run(bin: &Path, backend: Backend, size: FleetSize, seed: u64) -> LoadReport {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("server dir");
    let pg = (backend == Backend::Postgres).then(PgDatabase::fresh);
    let url = match &pg {
        Some(pg) => pg.url(),
        None => format!("sqlite://{}", dir.path().join("server.db").display()),
    };
    let server = TestServer::spawn_on(bin, dir, &url, size.demo());
    let pid = server.pid().expect("a child process");
    let mem = || memory_kib(pid).expect("the server's /proc status");
    let rss_start = mem().0;
    let sampler = RssSampler::start(pid);
    let mut fleet = Fleet::start_with(size, seed, server, started).await;
    let rss_enrolled = mem().0;
    let per_day = size.records_per_phone / size.days.max(1);
    let days_started = Instant::now();
    let mut rss_days = Vec::new();
    for day in 0..size.days {
        fleet.work_day(day, per_day, size.days - day);
        fleet.sync_round().await;
        rss_days.push(mem().0);
    }
    let days_time = days_started.elapsed();
    let rounds = fleet.heal_and_quiesce(10).await;
    let hwm = mem().1;
    let rss_peak = sampler.peak();
    drop(sampler);
    let verdict = fleet.final_check(rounds).await;
    let answers = fleet.proxy.answers();
    let is = |m: &'static str, p: &'static str| move |a: &&Answer| a.method == m && a.path == p;
    let push: Vec<&Answer> = answers
        .iter()
        .filter(is("POST", "/api/v1/sync/push"))
        .collect();
    let pull: Vec<&Answer> = answers
        .iter()
        .filter(is("GET", "/api/v1/sync/pull"))
        .collect();
    let uploads = (
        answers.iter().filter(is("POST", "/api/v1/uploads")).count(),
        answers.iter().filter(|a| a.method == "PATCH").count(),
    );
    let server_errors = answers
        .iter()
        .filter(|a| a.status >= 500)
        .map(|a| (a.method.clone(), a.path.clone(), a.status))
        .collect();
    LoadReport {
        backend,
        seed,
        days: size.days,
        push: Latency::of(push),
        pull: Latency::of(pull),
        uploads,
        all: Latency::of(&answers),
        server_errors,
        broken: fleet.proxy.counts().upstream_errors,
        days_time,
        elapsed: started.elapsed(),
        rss_start,
        rss_enrolled,
        rss_days,
        rss_peak,
        hwm,
        verdict,
    }
}
