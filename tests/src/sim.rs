//! A simulated phone: a real store on a temp directory, with its own fake clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{GeoFix, Inspection, Subject};
use cunjie_domain::ids::{PersonId, VillageId};
use cunjie_domain::place::GeoPoint;
use cunjie_domain::template::Template;
use cunjie_store::{Store, StoreError, StoreOptions};

use crate::evidence::{Evidence, render_jpeg, write_durable};
use crate::seed::DemoVillage;

/// One simulated device.
#[derive(Debug)]
pub struct SimDevice {
    dir: tempfile::TempDir,
    /// Its clock (the test moves it).
    pub clock: Arc<FakeClock>,
    /// Its database.
    pub store: Store,
}

impl SimDevice {
    /// A fresh phone holding the demo village, as after its first pull.
    pub fn with_village(village: &DemoVillage, clock: Arc<FakeClock>) -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::NotFound {
            entity: "temp dir",
            id: e.to_string(),
        })?;
        let mut store = Store::open(
            &dir.path().join("cunjie.db"),
            StoreOptions {
                clock: clock.clone(),
                id_seed: None,
            },
        )?;
        store.apply_pull_page(&village.as_pull_page())?;
        Ok(Self { dir, clock, store })
    }

    /// The device's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("cunjie.db")
    }

    /// Takes a "photo": a real JPEG written durably, then registered.
    pub fn take_photo(&mut self, seed: u32) -> Result<Evidence, StoreError> {
        take_photo(&mut self.store, &self.dir.path().join("photos"), seed)
    }
}

/// Renders a real JPEG for `seed`, writes it durably into `dir`, then records it in the store.
pub fn take_photo(store: &mut Store, dir: &Path, seed: u32) -> Result<Evidence, StoreError> {
    let bytes = render_jpeg(seed, 320, 240);
    let ev = write_durable(dir, &bytes).map_err(|e| StoreError::PhotoMissing(e.to_string()))?;
    store.register_photo(
        &ev.hash,
        ev.size,
        "image/jpeg",
        &ev.path.to_string_lossy(),
        None,
    )?;
    Ok(ev)
}

/// A new, empty inspection draft of `template` for `subject`, by `inspector` on this phone.
pub fn new_inspection(
    store: &Store,
    template: &Template,
    subject: Subject,
    village: VillageId,
    inspector: PersonId,
    at: Option<GeoPoint>,
) -> Inspection {
    let now = store.clock().now();
    let mut insp = Inspection::start(
        store.new_id(),
        template.reference(),
        subject,
        village,
        inspector,
        store.device_id(),
        now,
    );
    insp.fix = at.map(|point| GeoFix {
        point,
        accuracy_m: 6.0,
        fix_time: Some(now),
        mock: false,
    });
    insp
}

/// Row counts of every table in a phone database, read through a second connection.
pub fn snapshot_counts(path: &Path) -> std::collections::BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(path).expect("second connection");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .expect("count");
            (t, n)
        })
        .collect()
}
