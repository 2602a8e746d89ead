//! Opening the database: pragmas, migrations, the device row; and the shared write helpers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use cunjie_domain::clock::{Clock, SystemClock};
use cunjie_domain::hlc::HlcClock;
use cunjie_domain::ids::{DeviceId, IdGen, MutationId};
use cunjie_protocol::SCHEMA_VERSION;
use cunjie_protocol::v1::Op;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

use crate::error::StoreError;

const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!(
        "../migrations/0001_registry_templates_outbox.sql"
    )),
    M::up(include_str!("../migrations/0002_drafts_facts_photos.sql")),
    M::up(include_str!("../migrations/0003_household_plate_order.sql")),
    M::up(include_str!("../migrations/0004_outbox_delivery_state.sql")),
    M::up(include_str!("../migrations/0005_enrollment.sql")),
    M::up(include_str!("../migrations/0006_photo_evidence.sql")),
];

/// The device database's migrations, in order. Append only: never edit a released one.
pub fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// A seed for deterministic ids (tests and benchmarks); `None` uses OS randomness.
    pub id_seed: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            id_seed: None,
        }
    }
}

/// The phone's database. Owns one connection; writes take `&mut self`.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: IdGen<Arc<dyn Clock>>,
    pub(crate) device: DeviceId,
    /// Where photo files live: `photos/` beside the database file; `None` in memory until
    /// [`Store::set_photo_dir`].
    pub(crate) photo_dir: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the database file at `path` and migrates it to the latest
    /// schema in one transaction.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Self, StoreError> {
        let mut store = Self::init(Connection::open(path)?, opts)?;
        store.photo_dir = Some(
            path.parent()
                .map_or_else(|| PathBuf::from("photos"), |p| p.join("photos")),
        );
        Ok(store)
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory(opts: StoreOptions) -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, opts)
    }

    fn init(mut conn: Connection, opts: StoreOptions) -> Result<Self, StoreError> {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        debug_assert!(mode == "wal" || mode == "memory", "journal mode is {mode}");
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if found > supported {
            return Err(StoreError::NewerDatabase { found, supported });
        }
        migrations().to_latest(&mut conn)?;
        let ids = match opts.id_seed {
            Some(seed) => IdGen::seeded(opts.clock.clone(), seed),
            None => IdGen::new(opts.clock.clone()),
        };
        let existing: Option<String> = conn
            .query_row("SELECT device_id FROM device_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let device = match existing {
            Some(s) => DeviceId::from_uuid(parse_uuid(&s, "device")?),
            None => {
                let device: DeviceId = ids.next();
                conn.execute(
                    "INSERT INTO device_state (id, device_id, next_seq) VALUES (1, ?1, 1)",
                    params![device.to_string()],
                )?;
                device
            }
        };
        Ok(Self {
            conn,
            clock: opts.clock,
            ids,
            device,
            photo_dir: None,
        })
    }

    /// This device's id.
    pub fn device_id(&self) -> DeviceId {
        self.device
    }

    /// The clock the store uses.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// A fresh UUIDv7 id of any entity type.
    pub fn new_id<T: From<Uuid>>(&self) -> T {
        self.ids.next()
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The journal mode and `synchronous` level in force (`("wal", 2)` means WAL with FULL).
    pub fn durability(&self) -> Result<(String, i64), StoreError> {
        let mode = self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        let sync = self
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))?;
        Ok((mode, sync))
    }

    /// `PRAGMA integrity_check`: `true` when SQLite answers `ok`.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let answer: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(answer == "ok")
    }

    /// The learned offset between the server's clock and this phone's, and records a new one
    /// (called by sync with the server time of each successful response).
    pub fn learn_clock_offset(&mut self, server_ms: i64) -> Result<(), StoreError> {
        let offset = server_ms.saturating_sub(self.clock.now_ms());
        self.conn.execute(
            "UPDATE device_state SET hlc_offset_ms = ?1 WHERE id = 1",
            params![offset],
        )?;
        Ok(())
    }
}

pub(crate) fn now_text(clock: &dyn Clock) -> String {
    ts(clock.now())
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_uuid(s: &str, what: &'static str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::NotFound {
        entity: what,
        id: s.to_owned(),
    })
}

/// Appends one mutation to the outbox inside the caller's transaction: allocates the next dense
/// seq, ticks the HLC, and persists both. Returns the seq.
pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    store_clock: &dyn Clock,
    mutation_id: MutationId,
    op: &Op,
    base_version: Option<u64>,
) -> Result<u64, StoreError> {
    let (device, seq, hlc_last, offset): (String, i64, i64, i64) = tx.query_row(
        "SELECT device_id, next_seq, hlc_last, hlc_offset_ms FROM device_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let device = DeviceId::from_uuid(parse_uuid(&device, "device")?);
    let mut hlc = HlcClock::restore(device, hlc_last as u64, offset);
    let stamp = hlc.tick(store_clock);
    tx.execute(
        "UPDATE device_state SET next_seq = next_seq + 1, hlc_last = ?1 WHERE id = 1",
        params![stamp.packed() as i64],
    )?;
    let (entity, entity_id) = op.target();
    tx.execute(
        "INSERT INTO outbox (seq, mutation_id, entity, entity_id, op, payload, hlc, base_version, schema_version, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            seq,
            mutation_id.to_string(),
            entity.as_str(),
            entity_id.to_string(),
            op.name(),
            serde_json::to_string(op)?,
            stamp.packed() as i64,
            base_version.map(|v| v as i64),
            SCHEMA_VERSION,
            now_text(store_clock),
        ],
    )?;
    Ok(seq as u64)
}
