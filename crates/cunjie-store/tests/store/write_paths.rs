//! The one-transaction invariant, for every write path that reaches the server: the domain rows
//! and their outbox row commit together or not at all. Faults are injected with a trigger
//! planted through a second connection, once on the outbox (the last statement of each write)
//! and once on the domain table (an early statement).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::fact::{
    CheckpointState, CheckpointVisit, CleanerRound, FactStatus, RectificationOrder,
    RectificationState, Subject, TracePoint,
};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{FacilityId, RectificationId, ZoneId};
use cunjie_domain::place::GeoPoint;
use cunjie_store::StoreError;
use uuid::Uuid;

use crate::common::{Fixture, assert_same, count, exec, hh_id, photo, snapshot};

type Write = fn(&mut Fixture) -> Result<u64, StoreError>;

struct Path {
    name: &'static str,
    /// Makes the state the write needs (drafts, an issued order …).
    prepare: fn(&mut Fixture),
    write: Write,
    /// The domain table the write touches before its outbox row.
    domain_table: &'static str,
    /// The outbox op it appends.
    op: &'static str,
}

const RECT: u128 = 0x7777;

fn order(f: &Fixture) -> RectificationOrder {
    RectificationOrder {
        id: RectificationId::from_uuid(Uuid::from_u128(RECT)),
        inspection: f.store.new_id(),
        item_code: "HH_WHITE_LITTER".into(),
        subject: Subject {
            kind: SubjectKind::Household,
            id: *hh_id(1).as_uuid(),
        },
        village: f.village.id,
        issued_by: f.inspector,
        assignee: f.inspector,
        issued_at: f.now(),
        due: NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"),
        state: RectificationState::Open,
        before_photos: vec![photo(1)],
        after_photos: vec![],
        note: None,
    }
}

fn round_draft(f: &mut Fixture) {
    let t0 = f.now();
    let round = CleanerRound {
        id: cunjie_domain::ids::RoundId::from_uuid(Uuid::from_u128(0x8888)),
        zone: ZoneId::from_uuid(Uuid::from_u128(0x400)),
        cleaner: f.inspector,
        device: f.store.device_id(),
        pass_no: 1,
        started_at: t0,
        ended_at: Some(t0 + chrono::Duration::minutes(40)),
        server_received_at: None,
        trace: vec![TracePoint {
            point: GeoPoint::new(27.6, 113.85),
            accuracy_m: 5.0,
            at: t0,
        }],
        visits: vec![CheckpointVisit {
            facility: FacilityId::from_uuid(Uuid::from_u128(0x500)),
            number: "TP-01-003".into(),
            state: CheckpointState::Cleared,
            at: t0,
            fix: None,
            photos: vec![photo(3)],
            note: None,
        }],
        problems: vec![],
        status: FactStatus::Draft,
    };
    f.store.save_round_draft(&round).expect("round draft saves");
}

fn paths() -> Vec<Path> {
    vec![
        Path {
            name: "submit_inspection",
            prepare: |f| {
                f.complete_draft(1);
            },
            write: |f| {
                let id = f.store.inspection_drafts().expect("drafts")[0].id;
                f.store.submit_inspection(id, &GeoPolicy::default())
            },
            domain_table: "fact",
            op: "submit_inspection",
        },
        Path {
            name: "submit_round",
            prepare: round_draft,
            write: |f| {
                f.store.submit_round(
                    cunjie_domain::ids::RoundId::from_uuid(Uuid::from_u128(0x8888)),
                    Catalog::builtin(),
                    &GeoPolicy::default(),
                )
            },
            domain_table: "fact",
            op: "submit_round",
        },
        Path {
            name: "issue_rectification",
            prepare: |_| {},
            write: |f| {
                let o = order(f);
                f.store.issue_rectification(&o)
            },
            domain_table: "rectification",
            op: "issue_rectification",
        },
        Path {
            name: "submit_rectification_fix",
            prepare: |f| {
                let o = order(f);
                f.store.issue_rectification(&o).expect("issued");
            },
            write: |f| {
                f.store.submit_rectification_fix(
                    RectificationId::from_uuid(Uuid::from_u128(RECT)),
                    vec![photo(2)],
                    Some("已清理".into()),
                )
            },
            domain_table: "rectification",
            op: "submit_rectification_fix",
        },
        Path {
            name: "review_rectification",
            prepare: |f| {
                let o = order(f);
                f.store.issue_rectification(&o).expect("issued");
                f.store
                    .submit_rectification_fix(o.id, vec![photo(2)], None)
                    .expect("fixed");
            },
            write: |f| {
                f.store.review_rectification(
                    RectificationId::from_uuid(Uuid::from_u128(RECT)),
                    true,
                    None,
                )
            },
            domain_table: "rectification",
            op: "review_rectification",
        },
        Path {
            name: "update_household_fields",
            prepare: |_| {},
            write: |f| {
                let fields: BTreeMap<String, serde_json::Value> =
                    [("door_plate".to_owned(), serde_json::json!("太平村1组018号"))].into();
                f.store.update_household_fields(hh_id(1), fields)
            },
            domain_table: "household",
            op: "update_fields",
        },
    ]
}

