//! The conformance suite and a smoke test on a real PostgreSQL (started by `pg_launcher`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

use cunjie_server::store::{Dialect, Value};
use cunjie_server::{Db, StorageError};

use crate::conformance;
use crate::pg_launcher::fresh_pg_db;

macro_rules! on_pg {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (_pg, db) = fresh_pg_db();
            conformance::$name(db).await;
        }
    )*};
}

crate::conformance::scenarios!(on_pg);

fn count(db: &Db, sql: &str, params: &[Value]) -> i64 {
    let rows = db
        .tx(|tx| tx.query(sql, params))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match rows.as_slice() {
        [row] => row
            .first()
            .and_then(Value::int)
            .unwrap_or_else(|| panic!("{sql} returns an integer, got {row:?}")),
        _ => panic!("{sql} returns one row, got {rows:?}"),
    }
}

/// The backend on its own, without the server's rules: migrations are idempotent, `$n`
/// parameters and values round-trip (NULLs, integers, text, `count(*)`, booleans), an `Err`
/// or a failed statement rolls back, it works inside a Tokio runtime, and a deadlock is
/// retried.
#[test]
fn postgres_backend_smoke() {
    let (pg, db) = fresh_pg_db();
    let default = pg.server.url();
    assert_eq!(
        default,
        format!(
            "postgres://postgres@127.0.0.1:{}/cunjie_test",
            pg.server.port()
        ),
        "the server's default database URL"
    );
    Db::open(&default).expect("the cunjie_test database exists and migrates");
    eprintln!("PostgreSQL started in {:?}", pg.server.started_in());
    assert_eq!(
        db.dialect(),
        Dialect::Postgres,
        "a postgres:// URL opens the PostgreSQL backend"
    );
    let again = Db::open(&pg.url()).expect("opening a migrated database again is a no-op");
    // Migrators racing on an empty database wait for each other (advisory lock).
    pg.server.create_database(&format!("{}_race", pg.name));
    let race_url = pg.server.url_for(&format!("{}_race", pg.name));
    std::thread::scope(|s| {
        let openers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| Db::open(&race_url).map(|_| ())))
            .collect();
        for opener in openers {
            let res = opener.join().expect("an opener thread");
            assert!(res.is_ok(), "concurrent migrators all succeed: {res:?}");
        }
    });
    let versions = again
        .tx(|tx| tx.query("SELECT version FROM schema_version ORDER BY version", &[]))
        .expect("schema_version reads");
    assert_eq!(
        versions,
        vec![
            vec![Value::Int(1)],
            vec![Value::Int(2)],
            vec![Value::Int(3)],
            vec![Value::Int(4)]
        ],
        "each migration is recorded once"
    );

    // Insert through one handle, read back through the other, with $n parameters.
    let township = |id: &str, code: &str| -> Vec<Value> {
        vec![
            Value::from(id),
            Value::from(code),
            Value::from("白云镇"),
            Value::from("2026-11-17T09:00:00Z"),
        ]
    };
    let insert = "INSERT INTO township (id, code, name, created_at) VALUES ($1, $2, $3, $4)";
    let changed = db
        .tx(|tx| tx.exec(insert, &township("t-1", "BAIYUN")))
        .expect("a township is inserted");
    assert_eq!(changed, 1, "one row inserted");
    let rows = again
        .tx(|tx| {
            tx.query(
                "SELECT id, code, name, created_at FROM township WHERE code = $1",
                &[Value::from("BAIYUN")],
            )
        })
        .expect("townships read");
    assert_eq!(
        rows,
        vec![township("t-1", "BAIYUN")],
        "the row reads back as inserted"
    );

    // NULL into BIGINT and TEXT columns, integers, count(*) (int8) and booleans.
    let receipt = "INSERT INTO receipt (device_id, seq, mutation_id, status, server_version, code, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let params = [
        Value::from("d-1"),
        Value::Int(i64::MAX),
        Value::from("m-1"),
        Value::from("applied"),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::from("2026-11-17T09:00:00Z"),
    ];
    db.tx(|tx| tx.exec(receipt, &params))
        .expect("NULLs bind to BIGINT and TEXT parameters");
    let rows = db
        .tx(|tx| tx.query("SELECT seq, server_version, code, count(*) OVER (), $1::bigint IS NULL FROM receipt WHERE device_id = $2", &[Value::Null, Value::from("d-1")]))
        .expect("the receipt reads");
    assert_eq!(
        rows,
        vec![vec![
            Value::Int(i64::MAX),
            Value::Null,
            Value::Null,
            Value::Int(1),
            Value::Int(1)
        ]],
        "integers, NULLs, count and booleans read back"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("BAIYUN")]
        ),
        1,
        "count(*) is an integer"
    );
    assert_eq!(
        count(&db, "SELECT sum(seq) FROM receipt", &[]),
        i64::MAX,
        "sum(bigint) is numeric, read as an integer"
    );

    // An Err from the closure rolls back what it wrote.
    let res: Result<(), StorageError> = db.tx(|tx| {
        tx.exec(insert, &township("t-2", "HEISHAN"))?;
        Err(StorageError::Column("stop"))
    });
    assert!(
        matches!(res, Err(StorageError::Column("stop"))),
        "the closure's error is returned as is, got {res:?}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("HEISHAN")]
        ),
        0,
        "the failed transaction's insert is rolled back"
    );

    // A failed statement rolls back too (even if the closure ignores it), and the pool recovers.
    let res: Result<(), StorageError> = db.tx(|tx| {
        tx.exec(insert, &township("t-3", "QINGSHUI"))?;
        let dup = tx.exec(insert, &township("t-1", "BAIYUN"));
        assert!(
            matches!(dup, Err(StorageError::Postgres(_))),
            "a duplicate key is a PostgreSQL error, got {dup:?}"
        );
        Ok(())
    });
    assert!(
        res.is_err(),
        "a transaction with a failed statement does not commit"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM township WHERE code = $1",
            &[Value::from("QINGSHUI")]
        ),
        0,
        "nothing of it is kept"
    );

    // Inside a Tokio runtime (as in async tests and async main) the backend still works.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let n = rt.block_on(async { count(&db, "SELECT count(*) FROM township", &[]) });
    assert_eq!(n, 1, "queries work from inside a runtime");

    // Two transactions locking two rows in opposite orders deadlock; the victim is retried.
    db.tx(|tx| tx.exec(insert, &township("t-4", "LIUSHU")))
        .expect("a second township");
    let barrier = Arc::new(Barrier::new(2));
    let attempts = AtomicU64::new(0);
    let lock = "UPDATE township SET name = name || '' WHERE code = $1";
    std::thread::scope(|s| {
        let run = |first: &'static str, second: &'static str| {
            let (db, barrier, attempts) = (db.clone(), barrier.clone(), &attempts);
            s.spawn(move || {
                let mut tries = 0;
                db.tx(|tx| {
                    tries += 1;
                    attempts.fetch_add(1, Ordering::Relaxed);
                    tx.exec(lock, &[Value::from(first)])?;
                    if tries == 1 {
                        barrier.wait();
                    }
                    tx.exec(lock, &[Value::from(second)])
                })
            })
        };
        let a = run("BAIYUN", "LIUSHU");
        let b = run("LIUSHU", "BAIYUN");
        let (a, b) = (a.join().expect("thread a"), b.join().expect("thread b"));
        assert!(
            a.is_ok() && b.is_ok(),
            "both transactions commit after the deadlock is retried: {a:?} {b:?}"
        );
    });
    assert_eq!(
        attempts.load(Ordering::Relaxed),
        3,
        "exactly one of the two transactions ran again"
    );
}
