//! A simulated phone on the network: a real store on a temp dir, its own fake clock, and the
//! real sync engine over HTTP (or any transport, to inject faults).

use std::sync::{Arc, Mutex, MutexGuard};

use cunjie_domain::clock::FakeClock;
use cunjie_store::{Store, StoreOptions};
use cunjie_sync::{HttpTransport, SyncConfig, SyncEngine, Transport};

use cunjie_device::CaptureContext;
use cunjie_domain::fact::PhotoHash;

/// One phone.
#[derive(Debug)]
pub struct Phone<T: Transport = HttpTransport> {
    dir: tempfile::TempDir,
    /// Its clock.
    pub clock: Arc<FakeClock>,
    /// Its sync engine (which owns the store).
    pub engine: SyncEngine<T>,
    photo_seed: u32,
}

/// A fast retry schedule for tests (milliseconds, not seconds).
pub fn fast_config() -> SyncConfig {
    SyncConfig {
        backoff: backoff_fast(),
        ..SyncConfig::default()
    }
}

fn backoff_fast() -> cunjie_sync::ExponentialBuilder {
    cunjie_sync::ExponentialBuilder::new()
        .with_min_delay(std::time::Duration::from_millis(5))
        .with_max_delay(std::time::Duration::from_millis(50))
        .with_max_times(6)
}

impl Phone<HttpTransport> {
    /// A fresh phone talking to `url`.
    pub fn http(url: &str, clock: Arc<FakeClock>) -> Self {
        Self::with_transport(HttpTransport::new(url).expect("transport"), clock)
    }
}

impl<T: Transport> Phone<T> {
    /// A fresh phone over any transport.
    pub fn with_transport(transport: T, clock: Arc<FakeClock>) -> Self {
        Self::open_in(tempfile::tempdir().expect("temp dir"), transport, clock)
    }

    /// The phone whose data is in `dir` (`cunjie.db` and `photos/`), opened as the app opens
    /// it: migrated to the current schema, its key made, photos from before signed evidence
    /// attested.
    pub fn open_in(dir: tempfile::TempDir, transport: T, clock: Arc<FakeClock>) -> Self {
        let mut store = Store::open(
            &dir.path().join("cunjie.db"),
            StoreOptions {
                clock: clock.clone(),
                id_seed: None,
            },
        )
        .expect("store opens");
        // Made before enrollment, which registers its public half.
        cunjie_device::device_key(&mut store).expect("device key");
        cunjie_device::attest_unattested_photos(&mut store).expect("old photos attested");
        let engine = SyncEngine::with_config(Arc::new(Mutex::new(store)), transport, fast_config())
            .expect("engine");
        Self {
            dir,
            clock,
            engine,
            photo_seed: 0,
        }
    }

    /// The store, locked.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.engine
            .store()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a photo as the app does: a real camera JPEG through the capture pipeline.
    pub fn take_photo(&mut self, ctx: &CaptureContext) -> PhotoHash {
        self.photo_seed += 1;
        crate::sim::take_photo(&mut self.store(), self.photo_seed, ctx).expect("photo saved")
    }

    /// The database path.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("cunjie.db")
    }
}
