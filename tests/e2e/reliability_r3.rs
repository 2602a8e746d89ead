//! R3, crash points (sync.md §6 T3): failpoints at every step of the phone pipeline and of the
//! server pipeline; at each point, for several seeds, the process (a child: `cunjie-crash`) is
//! killed there with `abort()` (no destructors, no unwinding, no flushing: kill -9 as far as
//! SQLite and the file system can tell) and started again on the same folder. Then the final
//! check: 0 lost (every inspection whose submit returned is on the phone and on the server),
//! 0 duplicated (one receipt per mutation, the server's receipts exactly the phone's
//! acknowledged log, every fact once), `PRAGMA integrity_check` ok on every database, every
//! fact the same row and every photo `stored` and byte-identical, 0 dangling photo references
//! (phone rows and server rows without their file), and the orphans the crash left (temp
//! files, photos whose row never committed, partial uploads) swept by the restart.
//!
//! A seed picks, per point, which hit of the point is the fatal one (and, for the kills while a
//! request is in flight, how many milliseconds after the hit). `CUNJIE_SEED` replays a run;
//! `CUNJIE_FULL=1` runs more seeds and records (docs/reliability.md).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cunjie_domain::fact::PhotoHash;
use cunjie_e2e::crash::{
    Kill, PhonePlan, PhoneRun, ServerLeftovers, ServerProcess, integrity_ok, killed,
    open_phone_store, phone_leftovers, run_phone, server_leftovers,
};
use cunjie_e2e::proxy::Rng;
use cunjie_e2e::reliability::{check_blobs, check_phone, check_receipts, full_size, seed};

const BIN: &str = env!("CARGO_BIN_EXE_cunjie-crash");

/// A failpoint, and the most hits to skip before the kill at the default size (a seed picks
/// 0..=max_skip; every choice is reached by the default [`PhonePlan`]; the points a phone hits
/// once per record or photo scale with the full size's records). `delayed`: the kill comes
/// 1–30 ms after the hit, from another thread, while the request the point precedes is in
/// flight.
#[derive(Debug, Clone, Copy)]
struct Point {
    name: &'static str,
    max_skip: u64,
    delayed: bool,
    per_record: bool,
}

const fn point(name: &'static str, max_skip: u64, delayed: bool) -> Point {
    Point {
        name,
        max_skip,
        delayed,
        per_record: false,
    }
}

/// A point hit once or more per record or photo.
const fn per_record(name: &'static str, max_skip: u64, delayed: bool) -> Point {
    Point {
        per_record: true,
        ..point(name, max_skip, delayed)
    }
}

/// The phone's pipeline, in order.
const PHONE_POINTS: &[Point] = &[
    // The first pull applies the registry page by page (the enrollment's first sync).
    point("phone::pull_page_mid", 20, false),
    // Capture: the derivative, thumbnail and original, each a temp file renamed into place.
    per_record("phone::photo_mid_write", 3, false),
    per_record("phone::photo_before_rename", 3, false),
    per_record("phone::photo_files_written", 1, false),
    per_record("phone::after_local_commit", 3, false),
    point("phone::push_in_flight", 1, true),
    point("phone::push_answered", 1, false),
    per_record("phone::ack_mid", 3, false),
    per_record("phone::chunk_in_flight", 1, true),
    per_record("phone::blob_finalised", 1, false),
];

/// The server's pipeline.
const SERVER_POINTS: &[Point] = &[
    point("server::pull_mid", 2, false),
    per_record("server::push_mid_tx", 3, false),
    point("server::push_committed", 1, false),
    per_record("server::chunk_append", 1, false),
    per_record("server::blob_finalised", 1, false),
];

#[derive(Debug, Default)]
struct Totals {
    points: usize,
    kills: u64,
    records: u64,
    photos: u64,
    receipts: u64,
    committed: u64,
    phone_orphans_swept: u64,
    server_parts_at_kill: u64,
    server_stray_blobs_at_kill: u64,
}

