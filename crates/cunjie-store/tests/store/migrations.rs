//! Migrations: an empty database, one from the previous migration set, and one from the future.

use cunjie_store::{Store, StoreError, StoreOptions, migrations};

use crate::common::{Fixture, count, db_path};

fn sql_files() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count()
}

#[test]
fn migrations_are_valid_and_every_sql_file_is_listed() {
    migrations()
        .validate()
        .expect("every migration applies on an empty database");
    let store = Store::open_in_memory(StoreOptions::default()).expect("opens");
    assert_eq!(
        store.schema_version().expect("version") as usize,
        sql_files(),
        "every .sql file is a listed migration"
    );
}

#[test]
fn a_database_from_the_previous_migration_set_upgrades_with_its_data() {
    let dir = tempfile::tempdir().expect("dir");
    let path = db_path(&dir);
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        let prev = sql_files() - 1;
        migrations()
            .to_version(&mut conn, prev)
            .expect("previous schema");
        // What the previous app version had written: its identity, a household, a queued mutation.
        conn.execute_batch(
            "INSERT INTO device_state (id, device_id, next_seq) VALUES (1, '0193a000-0000-7000-8000-000000000001', 2);
             INSERT INTO household (id, village_id, group_id, head_name, door_plate, roadside, lat, lon, scope, server_version, row_json)
               VALUES ('00000000-0000-0000-0000-000000001001', 'v', 'g', '王建国', '太平村1组001号', 1, 27.6, 113.85, 'village:taiping', 3, '{}');
             INSERT INTO outbox (seq, mutation_id, entity, entity_id, op, payload, hlc, base_version, schema_version, created_at)
               VALUES (1, '0193a000-0000-7000-8000-0000000000aa', 'household', '00000000-0000-0000-0000-000000001001', 'update_fields', '{}', 1, 3, 1, '2026-11-01T00:00:00.000Z');",
        )
        .expect("old rows");
    }
    let store = Store::open(&path, StoreOptions::default()).expect("upgrades");
    assert_eq!(
        store.schema_version().expect("v") as usize,
        sql_files(),
        "now at the latest schema"
    );
    assert_eq!(
        store.device_id().to_string(),
        "0193a000-0000-7000-8000-000000000001",
        "device identity kept"
    );
    drop(store);
    assert_eq!(
        count(&path, "outbox"),
        1,
        "the queued mutation survived the upgrade"
    );
    assert_eq!(
        count(&path, "household"),
        1,
        "the registry survived the upgrade"
    );
    assert_eq!(count(&path, "draft"), 0, "new tables exist and are empty");
}

#[test]
fn a_database_from_a_newer_app_is_refused_untouched() {
    let f = Fixture::new(2);
    let path = f.path();
    drop(f.store);
    rusqlite::Connection::open(&path)
        .expect("open")
        .pragma_update(None, "user_version", 99)
        .expect("bump");
    let before = std::fs::read(&path).expect("bytes");
    let err = Store::open(&path, StoreOptions::default()).expect_err("newer schema refused");
    assert!(
        matches!(err, StoreError::NewerDatabase { found: 99, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("update the app"),
        "the message says what to do: {err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("bytes"),
        before,
        "the file is not modified"
    );
}

#[test]
fn the_store_runs_in_wal_with_full_sync() {
    let f = Fixture::new(1);
    assert_eq!(
        f.store.durability().expect("pragmas"),
        ("wal".to_owned(), 2),
        "WAL with synchronous=FULL"
    );
}
