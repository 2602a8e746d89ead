//! A simulated phone: a real store on a temp directory, with its own fake clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cunjie_device::{CaptureContext, DeviceError, capture_photo};
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{GeoFix, Inspection, PhotoHash, Subject};
use cunjie_domain::ids::{PersonId, VillageId};
use cunjie_domain::place::GeoPoint;
use cunjie_domain::template::Template;
use cunjie_store::{Store, StoreError, StoreOptions};

use cunjie_media::Policy;

use crate::evidence::render_jpeg;
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
        cunjie_device::device_key(&mut store).map_err(|e| StoreError::NotFound {
            entity: "device key",
            id: e.to_string(),
        })?;
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

    /// Takes a photo as the app does (see [`take_photo`]).
    pub fn take_photo(
        &mut self,
        seed: u32,
        ctx: &CaptureContext,
    ) -> Result<PhotoHash, DeviceError> {
        take_photo(&mut self.store, seed, ctx)
    }
}

/// The camera's picture for `seed`: a real JPEG (640 × 480; the pipeline never upscales).
pub fn camera_jpeg(seed: u32) -> Vec<u8> {
    render_jpeg(seed, 640, 480)
}

/// Takes a photo as the app does: the camera's JPEG through the capture pipeline (水印,
/// derivative, thumbnail, hash, device signature), kept durably with its attestation queued.
pub fn take_photo(
    store: &mut Store,
    seed: u32,
    ctx: &CaptureContext,
) -> Result<PhotoHash, DeviceError> {
    capture_photo(store, &camera_jpeg(seed), ctx, &Policy::default())
}

/// What a photo of `subject` is evidence of, with the watermark's words.
pub fn photo_context(
    subject: Subject,
    at: Option<GeoPoint>,
    place: &str,
    person: &str,
) -> CaptureContext {
    CaptureContext {
        subject,
        fix: at.map(|point| GeoFix {
            point,
            accuracy_m: 6.0,
            fix_time: None,
            mock: false,
        }),
        place: place.to_owned(),
        person: person.to_owned(),
    }
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
