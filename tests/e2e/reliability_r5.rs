//! R5 on the phones (issue 7 item 6): a revoked phone and phones whose tokens expired (idle
//! longer than `DEVICE_TOKEN_IDLE_DAYS`) get 401, keep 100 % of their outbox and photos (rows
//! and files), record on offline, and, enrolled again with a fresh code (the same device),
//! sync everything: the final check of sync.md §6 (0 lost, 0 duplicated, 0 corrupt,
//! converged). The property tests of scopes are in `crates/cunjie-server/tests/server/scopes.rs`.

use std::collections::BTreeMap;

use cunjie_e2e::reliability::{Fleet, FleetSize, seed};
use cunjie_server::DEVICE_TOKEN_IDLE_DAYS;

const DAY: i64 = 86_400_000;

/// What a phone holds that is not yet on the server: outbox rows and photo files.
fn unsynced(fleet: &Fleet, lane: usize) -> (BTreeMap<i64, String>, BTreeMap<String, Vec<u8>>) {
    let db = fleet.phone_db(lane);
    let outbox = db
        .prepare("SELECT seq, mutation_id || payload FROM outbox")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let photos: Vec<(String, String)> = db
        .prepare("SELECT sha256, local_path FROM photo WHERE state != 'done'")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let dir = fleet.phone_dir(lane).join("photos");
    let photos = photos
        .into_iter()
        .map(|(sha, path)| {
            let bytes = std::fs::read(dir.join(&path))
                .unwrap_or_else(|e| panic!("phone {lane}: photo {sha} on the phone: {e}"));
            (sha, bytes)
        })
        .collect();
    (outbox, photos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_revoked_and_expired_phones_get_401_keep_everything_and_sync_after_enrolling_again() {
    let seed = seed(20_261_215);
    let size = FleetSize {
        villages: 2,
        groups: 1,
        households: 16,
        days: 3,
        records_per_phone: 18,
        photos: 8,
    };
    let mut fleet = Fleet::start_on_true_time(size, seed).await;
    let phones = fleet.phones();
    let per_day = size.records_per_phone / size.days;
    fleet.work_day(0, per_day, 3);
    fleet.sync_round().await;

    // Phone 0 is revoked; it works on offline.
    fleet
        .server
        .office
        .revoke(fleet.device_id(0))
        .expect("revoked");
    fleet.work_day(1, per_day, 2);
    let before = unsynced(&fleet, 0);
    assert!(!before.0.is_empty(), "phone 0 has records to sync");
    let results = fleet.sync_round().await;
    assert!(
        results[0]
            .as_ref()
            .is_err_and(|e| e.contains("NeedsReenroll")),
        "the revoked phone is refused (401: it needs enrolling again): {:?} (seed {seed})",
        results[0]
    );
    assert!(
        fleet.phone_needs_reenroll(0),
        "it asks to be enrolled again"
    );
    assert_eq!(
        unsynced(&fleet, 0),
        before,
        "the revoked phone keeps 100 % of its outbox and photos (seed {seed})"
    );

    // Every phone lies in a drawer longer than a token lives, and works on offline after.
    fleet.advance_true_time((DEVICE_TOKEN_IDLE_DAYS + 1) * DAY);
    fleet.work_day(2, per_day, 1);
    let before: Vec<_> = (0..phones).map(|l| unsynced(&fleet, l)).collect();
    let results = fleet.sync_round().await;
    for lane in 0..phones {
        assert!(
            results[lane]
                .as_ref()
                .is_err_and(|e| e.contains("NeedsReenroll")),
            "phone {lane}: revoked or expired, refused: {:?} (seed {seed})",
            results[lane]
        );
        assert!(
            fleet.phone_needs_reenroll(lane),
            "phone {lane} asks to be enrolled again"
        );
        assert_eq!(
            unsynced(&fleet, lane),
            before[lane],
            "phone {lane} keeps 100 % of its outbox and photos (seed {seed})"
        );
    }
    let kept: usize = before.iter().map(|(o, _)| o.len()).sum();
    let photos: usize = before.iter().map(|(_, p)| p.len()).sum();

    // Enrolled again (the same devices), everything syncs.
    for lane in 0..phones {
        fleet.enroll_again(lane).await;
    }
    let rounds = fleet.heal_and_quiesce(10).await;
    let verdict = fleet.final_check(rounds).await;
    eprintln!(
        "R5 (seed {seed}): 1 phone revoked, then all {phones} expired; they kept {kept} outbox rows and {photos} photos through 401s; after enrolling again: {verdict}"
    );
}
