//! A simulated phone: a real store on a temp directory, with its own fake clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cunjie_domain::clock::FakeClock;
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
        let bytes = render_jpeg(seed, 320, 240);
        let ev = write_durable(&self.dir.path().join("photos"), &bytes)
            .map_err(|e| StoreError::PhotoMissing(e.to_string()))?;
        self.store.register_photo(
            &ev.hash,
            ev.size,
            "image/jpeg",
            &ev.path.to_string_lossy(),
            None,
        )?;
        Ok(ev)
    }
}
