//! R1, network cuts (sync.md §6 T1): phones work and sync through a proxy that cuts their
//! connections at random byte offsets in both directions, resets them, adds latency with
//! jitter, holds requests back and limits bandwidth (down to 2G's 50 kbit/s). Then every fault
//! is healed, the phones sync until quiet, and the final check compares the server with every
//! phone row by row and photo by photo: 0 lost, 0 duplicated, 0 corrupt, all converged; the
//! photo bytes the links carried are at most 1.15 × the photo bytes.
//!
//! Default size: 4 phones, ~300 records, 20 photos, 50 cuts. Full size (20 phones, 10,000
//! records, 1,000 photos, 500 cuts): `CUNJIE_FULL=1 cargo test -p cunjie-e2e --release --test
//! e2e r1` (docs/reliability.md). `CUNJIE_SEED` replays a seed.

use cunjie_e2e::fault::Faults;
use cunjie_e2e::reliability::{Fleet, FleetSize, full_size, seed};

/// A lane's link: 4G, 3G or 2G by lane, with cuts and resets until `budget` of them landed.
fn link(lane: usize, budget: u64) -> Faults {
    let base = Faults {
        cut_up: 0.08,
        cut_down: 0.06,
        reset: 0.04,
        hold: 0.05,
        hold_ms: (20, 200),
        budget: Some(budget),
        ..Faults::clean()
    };
    match lane % 5 {
        2 => Faults {
            latency_ms: (50, 150),
            jitter_ms: 50,
            bandwidth_bps: Some(50_000),
            ..base
        },
        1 | 4 => Faults {
            latency_ms: (20, 80),
            jitter_ms: 30,
            bandwidth_bps: Some(2_000_000),
            ..base
        },
        _ => Faults {
            latency_ms: (5, 40),
            jitter_ms: 20,
            ..base
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_network_cuts_lose_nothing_duplicate_nothing_corrupt_nothing() {
    let seed = seed(20_261_201);
    let (size, cuts) = if full_size() {
        let size = FleetSize {
            villages: 4,
            groups: 4,
            households: 80,
            days: 10,
            records_per_phone: 500,
            photos: 1_000,
        };
        (size, 500u64)
    } else {
        let size = FleetSize {
            villages: 2,
            groups: 1,
            households: 30,
            days: 4,
            records_per_phone: 72,
            photos: 20,
        };
        (size, 50u64)
    };
    let mut fleet = Fleet::start(size, seed).await;
    let n = fleet.phones() as u64;
    fleet.set_faults(|lane| link(lane, cuts / n + u64::from((lane as u64) < cuts % n)));
    // Phones on 2G take few photos (each one is minutes of air time there).
    for lane in (0..fleet.phones()).filter(|l| l % 5 == 2) {
        fleet.limit_photos(lane, 2);
    }
    for day in 0..size.days {
        fleet.work_day(day, size.records_per_phone / size.days, size.days - day);
        fleet.sync_round().await;
        fleet.sync_round().await;
    }
    // Sync on until every planned cut has landed.
    let mut extra = 0;
    while fleet.budget_left() > 0 && extra < 500 {
        fleet.sync_round().await;
        extra += 1;
    }
    let unspent = fleet.budget_left();
    let rounds = fleet.heal_and_quiesce(30).await;
    let verdict = fleet.final_check(rounds).await;
    eprintln!("R1 (seed {seed}): {verdict}");
    assert_eq!(unspent, 0, "every planned cut landed (seed {seed})");
    assert!(
        verdict.faults.cuts() >= cuts,
        "at least {cuts} cuts and resets: {} (seed {seed})",
        verdict.faults
    );
    assert!(
        verdict.recorded.photos == u64::from(size.photos),
        "every planned photo was taken: {:?}",
        verdict.recorded
    );
    assert!(
        verdict.photo_ratio <= 1.15,
        "photo bytes on the links ≤ 1.15 × photo bytes: {:.3} (seed {seed})",
        verdict.photo_ratio
    );
}
