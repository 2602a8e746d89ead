//! R2, lost and duplicated acknowledgements (sync.md §6 T2): the proxy drops 30 % of the
//! answers after the server gave them (the server committed, the phone never hears) and sends
//! 10 % of the requests twice (one after the other, both at once, or the copy late, after the
//! phone's next requests), and holds some back so concurrent requests overtake them. Every
//! kind of request is hit: pushes, pulls, blob checks and tus `POST`/`PATCH`/`HEAD`. Then the
//! final check: exactly one receipt per mutation (the server's receipts are the phones'
//! acknowledged logs, pair by pair), one effect per mutation (every fact and order once, each
//! household edit and rectification step applied once: the versions count them), server
//! `last_seq` = each phone's last seq, every photo stored once and byte-identical, every phone
//! converged. `CUNJIE_SEED` replays a seed; `CUNJIE_FULL=1` runs a larger fleet.

use cunjie_e2e::fault::Faults;
use cunjie_e2e::reliability::{Fleet, FleetSize, full_size, seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_lost_and_duplicated_acks_leave_one_receipt_and_one_effect_per_mutation() {
    let seed = seed(20_261_202);
    let size = if full_size() {
        FleetSize {
            villages: 4,
            groups: 2,
            households: 40,
            days: 5,
            records_per_phone: 200,
            photos: 100,
        }
    } else {
        FleetSize {
            villages: 2,
            groups: 1,
            households: 24,
            days: 3,
            records_per_phone: 45,
            photos: 12,
        }
    };
    let mut fleet = Fleet::start(size, seed).await;
    fleet.set_faults(|_| Faults {
        drop_response: 0.30,
        duplicate: 0.10,
        hold: 0.10,
        hold_ms: (10, 150),
        latency_ms: (2, 20),
        jitter_ms: 10,
        ..Faults::clean()
    });
    for day in 0..size.days {
        fleet.work_day(day, size.records_per_phone / size.days, size.days - day);
        for _ in 0..3 {
            fleet.sync_round().await;
        }
    }
    let before_heal = fleet.proxy.counts();
    let rounds = fleet.heal_and_quiesce(30).await;
    let verdict = fleet.final_check(rounds).await;
    eprintln!("R2 (seed {seed}): {verdict}");
    let share = |k: u64| k as f64 / before_heal.exchanges.max(1) as f64;
    assert!(
        (0.2..0.4).contains(&share(before_heal.dropped)),
        "about 30 % of answers dropped: {before_heal} (seed {seed})"
    );
    assert!(
        (0.04..0.16).contains(&share(before_heal.duplicated)) && before_heal.late_duplicates > 0,
        "about 10 % of requests duplicated, some late: {before_heal} (seed {seed})"
    );
}
