//! R4, clock skew (issue 7 item 5, sync.md §5.2): phones whose clocks are set −30 days, −1 day,
//! −5 minutes, right, +5 minutes, +1 day and +1 year off the true time, and a phone whose clock
//! jumps backwards twice in the middle of a day's work (2 hours, then another day), work and
//! sync against a server running on the true time. Then, besides the final check of §6 (0 lost,
//! 0 duplicated, 0 corrupt, converged), every fact on the server:
//!
//! - carries no HLC beyond the clamp (`server_received_at + 60 s`); a phone's HLC from further
//!   in the future is stored at the cap and flagged `hlc_clamped`, any other is stored as sent;
//! - is flagged `clock_skew` if and only if its phone's clock was more than 10 minutes off when
//!   it was made or when it was sent (its skew kept in `skew_ms`, more than 10 minutes exactly
//!   when flagged): a fact that merely waited offline is not flagged;
//! - keeps the device's time, the GPS fix's time and the server's receive time apart.
//!
//! The clocks are set after enrollment, so the first day is worked on an offset learned from the
//! right clock (the phone does not know its clock changed) and the later days on the offset
//! learned at each sync. Full size: `CUNJIE_FULL=1 cargo test -p cunjie-e2e --test e2e r4`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cunjie_domain::hlc::{CLAMP_DELTA_MS, Hlc, SKEW_FLAG_MS};
use cunjie_e2e::reliability::{Fleet, FleetSize, full_size, seed};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

/// The clock of each phone, by lane (repeated over bigger fleets); `None`: the jumping one.
const CLOCKS: [Option<i64>; 8] = [
    Some(-30 * DAY),
    Some(YEAR),
    Some(-DAY),
    Some(-5 * MIN),
    Some(0),
    Some(5 * MIN),
    Some(DAY),
    None,
];

