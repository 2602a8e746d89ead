//! Load (issue 7 item 10), small size: the real `cunjie-server` binary as a child process, on
//! SQLite and on PostgreSQL, and 30 phones (2 inspectors, 28 cleaners: a real store and the
//! real sync engine each) working 5 days (3 records a day each, 20 photos in all), each day offline and then all syncing at once. Every
//! answer is timed and its status kept; the server's memory is read from /proc. Asserted: no
//! answer with a 5xx status and no exchange the server broke, every sync succeeded, the final
//! check (0 lost, 0 duplicated, 0 corrupt, every phone equal to the server) and the server's
//! memory bounded. Latencies are printed, not asserted (the bench `load` measures them at 300
//! phones for a month: `cargo bench -p cunjie-e2e --bench load`, docs/reliability.md).

use std::path::Path;

use cunjie_e2e::load::{Backend, LoadReport, run};
use cunjie_e2e::reliability::{FleetSize, seed};

/// The server's resident memory never goes past this in the small run (a debug build serving
/// 30 phones stays well under it; a leak per request or per phone would not).
const RSS_LIMIT_MIB: u64 = 128;

async fn small_load(backend: Backend) -> LoadReport {
    let seed = seed(20_261_210);
    let size = FleetSize {
        villages: 2,
        groups: 14,
        households: 20,
        days: 5,
        records_per_phone: 15,
        photos: 20,
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_cunjie-e2e-server"));
    let report = run(bin, backend, size, seed).await;
    eprintln!("{report}");
    let v = &report.verdict;
    assert_eq!(v.phones, 30, "30 phones");
    assert!(
        report.server_errors.is_empty(),
        "no 5xx answer (seed {seed}): {:?}",
        report.server_errors
    );
    assert_eq!(
        report.broken, 0,
        "no exchange broken by the server (seed {seed})"
    );
    assert_eq!(
        v.failed_syncs, 0,
        "every sync on a clean link succeeded (seed {seed})"
    );
    assert!(
        report.push.count >= 30 * 5,
        "every phone pushed every day: {} pushes",
        report.push.count
    );
    assert!(v.recorded.photos > 0, "photos were taken");
    assert_eq!(
        report.uploads.0 as u64, v.recorded.photos,
        "each photo uploaded once (no retry on a clean link)"
    );
    assert!(
        report.hwm < RSS_LIMIT_MIB * 1024,
        "server memory bounded: VmHWM {} KiB ≥ {RSS_LIMIT_MIB} MiB (seed {seed})",
        report.hwm
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_small_on_sqlite_no_5xx_converged_memory_bounded() {
    small_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_small_on_postgres_no_5xx_converged_memory_bounded() {
    small_load(Backend::Postgres).await;
}
