//! Scores a village-month under Scheme T: 600 households, 4 inspections each (2,400 inspections),
//! plus the village re-check, and ranks 17 villages.

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::DateTime;
use criterion::{Criterion, criterion_group, criterion_main};
use cunjie_domain::Amount;
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{FactStatus, Inspection, InspectionType, ItemResult, PhotoHash, Subject};
use cunjie_domain::ids::{
    DeviceId, GroupId, HouseholdId, InspectionId, PersonId, TownshipId, VillageId,
};
use cunjie_domain::place::{AdminVillage, Household};
use cunjie_domain::scoring::{
    Scheme, SchemeKind, VillageMonth, rank, score_inspection, score_village_month,
};
use cunjie_domain::template::presets;
use uuid::Uuid;

fn bench(c: &mut Criterion) {
    let village = AdminVillage {
        id: VillageId::from_uuid(Uuid::from_u128(1)),
        township: TownshipId::from_uuid(Uuid::from_u128(2)),
        code: "TP".into(),
        name: "太平村".into(),
        population: 2_400,
        along_county_road: true,
        centroid: None,
    };
    let households: BTreeMap<HouseholdId, Household> = (0..600u128)
        .map(|n| Household {
            id: HouseholdId::from_uuid(Uuid::from_u128(1_000 + n)),
            group: GroupId::from_uuid(Uuid::from_u128(10 + n % 8)),
            village: village.id,
            head_name: format!("户主{n}"),
            door_plate: format!("{n}"),
            members: 4,
            roadside: n % 3 == 0,
            is_demo_household: false,
            location: None,
        })
        .map(|h| (h.id, h))
        .collect();
    let t = presets::household_sanbao();
    let photo: PhotoHash = "ab".repeat(32).parse().expect("hex");
    let mut inspections = Vec::new();
    for (i, hh) in households.keys().enumerate() {
        for round in 0..4 {
            let mut results: Vec<ItemResult> = t
                .items
                .iter()
                .map(|it| ItemResult::pass(&it.item_code))
                .collect();
            let k = (i * 7 + round * 3) % 12;
            if (i + round) % 4 == 0 {
                results[k] = ItemResult::fail(&t.items[k].item_code, 1, vec![photo.clone()]);
            }
            inspections.push(Inspection {
                id: InspectionId::from_uuid(Uuid::from_u128((i * 4 + round) as u128)),
                template: t.reference(),
                subject: Subject {
                    kind: SubjectKind::Household,
                    id: *hh.as_uuid(),
                },
                village: village.id,
                kind: InspectionType::TownshipRecheck,
                inspector: PersonId::from_uuid(Uuid::from_u128(5)),
                device: DeviceId::from_uuid(Uuid::from_u128(6)),
                started_at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
                submitted_at: None,
                server_received_at: None,
                fix: None,
                results,
                note: None,
                supersedes: None,
                status: FactStatus::Submitted,
            });
        }
    }
    let Scheme {
        kind: SchemeKind::Yuan(scheme),
        ..
    } = Scheme::township_monthly_yuan()
    else {
        unreachable!("Scheme T is a yuan scheme")
    };
    let month = VillageMonth {
        village: &village,
        inspections: &inspections,
        households: &households,
        demo_households: 2,
        events: &[],
    };
    c.bench_function("scheme_t_village_month_600hh_x4", |b| {
        b.iter(|| black_box(score_village_month(&scheme, black_box(&month))));
    });
    c.bench_function("score_2400_household_inspections", |b| {
        b.iter(|| {
            let total: Amount = inspections
                .iter()
                .map(|i| score_inspection(&t, i).score)
                .sum();
            black_box(total)
        });
    });
    let scores: Vec<(u32, Amount)> = (0..17)
        .map(|v| (v, Amount(-(v as i64 % 5) * 500)))
        .collect();
    c.bench_function("rank_17_villages", |b| {
        b.iter(|| black_box(rank(black_box(&scores))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