fn millis(t: &str) -> i64 {
    DateTime::parse_from_rfc3339(t)
        .unwrap_or_else(|e| panic!("time {t}: {e}"))
        .with_timezone(&Utc)
        .timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r4_skewed_and_jumping_clocks_are_clamped_flagged_and_keep_every_time() {
    let seed = seed(20_261_204);
    let size = if full_size() {
        FleetSize {
            villages: 4,
            groups: 3,
            households: 60,
            days: 6,
            records_per_phone: 120,
            photos: 48,
        }
    } else {
        FleetSize {
            villages: 2,
            groups: 3,
            households: 20,
            days: 3,
            records_per_phone: 24,
            photos: 8,
        }
    };
    let mut fleet = Fleet::start_on_true_time(size, seed).await;
    let phones = fleet.phones();
    let jumpers: Vec<usize> = (0..phones).filter(|l| CLOCKS[l % 8].is_none()).collect();
    for lane in 0..phones {
        if let Some(skew) = CLOCKS[lane % 8] {
            fleet.set_clock_skew(lane, skew);
        }
    }
    let per_day = size.records_per_phone / size.days;
    for day in 0..size.days {
        // On days 1 and 2 the jumping phones' clocks go back in the middle of the day's work:
        // 2 hours, then another day.
        let jump = match day {
            1 => Some(-2 * HOUR),
            2 => Some(-DAY - 2 * HOUR),
            _ => None,
        };
        if let Some(skew) = jump {
            fleet.work_day(day, per_day / 2, size.days - day);
            for &lane in &jumpers {
                fleet.set_clock_skew(lane, skew);
            }
            fleet.work_day(day, per_day - per_day / 2, size.days - day);
        } else {
            fleet.work_day(day, per_day, size.days - day);
        }
        fleet.sync_round().await;
        fleet.sync_round().await;
    }
    let rounds = fleet.heal_and_quiesce(10).await;
    let verdict = fleet.final_check(rounds).await;

    // Every fact, against what its phone's clock was when the fact was made.
    let db = rusqlite::Connection::open(fleet.server_dir().join("server.db")).expect("server db");
    let lanes: BTreeMap<String, usize> = (0..phones)
        .map(|l| (fleet.device_id(l).to_string(), l))
        .collect();
    let mut stmt = db
        .prepare(
            "SELECT id, device_id, device_time, server_received_at, hlc, skew_ms, flags, row_json FROM fact",
        )
        .expect("prepare");
    type FactRow = (String, String, String, String, i64, i64, String, String);
    let facts: Vec<FactRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut flagged = vec![0u32; phones];
    let mut clamped = vec![0u32; phones];
    let mut made = vec![0u32; phones];
    let mut gps_times = 0u32;
    for (id, device, device_time, received, hlc, skew_ms, flags, row) in &facts {
        let lane = lanes[device];
        made[lane] += 1;
        let phone_db = fleet.phone_db(lane);
        let (seq, raw): (i64, i64) = phone_db
            .query_row(
                "SELECT seq, hlc FROM acked_log WHERE entity_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("fact {id}'s mutation on phone {lane}: {e} (seed {seed})"));
        // The clock's error when the fact was made, and when it was sent.
        let skews = fleet.clock_skews(lane);
        let skew = skews
            .iter()
            .rev()
            .find(|(from, _, _)| *from <= seq as u64)
            .map_or(0, |(_, s, _)| *s);
        let received_ms = millis(received);
        let sent_skew = skews
            .iter()
            .rev()
            .find(|(_, _, at)| *at <= received_ms)
            .map_or(0, |(_, s, _)| *s);
        let flags: Vec<&str> = flags.split(',').filter(|f| !f.is_empty()).collect();
        let ctx = format!(
            "fact {id} of phone {lane} (clock {} min off when made, {} min when sent), seq {seq}: flags {flags:?}, skew_ms {skew_ms} (seed {seed})",
            skew / MIN,
            sent_skew / MIN
        );

        // The clamp.
        let cap = Hlc::new(
            (received_ms + CLAMP_DELTA_MS) as u64,
            0,
            fleet.device_id(lane),
        )
        .packed() as i64;
        assert!(*hlc <= cap, "no HLC beyond the clamp: {ctx}");
        if raw > cap {
            assert_eq!(*hlc, cap, "a future HLC is stored at the cap: {ctx}");
            assert!(flags.contains(&"hlc_clamped"), "and flagged: {ctx}");
            clamped[lane] += 1;
        } else {
            assert_eq!(
                *hlc, raw,
                "an HLC within the clamp is stored as sent: {ctx}"
            );
            assert!(!flags.contains(&"hlc_clamped"), "and not flagged: {ctx}");
        }

        // The skew flag, every time and only then.
        let off = skew.abs() > SKEW_FLAG_MS || sent_skew.abs() > SKEW_FLAG_MS;
        assert_eq!(
            flags.contains(&"clock_skew"),
            off,
            "clock_skew flagged exactly when the clock was more than 10 minutes off when the fact was made or sent: {ctx}"
        );
        assert_eq!(
            skew_ms.abs() > SKEW_FLAG_MS,
            off,
            "the skew kept is over 10 minutes exactly when flagged: {ctx}"
        );
        if off {
            flagged[lane] += 1;
        }

        // Device time, GPS time and server time, each kept.
        let row: serde_json::Value = serde_json::from_str(row).expect("row json");
        let started = row["started_at"].as_str().expect("device time in the row");
        assert_eq!(
            millis(device_time),
            millis(started),
            "the device's time kept as the phone read it: {ctx}"
        );
        assert_eq!(
            millis(received),
            millis(row["server_received_at"].as_str().expect("receive time")),
            "the server's receive time in the row: {ctx}"
        );
        if let Some(gps) = row["fix"]["fix_time"].as_str() {
            gps_times += 1;
            assert!(millis(gps) > 0, "the GPS time kept: {ctx}");
        }
        if off && skew.abs() > HOUR {
            assert!(
                (millis(device_time) - received_ms).abs() > HOUR - SKEW_FLAG_MS,
                "a clock hours off is seen in the device time against the server's: {ctx}"
            );
        }
    }
    let inspections = facts
        .iter()
        .filter(|f| {
            serde_json::from_str::<serde_json::Value>(&f.7).is_ok_and(|v| v.get("fix").is_some())
        })
        .count();
    assert!(gps_times > 0, "inspections carry their GPS time");
    for lane in 0..phones {
        let off = fleet
            .clock_skews(lane)
            .iter()
            .any(|(_, s, _)| s.abs() > SKEW_FLAG_MS);
        assert!(made[lane] > 0, "phone {lane} made facts (seed {seed})");
        assert_eq!(
            flagged[lane] > 0,
            off,
            "phone {lane}: flagged facts exactly when its clock was off (seed {seed})"
        );
        if CLOCKS[lane % 8].is_some_and(|s| s >= DAY) {
            assert!(
                clamped[lane] > 0,
                "phone {lane} a day or more ahead: its HLCs from the future clamped (seed {seed})"
            );
        }
        eprintln!(
            "R4 phone {lane}: clocks {:?} (min) → {} facts, {} flagged clock_skew, {} clamped",
            fleet
                .clock_skews(lane)
                .iter()
                .map(|(from, s, _)| (*from, s / MIN))
                .collect::<Vec<_>>(),
            made[lane],
            flagged[lane],
            clamped[lane]
        );
    }
    eprintln!(
        "R4 (seed {seed}): {verdict}; {} facts ({inspections} with a GPS fix), {} flagged clock_skew, {} clamped",
        facts.len(),
        flagged.iter().sum::<u32>(),
        clamped.iter().sum::<u32>()
    );
}
