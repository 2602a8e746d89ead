//! An inspector works a week offline, the phone is killed twice, and everything recorded is
//! still in the outbox exactly once, decodes from its wire form, and scores the same on the
//! "server side" as on the phone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{Inspection, InspectionType, ItemResult, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::PersonId;
use cunjie_domain::scoring::{Scheme, SchemeKind, VillageMonth, score_village_month};
use cunjie_domain::template::presets;
use cunjie_e2e::evidence::sha256_hex;
use cunjie_e2e::seed::demo_village;
use cunjie_e2e::sim::{SimDevice, new_inspection, photo_context};
use cunjie_protocol::v1::{Mutation, Op, PushRequest};
use cunjie_store::{Store, StoreOptions};
use uuid::Uuid;

#[test]
fn a_week_offline_loses_nothing_and_duplicates_nothing() {
    let village = demo_village(3, 60);
    let clock = Arc::new(FakeClock::at(2026, 11, 16, 7, 30, 0));
    let mut phone = SimDevice::with_village(&village, clock.clone()).expect("phone");
    let inspector = PersonId::from_uuid(Uuid::from_u128(0x900));
    let t = presets::household_sanbao();
    let policy = GeoPolicy::default();
    let mut submitted = Vec::new();
    let mut photo_seed = 0;

    for day in 0..7 {
        for k in 0..6u32 {
            let n = (day * 6 + k) as usize;
            let hh = &village.households[n];
            let subject = Subject {
                kind: SubjectKind::Household,
                id: *hh.id.as_uuid(),
            };
            let mut insp = new_inspection(
                &phone.store,
                &t,
                subject,
                village.village.id,
                inspector,
                hh.location,
            );
            insp.kind = InspectionType::TownshipRecheck;
            for item in &t.items {
                insp.answer(ItemResult::pass(&item.item_code));
                // Saved on every tap, as the app does.
                phone.store.save_inspection_draft(&insp).expect("tap saved");
            }
            if n.is_multiple_of(3) {
                photo_seed += 1;
                let ctx = photo_context(
                    subject,
                    hh.location,
                    &format!("{} {}", hh.door_plate, hh.head_name),
                    "检查员",
                );
                let ev = phone.take_photo(photo_seed, &ctx).expect("photo");
                insp.answer(ItemResult::fail(
                    ["HH_WHITE_LITTER", "HH_CLUTTER", "HH_SEWAGE"][n % 9 / 3],
                    1,
                    vec![ev],
                ));
                phone
                    .store
                    .save_inspection_draft(&insp)
                    .expect("failure saved");
            }
            phone
                .store
                .submit_inspection(insp.id, &policy)
                .expect("submit");
            submitted.push(insp.id);
            clock.advance_ms(25 * 60_000);
        }
        if day == 2 || day == 5 {
            // The phone dies mid-day: the next inspection was half filled in.
            let subject = Subject {
                kind: SubjectKind::Household,
                id: *village.households[59 - day as usize].id.as_uuid(),
            };
            let mut half = new_inspection(
                &phone.store,
                &t,
                subject,
                village.village.id,
                inspector,
                None,
            );
            half.answer(ItemResult::pass("HH_CLUTTER"));
            phone
                .store
                .save_inspection_draft(&half)
                .expect("half saved");
            let path = phone.db_path();
            let store = std::mem::replace(
                &mut phone.store,
                Store::open_in_memory(StoreOptions::default()).expect("placeholder"),
            );
            std::mem::forget(store);
            phone.store = Store::open(
                &path,
                StoreOptions {
                    clock: clock.clone(),
                    id_seed: None,
                },
            )
            .expect("reopens after the kill");
            assert!(
                phone.store.integrity_ok().expect("check"),
                "integrity ok after the kill on day {day}"
            );
            half = phone
                .store
                .inspection_draft(half.id)
                .expect("half-filled draft survived");
            phone
                .store
                .discard_draft(&half.id.to_string())
                .expect("inspector abandons it");
        }
        clock.advance_ms(24 * 3_600_000 - 6 * 25 * 60_000);
    }

    // What the phone would push, through its wire form.
    let pending = phone.store.pending_mutations(1_000).expect("pending");
    let wire = serde_json::to_vec(&PushRequest {
        mutations: pending.clone(),
        sent_at: None,
    })
    .expect("encodes");
    let received: PushRequest = serde_json::from_slice(&wire).expect("the server decodes it");
    // One mutation per submitted inspection, and one signed attestation per photo taken.
    assert_eq!(
        received.mutations.len(),
        submitted.len() + photo_seed as usize,
        "0 lost: one mutation per submitted inspection and per photo"
    );
    let seqs: Vec<u64> = received.mutations.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=received.mutations.len() as u64).collect::<Vec<_>>(),
        "seqs dense and in order"
    );
    let mutation_ids: BTreeSet<_> = received.mutations.iter().map(|m| m.mutation_id).collect();
    assert_eq!(
        mutation_ids.len(),
        received.mutations.len(),
        "0 duplicated mutation ids"
    );
    assert!(
        received.mutations.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "HLCs strictly increase across kills"
    );
    let mut attested = BTreeSet::new();
    let inspections: Vec<Inspection> = received
        .mutations
        .iter()
        .filter_map(|m: &Mutation| match &m.payload {
            Op::SubmitInspection { inspection } => Some((**inspection).clone()),
            Op::AttestPhoto { attestation, .. } => {
                attested.insert(attestation.sha256.clone());
                None
            }
            other => panic!(
                "only inspections and photos were submitted, got {}",
                other.name()
            ),
        })
        .collect();
    assert_eq!(
        attested.len(),
        photo_seed as usize,
        "each photo attested once"
    );
    let ids: BTreeSet<_> = inspections.iter().map(|i| i.id).collect();
    assert_eq!(
        ids,
        submitted.iter().copied().collect(),
        "exactly the inspections submitted"
    );

    // Every referenced photo is a durable file whose bytes hash to its name.
    for i in &inspections {
        for h in i.photos() {
            let row = phone.store.photo(&h).expect("photo row");
            let bytes =
                std::fs::read(phone.store.photo_file(&row.local_path)).expect("photo file exists");
            assert!(attested.contains(&h), "a referenced photo is attested");
            assert_eq!(sha256_hex(&bytes), h, "photo bytes match their hash");
        }
    }

    // The server's Scheme T roll-up from the wire equals the phone's from its own facts.
    let Scheme {
        kind: SchemeKind::Yuan(scheme),
        ..
    } = Scheme::township_monthly_yuan()
    else {
        panic!("T is yuan")
    };
    let households: BTreeMap<_, _> = village
        .households
        .iter()
        .map(|h| (h.id, h.clone()))
        .collect();
    let local: Vec<Inspection> = submitted
        .iter()
        .map(|id| phone.store.inspection(*id).expect("fact"))
        .collect();
    let month = |insps: &[Inspection]| {
        score_village_month(
            &scheme,
            &VillageMonth {
                village: &village.village,
                inspections: insps,
                households: &households,
                demo_households: 5,
                events: &[],
            },
        )
    };
    let server = month(&inspections);
    assert_eq!(server, month(&local), "same facts, same score");
    // 14 failures, one per third household: roadside ones with clutter cost 5, all white litter costs 5.
    let white = inspections
        .iter()
        .filter(|i| {
            i.result("HH_WHITE_LITTER")
                .is_some_and(|r| r.outcome == cunjie_domain::fact::Outcome::Fail)
        })
        .count() as i64;
    let roadside_clutter = inspections
        .iter()
        .filter(|i| {
            households[&cunjie_domain::ids::HouseholdId::from_uuid(i.subject.id)].roadside
                && i.result("HH_CLUTTER")
                    .is_some_and(|r| r.outcome == cunjie_domain::fact::Outcome::Fail)
        })
        .count() as i64;
    assert_eq!(
        server.deductions,
        cunjie_domain::Amount::whole(-5 * (white + roadside_clutter)),
        "deductions follow the rule rates"
    );
    assert_eq!(
        phone.store.inspection_drafts().expect("drafts").len(),
        0,
        "no stray drafts"
    );
}
