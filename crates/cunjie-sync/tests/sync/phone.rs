//! A phone for the tests: a real store on a temp dir with a fake clock, an engine over the fake
//! server with a fast backoff, and the registry the fake server serves.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use backon::ExponentialBuilder;
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{GeoFix, Inspection, ItemResult, PhotoHash, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{GroupId, HouseholdId, InspectionId, PersonId, TownshipId, VillageId};
use cunjie_domain::place::{AdminVillage, GeoPoint, Household};
use cunjie_domain::template::presets;
use cunjie_protocol::v1::{EntityKind, Mutation};
use cunjie_store::{PhotoRow, Store, StoreOptions};
use cunjie_sync::{SyncConfig, SyncEngine};
use uuid::Uuid;

use crate::fake::FakeServer;

pub(crate) const VILLAGE: &str = "village:taiping";
pub(crate) const ZONE: &str = "zone:river";
pub(crate) const SERVER_URL: &str = "https://tongmu.example.cn";

/// Tries fast: 1 ms doubling to 4 ms, 4 retries (5 tries in all), no jitter.
pub(crate) fn fast_config() -> SyncConfig {
    SyncConfig {
        backoff: ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(4))
            .with_max_times(4),
        ..SyncConfig::default()
    }
}

pub(crate) fn village() -> AdminVillage {
    AdminVillage {
        id: VillageId::from_uuid(Uuid::from_u128(0x100)),
        township: TownshipId::from_uuid(Uuid::from_u128(0x10)),
        code: "TP".into(),
        name: "太平村".into(),
        population: 1_260,
        along_county_road: true,
        centroid: Some(GeoPoint::new(27.6, 113.85)),
    }
}

pub(crate) fn hh_id(n: u32) -> HouseholdId {
    HouseholdId::from_uuid(Uuid::from_u128(0x1000 + u128::from(n)))
}

pub(crate) fn household(n: u32) -> Household {
    Household {
        id: hh_id(n),
        group: GroupId::from_uuid(Uuid::from_u128(0x200 + u128::from(n % 3))),
        village: village().id,
        head_name: format!(
            "{}{}",
            ["王", "李", "张", "刘"][n as usize % 4],
            ["建国", "秀英", "桂兰"][n as usize % 3]
        ),
        door_plate: format!("太平村{}组{:03}号", n % 3 + 1, n),
        members: 3 + n % 4,
        roadside: n.is_multiple_of(2),
        is_demo_household: false,
        location: Some(GeoPoint::new(27.6 + f64::from(n) * 0.0002, 113.85)),
    }
}

pub(crate) fn photo(n: u8) -> PhotoHash {
    format!("{n:02x}").repeat(32).parse().expect("hex")
}

/// Seeds the server: the village scope (village, household template, `households`
/// households) and a zone scope with one zone record and household 100.
pub(crate) fn seeded_server(households: u32) -> FakeServer {
    let server = FakeServer::default();
    server.put(
        VILLAGE,
        EntityKind::Village,
        *village().id.as_uuid(),
        serde_json::to_value(village()).expect("json"),
    );
    let t = presets::household_sanbao();
    server.put(
        VILLAGE,
        EntityKind::Template,
        *t.id.as_uuid(),
        serde_json::to_value(&t).expect("json"),
    );
    for n in 0..households {
        server.put(
            VILLAGE,
            EntityKind::Household,
            *hh_id(n).as_uuid(),
            serde_json::to_value(household(n)).expect("json"),
        );
    }
    server.put(
        ZONE,
        EntityKind::Zone,
        Uuid::from_u128(0x400),
        serde_json::json!({"name": "河道保洁区"}),
    );
    server.put(
        ZONE,
        EntityKind::Household,
        *hh_id(100).as_uuid(),
        serde_json::to_value(household(100)).expect("json"),
    );
    server
}

pub(crate) struct Phone {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) engine: SyncEngine<FakeServer>,
    pub(crate) server: FakeServer,
}

impl Phone {
    /// A fresh phone, not enrolled.
    pub(crate) fn new(server: &FakeServer, config: SyncConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FakeClock::at(2026, 11, 17, 9, 0, 0));
        let store = Store::open(
            &dir.path().join("cunjie.db"),
            StoreOptions {
                clock: clock.clone(),
                id_seed: None,
            },
        )
        .expect("store opens");
        let store = Arc::new(Mutex::new(store));
        let engine =
            SyncEngine::with_config(store.clone(), server.clone(), config).expect("engine");
        Self {
            _dir: dir,
            store,
            engine,
            server: server.clone(),
        }
    }

    /// A phone enrolled with a fresh code and synced once (it holds the registry).
    pub(crate) async fn enrolled(server: &FakeServer, config: SyncConfig) -> Self {
        let phone = Self::new(server, config);
        phone.enroll("TMZ-0001").await;
        phone
            .engine
            .sync_once()
            .await
            .expect("first sync pulls the registry");
        phone
    }

    pub(crate) async fn enroll(&self, code: &str) {
        self.server.issue_code(code);
        self.engine
            .enroll(SERVER_URL, code, "Redmi 12C")
            .await
            .expect("enrolls");
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("store lock")
    }

    pub(crate) fn pending(&self) -> Vec<Mutation> {
        self.store().pending_mutations(10_000).expect("pending")
    }

    /// Edits a household's door plate (one outbox row). Returns the seq.
    pub(crate) fn edit_plate(&self, n: u32, plate: &str) -> u64 {
        self.store()
            .update_household_fields(
                hh_id(n),
                [("door_plate".to_owned(), serde_json::json!(plate))].into(),
            )
            .expect("edit")
    }

    /// Registers photos 1..=n (the files are the media layer's business).
    pub(crate) fn photos(&self, n: u8) {
        let mut s = self.store();
        for i in 1..=n {
            s.register_photo(
                &photo(i),
                120_000,
                "image/jpeg",
                &format!("photos/{i}.jpg"),
                None,
            )
            .expect("photo");
        }
    }

    /// A household inspection draft with one failure (photo 1), saved.
    pub(crate) fn draft(&self, n: u32) -> Inspection {
        let t = presets::household_sanbao();
        let mut s = self.store();
        let now = s.clock().now();
        let subject = Subject {
            kind: SubjectKind::Household,
            id: *hh_id(n).as_uuid(),
        };
        let inspector = PersonId::from_uuid(Uuid::from_u128(crate::fake::PERSON));
        let mut insp = Inspection::start(
            s.new_id(),
            t.reference(),
            subject,
            village().id,
            inspector,
            s.device_id(),
            now,
        );
        insp.fix = Some(GeoFix {
            point: GeoPoint::new(27.6, 113.85),
            accuracy_m: 6.0,
            fix_time: Some(now),
            mock: false,
        });
        insp.pass_remaining(&t);
        insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo(1)]));
        s.save_inspection_draft(&insp).expect("draft saves");
        insp
    }

    /// Saves and submits an inspection (one outbox row). Returns its id.
    pub(crate) fn submit(&self, n: u32) -> InspectionId {
        let d = self.draft(n);
        self.store()
            .submit_inspection(d.id, &GeoPolicy::default())
            .expect("submit");
        d.id
    }

    /// Everything the person did that must survive: the outbox, drafts, photo rows.
    pub(crate) fn work(&self) -> (Vec<Mutation>, Vec<Inspection>, Vec<PhotoRow>) {
        let s = self.store();
        let pending = s.pending_mutations(10_000).expect("pending");
        let drafts = s.inspection_drafts().expect("drafts");
        let photos = (1..=3).filter_map(|i| s.photo(&photo(i)).ok()).collect();
        (pending, drafts, photos)
    }
}