/// One phone of a point's run.
#[derive(Debug)]
struct PhoneCase {
    dir: tempfile::TempDir,
    committed: Vec<String>,
}

#[test]
fn r3_crash_points_lose_nothing_duplicate_nothing_leave_no_orphans() {
    let started = Instant::now();
    let seed = seed(20_261_203);
    // Records of the default plan; a full-size plan reaches proportionally later hits.
    const DEFAULT_RECORDS: u64 = 4;
    let (seeds, plan) = if full_size() {
        (
            8u64,
            PhonePlan {
                records: 10,
                photo_every: 2,
                seed: 0,
            },
        )
    } else {
        (
            2u64,
            PhonePlan {
                records: DEFAULT_RECORDS as u32,
                photo_every: 2,
                seed: 0,
            },
        )
    };
    let mut rng = Rng::new(seed);
    let mut totals = Totals::default();
    for p in PHONE_POINTS.iter().chain(SERVER_POINTS) {
        let t = Instant::now();
        let max_skip = if p.per_record {
            (p.max_skip + 1) * u64::from(plan.records) / DEFAULT_RECORDS - 1
        } else {
            p.max_skip
        };
        let kills: Vec<Kill> = (0..seeds)
            .map(|_| Kill {
                point: p.name.to_owned(),
                skip: rng.below(max_skip + 1) as u32,
                delay_ms: if p.delayed { 1 + rng.below(30) } else { 0 },
            })
            .collect();
        crash_point(p, &kills, plan, seed, &mut totals);
        totals.points += 1;
        eprintln!(
            "R3 {}: {} kills ({}) survived in {:.1} s",
            p.name,
            kills.len(),
            kills
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "R3 (seed {seed}): {} points, {} kills, {} phones; {} records ({} seen committed before a kill or the end) and {} photos; {} receipts; 0 lost, 0 duplicated, integrity ok, 0 dangling; {} orphan photo files left by phone kills, swept at restart; {} partial uploads and {} blobs without their row left by server kills, finished after restart; {:.1} s",
        totals.points,
        totals.kills,
        totals.kills,
        totals.records,
        totals.committed,
        totals.photos,
        totals.receipts,
        totals.phone_orphans_swept,
        totals.server_parts_at_kill,
        totals.server_stray_blobs_at_kill,
        started.elapsed().as_secs_f64()
    );
    assert!(
        totals.phone_orphans_swept > 0,
        "the photo points left orphans for the sweep to take (seed {seed})"
    );
}

fn crash_point(p: &Point, kills: &[Kill], plan: PhonePlan, seed: u64, totals: &mut Totals) {
    let timeout = Duration::from_secs(180);
    let on_server = p.name.starts_with("server::");
    let villages = kills.len().min(4);
    let mut server = ServerProcess::seeded(Path::new(BIN), villages, 1, 6);
    let mut phones: Vec<PhoneCase> = Vec::new();
    if !on_server {
        server.start(None);
    }
    for (n, kill) in kills.iter().enumerate() {
        let dir = tempfile::tempdir().expect("phone dir");
        let code = server.inspector_code(n % villages);
        let plan = PhonePlan {
            seed: seed.wrapping_add(n as u64),
            ..plan
        };
        let phone = dir.path().join("phone");
        let mut committed = Vec::new();
        if on_server {
            server.start(Some(kill));
            let first = run_phone(
                Path::new(BIN),
                &phone,
                &server.url(),
                Some(&code),
                plan,
                None,
                timeout,
            );
            assert!(
                first.status.success(),
                "phone ran to its end while the server died ({kill}, seed {seed}): {:?}",
                first.status
            );
            committed.extend(first.committed);
            let status = server.wait_exit(Duration::from_secs(10));
            server.stop();
            assert!(
                status.as_ref().is_some_and(killed),
                "the server was killed at {kill} (seed {seed}): {status:?}"
            );
            // What the kill left in the data folder: resumed or swept after the restart.
            let left = server_leftovers(server.dir());
            totals.server_parts_at_kill += left.parts as u64;
            totals.server_stray_blobs_at_kill += left.stray_blobs as u64;
            server.start(None);
        } else {
            let first = run_phone(
                Path::new(BIN),
                &phone,
                &server.url(),
                Some(&code),
                plan,
                Some(kill),
                timeout,
            );
            assert!(
                killed(&first.status),
                "the phone was killed at {kill} (seed {seed}): {:?}",
                first.status
            );
            committed.extend(first.committed);
            let left = phone_leftovers(&phone);
            totals.phone_orphans_swept += left.orphans as u64;
        }
        totals.kills += 1;
        // The restart: the app opens its folder again, the person goes on (new pictures: a
        // picture taken again must not overwrite what the kill left) and it syncs until quiet.
        let again: PhoneRun = run_phone(
            Path::new(BIN),
            &phone,
            &server.url(),
            None,
            PhonePlan {
                seed: plan.seed + 5_000,
                ..plan
            },
            None,
            timeout,
        );
        assert!(
            again.status.success(),
            "the phone restarted after {kill} and synced (seed {seed}): {:?}",
            again.status
        );
        committed.extend(again.committed);
        let left = phone_leftovers(&phone);
        assert_eq!(
            (left.orphans, left.dangling),
            (0, 0),
            "after {kill}: no orphan photo file and no dangling photo row on the phone (seed {seed})"
        );
        if on_server {
            // The next seed's kill is planned at the next start.
            server.stop();
        }
        phones.push(PhoneCase { dir, committed });
    }
    final_check(&server, &phones, p, seed, totals);
    let left = server_leftovers(server.dir());
    assert_eq!(
        left,
        ServerLeftovers::default(),
        "{}: no partial upload, stray blob or blob-less photo left on the server (seed {seed})",
        p.name
    );
    server.stop();
    assert!(
        integrity_ok(&server.dir().join("server.db")),
        "{}: server integrity_check ok (seed {seed})",
        p.name
    );
}

fn final_check(
    server: &ServerProcess,
    phones: &[PhoneCase],
    p: &Point,
    seed: u64,
    totals: &mut Totals,
) {
    let db = server.db();
    let store = server.store();
    check_receipts(&store, seed);
    let mut receipts = 0u64;
    let mut fact_ids = std::collections::BTreeSet::new();
    let mut photos: Vec<(PhotoHash, Vec<u8>)> = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let dir: PathBuf = phone.dir.path().join("phone");
        let phone_store = open_phone_store(&dir);
        let local = rusqlite::Connection::open(dir.join("cunjie.db")).expect("phone db");
        receipts += check_phone(
            &store,
            i,
            &phone_store,
            &local,
            seed,
            &mut fact_ids,
            &mut photos,
        );
        for id in &phone.committed {
            assert!(
                fact_ids.contains(id),
                "{}: phone {i}'s committed inspection {id} is on the phone and the server (seed {seed})",
                p.name
            );
        }
        totals.committed += phone.committed.len() as u64;
    }
    let count = |sql: &str| -> u64 {
        db.query_row(sql, [], |r| r.get::<_, i64>(0))
            .expect("count") as u64
    };
    assert_eq!(
        count("SELECT count(*) FROM receipt"),
        receipts,
        "{}: no receipt from anywhere else (seed {seed})",
        p.name
    );
    assert_eq!(
        count("SELECT count(*) FROM fact"),
        fact_ids.len() as u64,
        "{}: 0 lost, 0 duplicated: every fact once on the server and on its phone (seed {seed})",
        p.name
    );
    assert_eq!(
        count("SELECT count(*) FROM photo"),
        photos.len() as u64,
        "{}: every photo once (seed {seed})",
        p.name
    );
    assert_eq!(
        receipts,
        fact_ids.len() as u64 + photos.len() as u64,
        "{}: one receipt per inspection and per photo attestation (seed {seed})",
        p.name
    );
    check_blobs(server.dir(), &photos, seed);
    totals.records += fact_ids.len() as u64;
    totals.photos += photos.len() as u64;
    totals.receipts += receipts;
}
