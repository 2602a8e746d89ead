//! R8, upgrade (issue 7 item 9): a phone database of the previous schema (store schema 5, the
//! last layout before signed photo evidence, migration 0006), holding 1,000 pending mutations
//! and 50 photos queued for upload (half of them with a tus upload URL and an offset partway),
//! is opened by the current store, exactly as the app opens it after an update. Everything
//! syncs to a real server: 0 lost, 0 duplicated, photos byte-identical.
//!
//! The old database is built honestly: `rusqlite_migration` applies only the migrations up to
//! schema 5, and the rows are written with that schema's columns (an `INSERT … SELECT` of every
//! schema-5 table's columns from a scratch store that made them through the calls the old app
//! had: an enrollment without a device key, a pull, `register_photo`, inspections). Full size (10,000
//! mutations, 500 photos): `CUNJIE_FULL=1 cargo test -p cunjie-e2e --test e2e r8`.

use std::sync::{Arc, Mutex};

use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{ItemResult, PhotoHash, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::person::Role;
use cunjie_domain::template::presets;
use cunjie_e2e::evidence::sha256_hex;
use cunjie_e2e::phone::{Phone, fast_config};
use cunjie_e2e::reliability::{check_blobs, check_phone, full_size, seed};
use cunjie_e2e::server::TestServer;
use cunjie_e2e::sim::{camera_jpeg, new_inspection};
use cunjie_server::demo::demo_township;
use cunjie_store::{Store, StoreOptions, migrations};
use cunjie_sync::{HttpTransport, SyncEngine};

/// The schema the old app shipped: migrations 0001–0005.
const OLD_SCHEMA: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_an_old_phone_database_upgrades_and_everything_syncs() {
    let seed = seed(20_261_208);
    let (mutations, photos) = if full_size() {
        (10_000u32, 500u32)
    } else {
        (1_000, 50)
    };
    let started = std::time::Instant::now();
    let server_dir = tempfile::tempdir().expect("server dir");
    let server_path = server_dir.path().to_path_buf();
    let db_url = format!("sqlite://{}", server_path.join("server.db").display());
    let server = TestServer::start_on(server_dir, &db_url, demo_township(1, 1, 40));
    let d = &server.demo;
    let village = d.villages[0].id;
    let inspector = d.inspector(0).id;
    let households: Vec<_> = d
        .households
        .iter()
        .filter(|h| h.village == village)
        .cloned()
        .collect();

    // The old app's work, through the calls it had, on a scratch store.
    let clock = Arc::new(FakeClock::at(2026, 11, 2, 0, 30, 0));
    let scratch_dir = tempfile::tempdir().expect("scratch dir");
    let phone_dir = tempfile::tempdir().expect("phone dir");
    let photo_dir = phone_dir.path().join("photos");
    std::fs::create_dir_all(&photo_dir).expect("photo folder");
    let scratch_path = scratch_dir.path().join("cunjie.db");
    {
        let store = Store::open(
            &scratch_path,
            StoreOptions {
                clock: clock.clone(),
                id_seed: Some(seed),
            },
        )
        .expect("scratch store");
        // Enrolled as the old app enrolled (no device key), and its first sync pulled the
        // village's registry and templates.
        let engine = SyncEngine::with_config(
            Arc::new(Mutex::new(store)),
            HttpTransport::new(&server.url).expect("transport"),
            fast_config(),
        )
        .expect("engine");
        engine
            .enroll(
                &server.url,
                &server.code(inspector, Role::Inspector),
                "old phone",
            )
            .await
            .expect("old enrollment");
        engine.sync_once().await.expect("first pull");
        let mut store = engine.store().lock().expect("store");
        let t = presets::household_sanbao();
        for k in 0..mutations {
            let hh = &households[k as usize % households.len()];
            let subject = Subject {
                kind: SubjectKind::Household,
                id: *hh.id.as_uuid(),
            };
            let mut insp = new_inspection(&store, &t, subject, village, inspector, hh.location);
            for item in &t.items {
                insp.answer(ItemResult::pass(&item.item_code));
            }
            // Every (mutations / photos)-th inspection fails with a photo (a file, then its row,
            // as the old app kept them).
            if k % (mutations / photos) == 0 {
                // A different picture each (the test pictures repeat after 1,920 seeds).
                let bytes = camera_jpeg(k / (mutations / photos) + 1);
                let sha: PhotoHash = sha256_hex(&bytes);
                let name = format!("{sha}.jpg");
                std::fs::write(photo_dir.join(&name), &bytes).expect("photo file");
                store
                    .register_photo(&sha, bytes.len() as u64, "image/jpeg", &name, None)
                    .expect("photo row");
                insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![sha]));
            }
            store.save_inspection_draft(&insp).expect("draft");
            store
                .submit_inspection(insp.id, &GeoPolicy::default())
                .expect("submit");
            clock.advance_ms(3 * 60_000);
        }
        assert!(
            store.device_key().expect("key").is_none(),
            "the old app had no key"
        );
    }

    // The schema-5 database: only the old migrations, rows in the old columns.
    let phone_db = phone_dir.path().join("cunjie.db");
    {
        let mut old = rusqlite::Connection::open(&phone_db).expect("old database");
        migrations()
            .to_version(&mut old, OLD_SCHEMA)
            .expect("schema 5");
        old.execute(
            "ATTACH DATABASE ?1 AS scratch",
            [scratch_path.to_str().expect("path")],
        )
        .expect("attach");
        // Every table of schema 5, in its schema-5 columns.
        let tables: Vec<String> = old
            .prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("tables")
            .collect::<Result<_, _>>()
            .expect("names");
        for table in &tables {
            let cols: Vec<String> = old
                .prepare(&format!(
                    "SELECT name FROM main.pragma_table_info('{table}')"
                ))
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("columns")
                .collect::<Result<_, _>>()
                .expect("names");
            let cols = cols.join(", ");
            old.execute(
                &format!("INSERT INTO main.{table} ({cols}) SELECT {cols} FROM scratch.{table}"),
                [],
            )
            .unwrap_or_else(|e| panic!("{table} in schema 5: {e}"));
        }
        old.execute("DETACH DATABASE scratch", []).expect("detach");
        // Half the photos were on their way: an upload URL and an offset partway (the old
        // server's upload is gone; the new engine must start it again). The first 10 % of the
        // mutations were sent once and never answered.
        let half: i64 = old
            .execute(
                "UPDATE photo SET state = 'uploading',
                   upload_url = ?1 || '/api/v1/uploads/' || substr(sha256, 1, 32),
                   confirmed_offset = size / 2
                 WHERE rowid % 2 = 0",
                [&server.url],
            )
            .expect("half uploaded") as i64;
        old.execute(
            "UPDATE outbox SET state = 'in_flight', attempts = 1 WHERE seq <= ?1",
            [i64::from(mutations / 10)],
        )
        .expect("in flight");
        let version: i64 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, OLD_SCHEMA as i64, "an old database");
        let has_taken_at: i64 = old
            .query_row(
                "SELECT count(*) FROM pragma_table_info('photo') WHERE name = 'taken_at'",
                [],
                |r| r.get(0),
            )
            .expect("columns");
        assert_eq!(has_taken_at, 0, "the photo table of schema 5");
        let (queued, uploading): (i64, i64) = old
            .query_row(
                "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM photo WHERE upload_url IS NOT NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counts");
        assert_eq!(queued, i64::from(mutations), "pending mutations");
        assert_eq!(uploading, half, "half-uploaded photos");
        eprintln!(
            "R8: schema {OLD_SCHEMA} database with {queued} pending mutations and {photos} photos ({uploading} half uploaded)"
        );
    }

    // The update: the current store opens it as the app does.
    let phone = Phone::open_in(
        phone_dir,
        HttpTransport::new(&server.url).expect("transport"),
        clock.clone(),
    );
    {
        let store = phone.store();
        assert_eq!(
            store.schema_version().expect("version"),
            migrations_len(),
            "migrated to the current schema"
        );
        let conn = rusqlite::Connection::open(phone.db_path()).expect("phone db");
        let (queued, attested): (i64, i64) = conn
            .query_row(
                "SELECT count(*), count(*) FILTER (WHERE entity = 'photo') FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counts");
        assert_eq!(
            (queued, attested),
            (i64::from(mutations + photos), i64::from(photos)),
            "every old mutation kept, and an attestation queued for every old photo (seed {seed})"
        );
        assert!(
            store
                .enrollment()
                .expect("row")
                .expect("enrolled")
                .needs_reenroll,
            "a key the server does not know: the phone asks to be enrolled again"
        );
    }

    // Before enrolling again nothing is pushed (the server would refuse attestations signed
    // with a key it does not know).
    let refused = phone.engine.sync_once().await;
    assert!(
        refused.is_err() || phone.engine.status().borrow().needs_reenroll,
        "no sync before the new enrollment: {refused:?}"
    );
    let device = phone.store().device_id().to_string();
    let db = rusqlite::Connection::open(server_path.join("server.db")).expect("server db");
    let early: i64 = db
        .query_row(
            "SELECT count(*) FROM receipt WHERE device_id = ?1",
            [&device],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(early, 0, "nothing pushed under an unregistered key");

    // Enrolled again (the same device, now with its key), it syncs everything.
    phone
        .engine
        .enroll(
            &server.url,
            &server.code(inspector, Role::Inspector),
            "old phone",
        )
        .await
        .expect("enrolled again");
    let mut rounds = 0;
    loop {
        rounds += 1;
        let r = phone.engine.sync_once().await;
        let c = phone.store().pending_counts().expect("counts");
        if r.is_ok() && c.records == 0 && c.photos == 0 {
            break;
        }
        assert!(rounds < 20, "synced within 20 rounds: {r:?} {c:?}");
    }

    let mut own_facts = std::collections::BTreeSet::new();
    let mut photos_seen = Vec::new();
    let local = rusqlite::Connection::open(phone.db_path()).expect("phone db");
    let receipts = check_phone(
        &server.db,
        0,
        &phone.store(),
        &local,
        seed,
        &mut own_facts,
        &mut photos_seen,
    );
    assert_eq!(
        receipts,
        u64::from(mutations + photos),
        "0 lost: one receipt per old mutation and per old photo (seed {seed})"
    );
    let (facts, stored, bad): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM fact), (SELECT count(*) FROM photo WHERE state = 'stored'),
                    (SELECT count(*) FROM receipt WHERE status != 'applied')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert_eq!(
        (facts, own_facts.len() as i64),
        (i64::from(mutations), i64::from(mutations)),
        "every old inspection once on the server"
    );
    assert_eq!(bad, 0, "every mutation applied");
    assert_eq!(stored, i64::from(photos), "every old photo stored");
    check_blobs(&server_path, &photos_seen, seed);
    eprintln!(
        "R8 (seed {seed}): {} mutations and {} photos from schema {OLD_SCHEMA} synced in {rounds} rounds after the new enrollment; {} receipts, 0 lost, 0 duplicated, photos byte-identical; {:.1} s",
        mutations,
        photos,
        receipts,
        started.elapsed().as_secs_f64()
    );
}

fn migrations_len() -> i64 {
    let mut conn = rusqlite::Connection::open_in_memory().expect("memory");
    migrations().to_latest(&mut conn).expect("latest");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version")
}
