//! A seeded village on a real SQLite file in a temp dir.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{GeoFix, Inspection, ItemResult, PhotoHash, Subject};
use cunjie_domain::ids::*;
use cunjie_domain::place::{AdminVillage, GeoPoint, Household};
use cunjie_domain::template::{Template, presets};
use cunjie_protocol::v1::{Change, EntityKind, PullPage};
use cunjie_store::{Store, StoreOptions};
use uuid::Uuid;

pub(crate) const SCOPE: &str = "village:taiping";

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) store: Store,
    pub(crate) village: AdminVillage,
    pub(crate) households: Vec<Household>,
    pub(crate) inspector: PersonId,
}

pub(crate) fn hh_id(n: u32) -> HouseholdId {
    HouseholdId::from_uuid(Uuid::from_u128(0x1000 + u128::from(n)))
}

pub(crate) fn photo(n: u8) -> PhotoHash {
    format!("{n:02x}").repeat(32).parse().expect("hex")
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

pub(crate) fn household(n: u32) -> Household {
    const SURNAMES: [&str; 6] = ["王", "李", "张", "刘", "陈", "杨"];
    Household {
        id: hh_id(n),
        group: GroupId::from_uuid(Uuid::from_u128(0x200 + u128::from(n % 3))),
        village: village().id,
        head_name: format!(
            "{}{}",
            SURNAMES[n as usize % 6],
            ["建国", "秀英", "桂兰", "志强"][n as usize % 4]
        ),
        door_plate: format!("太平村{}组{:03}号", n % 3 + 1, n),
        members: 3 + n % 4,
        roadside: n.is_multiple_of(2),
        is_demo_household: false,
        location: Some(GeoPoint::new(
            27.6 + f64::from(n) * 0.0002,
            113.85 + f64::from(n % 7) * 0.0003,
        )),
    }
}

pub(crate) fn change(seq: u64, entity: EntityKind, id: Uuid, row: serde_json::Value) -> Change {
    Change {
        seq,
        entity,
        id,
        server_version: seq,
        row: Some(row),
    }
}

pub(crate) fn seed_page(households: &[Household], templates: &[Template]) -> PullPage {
    let mut changes = vec![change(
        1,
        EntityKind::Village,
        *village().id.as_uuid(),
        serde_json::to_value(village()).expect("json"),
    )];
    for t in templates {
        changes.push(change(
            changes.len() as u64 + 1,
            EntityKind::Template,
            *t.id.as_uuid(),
            serde_json::to_value(t).expect("json"),
        ));
    }
    for h in households {
        changes.push(change(
            changes.len() as u64 + 1,
            EntityKind::Household,
            *h.id.as_uuid(),
            serde_json::to_value(h).expect("json"),
        ));
    }
    let next_after = changes.len() as u64;
    PullPage {
        scope: SCOPE.into(),
        epoch: 1,
        changes,
        next_after,
        up_to_date: true,
    }
}

pub(crate) fn open(path: &Path, clock: &Arc<FakeClock>) -> Store {
    Store::open(
        path,
        StoreOptions {
            clock: clock.clone(),
            id_seed: None,
        },
    )
    .expect("store opens")
}

pub(crate) fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("cunjie.db")
}

impl Fixture {
    pub(crate) fn new(households: u32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FakeClock::at(2026, 11, 17, 9, 0, 0));
        let mut store = open(&db_path(&dir), &clock);
        let households: Vec<Household> = (0..households).map(household).collect();
        store
            .apply_pull_page(&seed_page(
                &households,
                &[presets::household_sanbao(), presets::village_recheck()],
            ))
            .expect("seed applies");
        Self {
            dir,
            clock,
            store,
            village: village(),
            households,
            inspector: PersonId::from_uuid(Uuid::from_u128(0x300)),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        db_path(&self.dir)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.store.clock().now()
    }

    pub(crate) fn register_photos(&mut self, n: u8) {
        for i in 1..=n {
            self.store
                .register_photo(
                    &photo(i),
                    120_000,
                    "image/jpeg",
                    &format!("photos/{i}.jpg"),
                    None,
                )
                .expect("photo registers");
        }
    }

    /// A complete household inspection draft with two failures, saved.
    pub(crate) fn complete_draft(&mut self, n: u32) -> Inspection {
        let t = presets::household_sanbao();
        let subject = Subject {
            kind: SubjectKind::Household,
            id: *hh_id(n).as_uuid(),
        };
        let mut insp = Inspection::start(
            self.store.new_id(),
            t.reference(),
            subject,
            self.village.id,
            self.inspector,
            self.store.device_id(),
            self.now(),
        );
        insp.fix = Some(GeoFix {
            point: GeoPoint::new(27.6, 113.85),
            accuracy_m: 6.0,
            fix_time: Some(self.now()),
            mock: false,
        });
        insp.pass_remaining(&t);
        insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo(1)]));
        insp.answer(ItemResult::fail("HH_CLUTTER", 1, vec![photo(2)]));
        self.store
            .save_inspection_draft(&insp)
            .expect("draft saves");
        insp
    }
}

/// Every row of every table, read through a second connection: what a crash would leave.
pub(crate) fn snapshot(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("second connection");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {t} ORDER BY rowid"))
            .expect("select");
        let cols = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let vals: Vec<String> = (0..cols)
                    .map(|i| match r.get_ref(i).expect("col") {
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                Ok(format!("{t}: {}", vals.join(" | ")))
            })
            .expect("rows");
        for r in rows {
            out.push(r.expect("row"));
        }
    }
    out
}

/// Runs SQL on a second connection (to plant a fault-injecting trigger, say).
pub(crate) fn exec(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .expect("second connection")
        .execute_batch(sql)
        .expect("sql runs");
}

pub(crate) fn count(path: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(path)
        .expect("conn")
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// Asserts two snapshots are equal, printing only the rows that differ.
pub(crate) fn assert_same(before: &[String], after: &[String], what: &str) {
    let gone: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(
        gone.is_empty() && new.is_empty() && before.len() == after.len(),
        "{what}\n  rows gone: {gone:#?}\n  rows added: {new:#?}"
    );
}