fn fixture_for(p: &Path) -> Fixture {
    let mut f = Fixture::new(5);
    f.register_photos(3);
    (p.prepare)(&mut f);
    f
}

fn fail_on(f: &Fixture, table: &str) {
    exec(
        &f.path(),
        &format!(
            "CREATE TRIGGER inject_fault BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
        ),
    );
}

fn heal(f: &Fixture) {
    exec(&f.path(), "DROP TRIGGER inject_fault;");
}

#[test]
fn a_failed_outbox_insert_rolls_back_the_domain_rows() {
    for p in paths() {
        let mut f = fixture_for(&p);
        let before = snapshot(&f.path());
        fail_on(&f, "outbox");
        let err = (p.write)(&mut f).expect_err(p.name);
        assert!(
            matches!(err, StoreError::Sqlite(_)),
            "{}: the injected fault surfaces as a database error, got {err}",
            p.name
        );
        assert_same(
            &before,
            &snapshot(&f.path()),
            &format!("{}: nothing of the failed write may remain", p.name),
        );
        heal(&f);
        let outbox_before = count(&f.path(), "outbox");
        let seq =
            (p.write)(&mut f).unwrap_or_else(|e| panic!("{}: the retry succeeds: {e}", p.name));
        assert_eq!(
            count(&f.path(), "outbox"),
            outbox_before + 1,
            "{}: exactly one outbox row",
            p.name
        );
        assert_eq!(
            seq as i64,
            outbox_before + 1,
            "{}: the failed attempt did not use up a seq (dense)",
            p.name
        );
    }
}

#[test]
fn a_failed_domain_write_leaves_no_outbox_row() {
    for p in paths() {
        let mut f = fixture_for(&p);
        let before = snapshot(&f.path());
        fail_on(&f, p.domain_table);
        (p.write)(&mut f).expect_err(p.name);
        assert_same(
            &before,
            &snapshot(&f.path()),
            &format!("{}: no outbox row and no partial domain change", p.name),
        );
        heal(&f);
        (p.write)(&mut f).unwrap_or_else(|e| panic!("{}: the retry succeeds: {e}", p.name));
    }
}

#[test]
fn each_write_path_commits_its_domain_change_with_exactly_one_outbox_row() {
    for p in paths() {
        let mut f = fixture_for(&p);
        let outbox = count(&f.path(), "outbox");
        let seq = (p.write)(&mut f).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let pending = f.store.pending_mutations(100).expect("pending");
        assert_eq!(
            pending.len() as i64,
            outbox + 1,
            "{}: one more mutation",
            p.name
        );
        let last = pending.last().expect("non-empty");
        assert_eq!(last.seq, seq, "{}: returned seq is the outbox seq", p.name);
        assert_eq!(
            last.payload.name(),
            p.op,
            "{}: the op matches the write",
            p.name
        );
        let seqs: Vec<u64> = pending.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "{}: seqs are dense from 1",
            p.name
        );
    }
}

#[test]
fn store_refuses_what_domain_refuses_without_writing() {
    let mut f = Fixture::new(3);
    f.register_photos(2);
    let mut insp = f.complete_draft(1);
    insp.answer(cunjie_domain::fact::ItemResult::fail(
        "HH_SEWAGE",
        1,
        vec![],
    ));
    f.store
        .save_inspection_draft(&insp)
        .expect("a half-right draft still saves");
    let before = snapshot(&f.path());
    let err = f
        .store
        .submit_inspection(insp.id, &GeoPolicy::default())
        .expect_err("photo missing blocks");
    match err {
        StoreError::NotSubmittable(issues) => assert!(
            issues
                .iter()
                .any(|i| i.item_code.as_deref() == Some("HH_SEWAGE")),
            "the issue names the item"
        ),
        other => panic!("expected NotSubmittable, got {other}"),
    }
    assert_same(
        &before,
        &snapshot(&f.path()),
        "a refused submission writes nothing",
    );

    let o = order(&f);
    f.store.issue_rectification(&o).expect("issued");
    let before = snapshot(&f.path());
    let err = f
        .store
        .review_rectification(o.id, true, None)
        .expect_err("cannot verify an open order");
    assert!(
        matches!(err, StoreError::Rectification(_)),
        "state machine refuses: {err}"
    );
    assert_same(&before, &snapshot(&f.path()), "nothing written");

    let err = f
        .store
        .update_household_fields(
            hh_id(1),
            [("village".to_owned(), serde_json::json!("x"))].into(),
        )
        .expect_err("not editable");
    assert!(
        matches!(err, StoreError::FieldNotEditable(ref k) if k == "village"),
        "{err}"
    );
    let err = f
        .store
        .update_household_fields(
            hh_id(1),
            [("members".to_owned(), serde_json::json!("很多"))].into(),
        )
        .expect_err("wrong type");
    assert!(
        matches!(err, StoreError::Json(_)),
        "a wrong type is refused: {err}"
    );
    assert_same(&before, &snapshot(&f.path()), "refused edits write nothing");
}
