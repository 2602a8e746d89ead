//! Load (issue 7 item 10): 300 simulated phones (4 inspectors and 296 cleaners of a big demo
//! township, each a real store and the real sync engine over HTTP) work a compressed month
//! against the real `cunjie-server` binary on 127.0.0.1, on SQLite and on PostgreSQL. Each day
//! every phone records offline, then all 300 sync at once. Printed per database: push and pull
//! latency (p50/p95/p99/max, timed at the server's socket), 5xx answers, photos, records,
//! time, and the server's RSS (start, after enrollment, per day, peak, VmHWM); then whether the
//! targets hold: 0 5xx, p95 push under 2 s, memory bounded (the last day's RSS within 64 MiB
//! of the first day's). Exits non-zero if one does not.
//!
//! `cargo bench -p cunjie-e2e --bench load` (release build). `CUNJIE_SEED=n` replays a run,
//! `CUNJIE_LOAD_DAYS=n` shortens the month, `CUNJIE_LOAD_BACKEND=sqlite|postgres` runs one.
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::Path;
use std::time::Duration;

use cunjie_e2e::load::{Backend, LoadReport, run};
use cunjie_e2e::reliability::{FleetSize, seed};

/// p95 push latency target (issue 7).
const P95_PUSH: Duration = Duration::from_secs(2);
/// Most the server's RSS may grow from the first day to the last.
const GROWTH_LIMIT_MIB: i64 = 64;

fn targets(r: &LoadReport) -> Vec<String> {
    let mut missed = Vec::new();
    if !r.server_errors.is_empty() || r.broken > 0 {
        missed.push(format!(
            "{} 5xx answers and {} broken exchanges: {:?}",
            r.server_errors.len(),
            r.broken,
            r.server_errors.iter().take(10).collect::<Vec<_>>()
        ));
    }
    if r.push.p95 >= P95_PUSH.as_secs_f64() * 1000.0 {
        missed.push(format!("p95 push {:.1} ms ≥ 2 s", r.push.p95));
    }
    if r.growth_kib() > GROWTH_LIMIT_MIB * 1024 {
        missed.push(format!(
            "RSS grew {:.1} MiB from day 1 to the last day",
            r.growth_kib() as f64 / 1024.0
        ));
    }
    missed
}

fn main() {
    let seed = seed(20_261_230);
    let days = std::env::var("CUNJIE_LOAD_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(30u32)
        .max(1);
    let size = FleetSize {
        villages: 4,
        groups: 74,
        households: 150,
        days,
        records_per_phone: 2 * days,
        photos: 20 * days,
    };
    let backends = match std::env::var("CUNJIE_LOAD_BACKEND").as_deref() {
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Sqlite, Backend::Postgres],
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_cunjie-e2e-server"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut failed = false;
    for backend in backends {
        println!(
            "{} phones, {days} days, {} records and {} photos planned, on {backend}…",
            size.phones(),
            size.records_per_phone as usize * size.phones(),
            size.photos
        );
        let report = rt.block_on(run(bin, backend, size, seed));
        println!("{report}");
        let missed = targets(&report);
        if missed.is_empty() {
            println!("  targets met: 0 5xx, p95 push < 2 s, memory bounded\n");
        } else {
            println!("  TARGETS MISSED: {}\n", missed.join("; "));
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
