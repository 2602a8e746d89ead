//! A draft survives the process dying at any point between taps.

use cunjie_domain::fact::{ItemResult, Outcome};
use cunjie_domain::geo::GeoPolicy;
use cunjie_store::StoreError;

use crate::common::{Fixture, open, photo};

#[test]
fn draft_survives_the_store_being_dropped_or_leaked_mid_edit() {
    let mut f = Fixture::new(3);
    f.register_photos(3);
    let path = f.path();
    let clock = f.clock.clone();
    let mut insp = f.complete_draft(2);
    let id = insp.id;
    insp.results.truncate(3);
    f.store
        .save_inspection_draft(&insp)
        .expect("three answers saved");

    // The app is killed: no close, no checkpoint, the connection just vanishes.
    std::mem::forget(f.store);
    let mut store = open(&path, &clock);
    let back = store.inspection_draft(id).expect("draft is still there");
    assert_eq!(back.results.len(), 3, "exactly what the last tap saved");
    assert!(
        store.integrity_ok().expect("check"),
        "integrity_check ok after the kill"
    );

    // Keep editing after the restart, then a bad edit (a photo that was never saved) fails.
    let mut next = back.clone();
    next.answer(ItemResult::fail("HH_SEWAGE", 1, vec![photo(3)]));
    store
        .save_inspection_draft(&next)
        .expect("fourth answer saved");
    let mut bad = next.clone();
    bad.answer(ItemResult::fail("HH_TOILET", 1, vec![photo(9)]));
    let err = store
        .save_inspection_draft(&bad)
        .expect_err("unsaved photo refused");
    assert!(matches!(err, StoreError::PhotoMissing(_)), "{err}");
    assert_eq!(
        store.inspection_draft(id).expect("draft").results,
        next.results,
        "the failed save lost nothing"
    );

    // Dropped normally this time, reopened, finished and submitted.
    drop(store);
    clock.advance_ms(60_000);
    let mut store = open(&path, &clock);
    let mut done = store.inspection_draft(id).expect("draft");
    for item in cunjie_domain::template::presets::household_sanbao().items {
        if done.result(&item.item_code).is_none() {
            done.answer(ItemResult::pass(&item.item_code));
        }
    }
    store
        .save_inspection_draft(&done)
        .expect("complete draft saved");
    store
        .submit_inspection(id, &GeoPolicy::default())
        .expect("submits");
    let submitted = store.inspection(id).expect("fact");
    assert_eq!(
        submitted.result("HH_SEWAGE").map(|r| r.outcome),
        Some(Outcome::Fail),
        "edits made before the kill are in the fact"
    );
    assert!(
        store.inspection_draft(id).is_err(),
        "the draft is gone once submitted"
    );
    let err = store
        .save_inspection_draft(&done)
        .expect_err("a submitted inspection is immutable");
    assert!(matches!(err, StoreError::AlreadySubmitted(_)), "{err}");
    assert_eq!(
        store.photo_ref_count(&photo(3)).expect("refs"),
        1,
        "the fact references its photo"
    );
}

#[test]
fn round_in_progress_resumes_after_restart() {
    use cunjie_domain::fact::{CleanerRound, FactStatus, TracePoint};
    use cunjie_domain::ids::ZoneId;
    use cunjie_domain::place::GeoPoint;
    let f = Fixture::new(1);
    let path = f.path();
    let clock = f.clock.clone();
    let mut store = f.store;
    let mut round = CleanerRound {
        id: store.new_id(),
        zone: ZoneId::from_uuid(uuid::Uuid::from_u128(0x400)),
        cleaner: f.inspector,
        device: store.device_id(),
        pass_no: 1,
        started_at: clock_now(&clock),
        ended_at: None,
        server_received_at: None,
        trace: vec![],
        visits: vec![],
        problems: vec![],
        status: FactStatus::Draft,
    };
    for i in 0..50 {
        round.trace.push(TracePoint {
            point: GeoPoint::new(27.6 + f64::from(i) * 0.0001, 113.85),
            accuracy_m: 6.0,
            at: clock_now(&clock),
        });
        store.save_round_draft(&round).expect("trace batch saved");
    }
    std::mem::forget(store);
    let store = open(&path, &clock);
    let resumed = store.round_drafts().expect("drafts");
    assert_eq!(
        resumed.len(),
        1,
        "the round in progress is offered for resuming"
    );
    assert_eq!(
        resumed[0].trace.len(),
        50,
        "every saved trace point is there"
    );
}

fn clock_now(c: &cunjie_domain::clock::FakeClock) -> chrono::DateTime<chrono::Utc> {
    use cunjie_domain::clock::Clock;
    c.now()
}
