//! Store benchmarks on a real file with `synchronous=FULL`:
//! - recording one inspection (12 items, 2 failures with photos): save the draft, then submit;
//! - one draft save (what every tap costs);
//! - listing and searching 5,000 households by name and door-plate number.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::SystemClock;
use cunjie_domain::fact::{GeoFix, Inspection, ItemResult, PhotoHash, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{GroupId, HouseholdId, PersonId, TownshipId, VillageId};
use cunjie_domain::place::{AdminVillage, GeoPoint, Household};
use cunjie_domain::template::presets;
use cunjie_protocol::v1::{Change, EntityKind, PullPage};
use cunjie_store::{Store, StoreOptions};
use uuid::Uuid;

const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: [&str; 8] = [
    "建国", "秀英", "桂兰", "志强", "红梅", "德明", "小军", "玉兰",
];

fn seeded(dir: &tempfile::TempDir, households: u32) -> (Store, VillageId) {
    let mut store = Store::open(
        &dir.path().join("bench.db"),
        StoreOptions {
            clock: Arc::new(SystemClock),
            id_seed: None,
        },
    )
    .expect("opens");
    let village = AdminVillage {
        id: VillageId::from_uuid(Uuid::from_u128(1)),
        township: TownshipId::from_uuid(Uuid::from_u128(2)),
        code: "TP".into(),
        name: "太平村".into(),
        population: households * 4,
        along_county_road: true,
        centroid: None,
    };
    let mut changes = vec![
        Change {
            seq: 1,
            entity: EntityKind::Village,
            id: *village.id.as_uuid(),
            server_version: 1,
            row: Some(serde_json::to_value(&village).expect("json")),
        },
        Change {
            seq: 2,
            entity: EntityKind::Template,
            id: *presets::household_sanbao().id.as_uuid(),
            server_version: 2,
            row: Some(serde_json::to_value(presets::household_sanbao()).expect("json")),
        },
    ];
    for n in 0..households {
        let h = Household {
            id: HouseholdId::from_uuid(Uuid::from_u128(10_000 + u128::from(n))),
            group: GroupId::from_uuid(Uuid::from_u128(100 + u128::from(n % 12))),
            village: village.id,
            head_name: format!(
                "{}{}",
                SURNAMES[(n / 8) as usize % 10],
                GIVEN[n as usize % 8]
            ),
            door_plate: format!("太平村{}组{:04}号", n % 12 + 1, n),
            members: 2 + n % 5,
            roadside: n % 3 == 0,
            is_demo_household: false,
            location: Some(GeoPoint::new(
                27.6 + f64::from(n % 100) * 0.0003,
                113.85 + f64::from(n / 100) * 0.0003,
            )),
        };
        changes.push(Change {
            seq: u64::from(n) + 3,
            entity: EntityKind::Household,
            id: *h.id.as_uuid(),
            server_version: 1,
            row: Some(serde_json::to_value(&h).expect("json")),
        });
    }
    let next_after = changes.len() as u64;
    store
        .apply_pull_page(&PullPage {
            scope: "village:TP".into(),
            epoch: 1,
            changes,
            next_after,
            up_to_date: true,
        })
        .expect("seed");
    (store, village.id)
}

fn inspection(store: &Store, village: VillageId, photos: &[PhotoHash]) -> Inspection {
    let t = presets::household_sanbao();
    let now = store.clock().now();
    let subject = Subject {
        kind: SubjectKind::Household,
        id: Uuid::from_u128(10_007),
    };
    let mut insp = Inspection::start(
        store.new_id(),
        t.reference(),
        subject,
        village,
        PersonId::from_uuid(Uuid::from_u128(9)),
        store.device_id(),
        now,
    );
    insp.fix = Some(GeoFix {
        point: GeoPoint::new(27.6, 113.85),
        accuracy_m: 5.0,
        fix_time: Some(now),
        mock: false,
    });
    insp.pass_remaining(&t);
    insp.answer(ItemResult::fail(
        "HH_WHITE_LITTER",
        1,
        vec![photos[0].clone()],
    ));
    insp.answer(ItemResult::fail("HH_CLUTTER", 1, vec![photos[1].clone()]));
    insp
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let (mut store, village) = seeded(&dir, 5_000);
    let photos: Vec<PhotoHash> = ["1a", "2b"]
        .iter()
        .map(|h| h.repeat(32).parse().expect("hex"))
        .collect();
    for p in &photos {
        store
            .register_photo(p, 180_000, "image/jpeg", "photos/x.jpg", None)
            .expect("photo");
    }
    let policy = GeoPolicy::default();

    c.bench_function("record_inspection_12_items_2_findings_sync_full", |b| {
        // Building the value is microseconds; the two fsync'd commits dominate.
        b.iter(|| {
            let insp = inspection(&store, village, &photos);
            store.save_inspection_draft(&insp).expect("draft");
            black_box(store.submit_inspection(insp.id, &policy).expect("submit"))
        });
    });

    let draft = inspection(&store, village, &photos);
    c.bench_function("save_draft_one_tap_sync_full", |b| {
        b.iter(|| {
            store
                .save_inspection_draft(black_box(&draft))
                .expect("draft")
        });
    });

    c.bench_function("search_5000_households_by_name", |b| {
        b.iter(|| {
            black_box(
                store
                    .search_households(black_box("张志强"), 50)
                    .expect("search"),
            )
        });
    });
    c.bench_function("search_5000_households_by_door_plate", |b| {
        b.iter(|| {
            black_box(
                store
                    .search_households(black_box("0420"), 50)
                    .expect("search"),
            )
        });
    });
    c.bench_function("list_5000_households_page_of_50", |b| {
        b.iter(|| black_box(store.households_in(village, None, 50, 2_500).expect("list")));
    });
    c.bench_function("nearest_20_of_5000_households", |b| {
        b.iter(|| {
            black_box(
                store
                    .households_near(GeoPoint::new(27.615, 113.857), 300.0, 20)
                    .expect("near"),
            )
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
