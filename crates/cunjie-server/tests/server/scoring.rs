//! The fixture month: three villages, November 2026, every fact pushed by the villages'
//! inspectors through the real push path, and the ranks, scores and deductions worked out by
//! hand (below, next to each fact) under both schemes. Runs on SQLite and PostgreSQL.
//!
//! The township: 太平村 (TP) and 左垅村 (ZL) lie along the county road, 山门村 (SM) does not.
//! Each village has 4 households in 2 groups; households 0 and 1 are roadside; household 0 is
//! the village's only 五乱 model household, so TP and ZL are 4 short of 5 every month
//! (D-DEMO-HH: 4 × −¥5 = −¥20). With 4 households the sample (20 %, at least 5, at most all)
//! takes them all, so every household inspection is a sampled one.
//!
//! Scheme T is published as version 2 with a base subsidy of ¥1,000 (the seeds give none).
//!
//! | village | counted facts (Nov)                                   | Scheme T net | rank |
//! |---------|--------------------------------------------------------|-------------:|-----:|
//! | SM      | +500 commendation; re-check −10 patrol −10 office;      |       1465.00 |    1 |
//! |         | h0 roadside livestock −5; h1, h2 white litter −5 each  |              |      |
//! | TP      | re-check pool ×2 −20; h0 roadside clutter −5;          |        950.00 |    2 |
//! |         | h1 white litter −5 (corrected version); demo −20       |              |      |
//! | ZL      | exposure: base forfeited −1000; re-check patrol −10;   |        −30.00 |    3 |
//! |         | demo −20                                               |              |      |
//!
//! Scheme C (month view: one check = the mean of the sampled household scores):
//! TP (92, 90, 100, 94) → 94.00; 0.7 × 94 + 0.2 × 90 + 0.1 × 80 = 91.80, rank 1.
//! SM (90, 56, 90) → 78.67; 0.7 × 78.67 = 55.07 (rounded half away) + 14 + 9 = 78.07, rank 2.
//! ZL (100 × 4) → 100; no tasks or satisfaction entered (counted as 0): 70.00, rank 3.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cunjie_domain::Amount;
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{FactStatus, Inspection, InspectionType, ItemResult, PhotoHash, Subject};
use cunjie_domain::ids::InspectionId;
use cunjie_domain::person::Role;
use cunjie_domain::scoring::{ExternalEvent, ExternalEventKind, Scheme, SchemeKind};
use cunjie_domain::template::{Template, presets};
use cunjie_protocol::v1::{Op, PushResponse};
use cunjie_server::demo::demo_township;
use cunjie_server::{Db, Ranking};

use crate::harness::{Harness, Phone};

fn photo(n: u8) -> PhotoHash {
    format!("{n:02x}").repeat(32).parse().expect("hex")
}

/// 2026-11-`day` 10:00 China time.
fn nov(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0)
        .single()
        .expect("date")
}

fn yuan(y: i64) -> Amount {
    Amount::whole(y)
}

struct Fixture {
    h: Harness,
    phones: Vec<Phone>,
}

impl Fixture {
    fn inspection(
        &self,
        village: usize,
        household: Option<usize>,
        kind: InspectionType,
        at: DateTime<Utc>,
        fails: &[(&str, u32)],
    ) -> Inspection {
        let (template, subject): (Template, Subject) = match household {
            Some(n) => (
                presets::household_sanbao(),
                Subject {
                    kind: SubjectKind::Household,
                    id: *self.h.demo.households[village * 4 + n].id.as_uuid(),
                },
            ),
            None => (
                presets::village_recheck(),
                Subject {
                    kind: SubjectKind::AdminVillage,
                    id: *self.h.demo.villages[village].id.as_uuid(),
                },
            ),
        };
        let phone = &self.phones[village];
        let mut insp = Inspection::start(
            self.h.new_id(),
            template.reference(),
            subject,
            self.h.demo.villages[village].id,
            phone.person,
            phone.id,
            at,
        );
        insp.kind = kind;
        insp.submitted_at = Some(at + Duration::minutes(5));
        insp.status = FactStatus::Submitted;
        insp.pass_remaining(&template);
        for (code, count) in fails {
            insp.answer(ItemResult::fail(code, *count, vec![photo(7)]));
        }
        insp
    }

    async fn push(&mut self, village: usize, insp: &Inspection) {
        let op = Op::SubmitInspection {
            inspection: Box::new(insp.clone()),
        };
        let req = self
            .h
            .mutations(&mut self.phones[village], vec![(op, None)]);
        let (status, body) = self.h.push(&self.phones[village], &req).await;
        assert!(status.is_success(), "push accepted: {body}");
        let resp: PushResponse = serde_json::from_value(body.clone()).expect("push response");
        let json = serde_json::to_value(&resp.results).expect("json");
        assert!(
            !json.to_string().contains("rejected"),
            "the inspection {} is accepted: {json}",
            insp.id
        );
    }
}

async fn fixture(db: Db) -> Fixture {
    let h = Harness::with_demo(db, demo_township(3, 2, 4));
    let mut phones = Vec::new();
    for v in 0..3 {
        phones.push(h.enroll(h.demo.inspector(v).id, Role::Inspector).await);
    }
    let mut f = Fixture { h, phones };
    let hh = InspectionType::HouseholdMonthly;
    let recheck = InspectionType::TownshipRecheck;
    let own = InspectionType::VillageSelfEval;

    // 太平村 TP (village 0).
    let i = f.inspection(0, Some(0), hh, nov(5), &[("HH_CLUTTER", 1)]); // 92; roadside −5
    f.push(0, &i).await;
    let first = f.inspection(
        0,
        Some(1),
        hh,
        nov(4),
        &[("HH_WHITE_LITTER", 1), ("HH_CLUTTER", 1)],
    );
    f.push(0, &first).await;
    // A reviewer found the clutter was the neighbour's; the correction supersedes it.
    let mut fixed = f.inspection(0, Some(1), hh, nov(6), &[("HH_WHITE_LITTER", 1)]); // 90; −5
    fixed.supersedes = Some(first.id);
    f.push(0, &fixed).await;
    let i = f.inspection(0, Some(2), hh, nov(5), &[]); // 100
    f.push(0, &i).await;
    let i = f.inspection(0, Some(3), hh, nov(5), &[]); // replaced by the later one: ad hoc
    f.push(0, &i).await;
    let i = f.inspection(0, Some(3), hh, nov(20), &[("HH_WEEDS", 1)]); // 94; no yuan rule
    f.push(0, &i).await;
    let i = f.inspection(0, None, recheck, nov(17), &[("POOL_OVERFLOW", 2)]); // −20
    f.push(0, &i).await;
    let i = f.inspection(0, None, own, nov(10), &[("POOL_OVERFLOW", 1)]); // self: −10
    f.push(0, &i).await;

    // 山门村 SM (village 1).
    let i = f.inspection(1, Some(0), hh, nov(6), &[("HH_LIVESTOCK", 1)]); // 90; roadside −5
    f.push(1, &i).await;
    let weisheng = [
        ("HH_WHITE_LITTER", 1),
        ("HH_SEWAGE", 1),
        ("HH_TOILET", 1),
        ("HH_NOT_SORTING", 1),
        ("HH_NO_TEMP_SPOT", 1),
    ];
    let i = f.inspection(1, Some(1), hh, nov(6), &weisheng); // 100 − 44 (cap) = 56; −5
    f.push(1, &i).await;
    let i = f.inspection(1, Some(2), hh, nov(7), &[("HH_WHITE_LITTER", 1)]); // 90; −5
    f.push(1, &i).await;
    let i = f.inspection(
        1,
        None,
        recheck,
        nov(18),
        &[("OFFICE_UNCLEAN", 1), ("ROAD_PATROL_LAPSE", 1)],
    ); // −20
    f.push(1, &i).await;
    let i = f.inspection(1, None, recheck, nov(22), &[("POOL_OVERFLOW", 3)]); // late: ad hoc
    f.push(1, &i).await;

    // 左垅村 ZL (village 2).
    for n in 0..4 {
        let i = f.inspection(2, Some(n), hh, nov(8), &[]); // 100 each
        f.push(2, &i).await;
    }
    let i = f.inspection(2, None, recheck, nov(16), &[("ROAD_PATROL_LAPSE", 1)]); // −10
    f.push(2, &i).await;
    let i = f.inspection(2, None, own, nov(14), &[]);
    f.push(2, &i).await;

    // The office's own inputs.
    let office = &f.h.office;
    let v = |n: usize| f.h.demo.villages[n].id;
    office
        .record_event(
            v(1),
            &ExternalEvent {
                kind: ExternalEventKind::Commendation,
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 8).expect("date"),
                doc_ref: "上栗县卫通〔2026〕11号".into(),
            },
            "admin",
        )
        .expect("commendation recorded");
    office
        .record_event(
            v(2),
            &ExternalEvent {
                kind: ExternalEventKind::Exposure,
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).expect("date"),
                doc_ref: "萍乡日报 2026-11-03".into(),
            },
            "admin",
        )
        .expect("exposure recorded");
    office
        .set_village_input(v(0), "2026-11", yuan(90), yuan(80), "admin")
        .expect("inputs");
    office
        .set_village_input(v(1), "2026-11", yuan(70), yuan(90), "admin")
        .expect("inputs");
    let Scheme {
        kind: SchemeKind::Yuan(mut t),
        ..
    } = Scheme::township_monthly_yuan()
    else {
        panic!("Scheme T is a yuan scheme")
    };
    t.base_subsidy = yuan(1000);
    let mut edited = Scheme::township_monthly_yuan();
    edited.kind = SchemeKind::Yuan(t);
    let version = office.publish_scheme(&edited, "admin").expect("published");
    assert_eq!(version, 2, "editing the preset makes version 2");
    f
}

fn by_code(r: &Ranking) -> BTreeMap<String, &cunjie_server::VillageRank> {
    r.rows
        .iter()
        .map(|row| (row.village_code.clone(), row))
        .collect()
}

fn items(pairs: &[(&str, i64)]) -> BTreeMap<String, Amount> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Amount::whole(*v)))
        .collect()
}

pub(crate) async fn a_fixture_month_reproduces_hand_computed_ranks(db: Db) {
    let f = fixture(db).await;
    let office = &f.h.office;

    // Scheme T.
    let t = office
        .recompute("2026-11", None, "admin")
        .expect("Scheme T ranking");
    assert_eq!(
        (t.scheme_code.as_str(), t.scheme_version, t.unit.as_str()),
        ("TOWNSHIP_MONTHLY_YUAN", 2, "yuan"),
        "the township's default scheme, latest version"
    );
    let order: Vec<(&str, Amount, u32)> = t
        .rows
        .iter()
        .map(|r| (r.village_code.as_str(), r.score, r.rank))
        .collect();
    assert_eq!(
        order,
        vec![
            ("SM", Amount(146_500), 1),
            ("TP", Amount(95_000), 2),
            ("ZL", Amount(-3_000), 3)
        ],
        "Scheme T scores and ranks as worked out by hand"
    );
    let rows = by_code(&t);
    assert_eq!(
        rows["TP"].by_item,
        items(&[
            ("DEMO_HH_SHORTFALL", -20),
            ("HH_CLUTTER", -5),
            ("HH_WHITE_LITTER", -5),
            ("POOL_OVERFLOW", -20)
        ]),
        "TP's deductions by item: the superseded version's clutter is gone"
    );
    assert_eq!(
        rows["SM"].by_item,
        items(&[
            ("HH_LIVESTOCK", -5),
            ("HH_WHITE_LITTER", -10),
            ("OFFICE_UNCLEAN", -10),
            ("ROAD_PATROL_LAPSE", -10)
        ]),
        "SM's deductions by item: the late re-check's pools do not count"
    );
    assert_eq!(
        rows["ZL"].by_item,
        items(&[("DEMO_HH_SHORTFALL", -20), ("ROAD_PATROL_LAPSE", -10)]),
        "ZL's deductions by item"
    );
    assert!(
        rows["ZL"].subsidy_forfeited,
        "the exposure forfeits ZL's base"
    );
    assert_eq!(
        (rows["TP"].self_eval, rows["TP"].difference),
        (Some(yuan(970)), Some(yuan(20))),
        "TP's self-evaluation (−10 pools, −20 demo) is ¥20 kinder than the re-check"
    );
    assert_eq!(
        (rows["SM"].self_eval, rows["ZL"].self_eval),
        (None, Some(yuan(-20))),
        "SM filed none; ZL's own check found nothing but the exposure and the shortfall"
    );
    assert_eq!(
        (rows["TP"].counted, rows["TP"].ad_hoc),
        (5, 1),
        "TP: re-check + 4 sampled households count; h3's earlier visit is shown apart"
    );
    assert_eq!(
        (
            rows["SM"].counted,
            rows["SM"].ad_hoc,
            rows["SM"].sampled_inspected
        ),
        (4, 1, 3),
        "SM: the re-check on the 22nd is outside the window; h3 was never inspected"
    );
    assert_eq!(rows["TP"].prev_rank, None, "October had no inspections");

    // Re-running gives the same numbers.
    let again = office.recompute("2026-11", None, "admin").expect("again");
    assert_eq!(again.rows, t.rows, "recomputing gives the same rows");
    assert_eq!(again.digest, t.digest, "and the same digest");

    // Scheme C.
    let c = office
        .recompute("2026-11", Some("COUNTY_HALFYEAR_100"), "admin")
        .expect("Scheme C ranking");
    assert_eq!(c.unit, "points", "Scheme C is 百分制");
    let order: Vec<(&str, Amount, u32)> = c
        .rows
        .iter()
        .map(|r| (r.village_code.as_str(), r.score, r.rank))
        .collect();
    assert_eq!(
        order,
        vec![
            ("TP", Amount(9_180), 1),
            ("SM", Amount(7_807), 2),
            ("ZL", Amount(7_000), 3)
        ],
        "Scheme C scores and ranks as worked out by hand"
    );
    let rows = by_code(&c);
    assert_eq!(
        rows["TP"].checks,
        vec![Amount(9_400)],
        "TP's check: mean 94"
    );
    assert_eq!(rows["SM"].checks, vec![Amount(7_867)], "SM's check: 78.67");
    assert_eq!(
        rows["TP"].by_item,
        items(&[
            ("HH_CLUTTER", -8),
            ("HH_WHITE_LITTER", -10),
            ("HH_WEEDS", -6)
        ]),
        "TP's points deducted by item over the counted household inspections"
    );
    assert!(
        rows["ZL"].notes.iter().any(|n| n.contains("未录入")),
        "ZL's missing inputs are flagged: {:?}",
        rows["ZL"].notes
    );

    // The half-year view: three bimonthly checks, the two without data count as 0.
    office
        .set_village_input(
            f.h.demo.villages[0].id,
            "2026-H2",
            yuan(90),
            yuan(80),
            "admin",
        )
        .expect("inputs");
    let half = office
        .ranking("2026-H2", Some("COUNTY_HALFYEAR_100"))
        .expect("half-year");
    let tp = by_code(&half)["TP"].clone();
    assert_eq!(
        tp.checks,
        vec![Amount::ZERO, Amount::ZERO, Amount(9_400)],
        "Jul–Aug and Sep–Oct had no checks; Nov–Dec is 94"
    );
    assert_eq!(tp.score, Amount(4_793), "0.7 × 31.33 + 18 + 8 = 47.93");

    // 红黑榜.
    let board = office.red_black("2026-11", None).expect("board");
    assert_eq!(
        board
            .red_villages
            .iter()
            .map(|v| v.village_code.as_str())
            .collect::<Vec<_>>(),
        vec!["SM"],
        "the top village is on the red list"
    );
    assert_eq!(
        board
            .black_villages
            .iter()
            .map(|v| v.village_code.as_str())
            .collect::<Vec<_>>(),
        vec!["ZL"],
        "the last village is on the black list"
    );
    let black: Vec<(&str, Amount)> = board
        .black_households
        .iter()
        .map(|b| (b.village_name.as_str(), b.score))
        .collect();
    assert_eq!(
        black,
        vec![("山门村", Amount(5_600))],
        "SM's household at 56 points is on the black list"
    );
    assert_eq!(
        board.red_households.len(),
        5,
        "TP h2 and ZL's four households had full marks every time: {:?}",
        board.red_households
    );
}

pub(crate) async fn an_upheld_appeal_recomputes_under_the_published_version(db: Db) {
    let mut f = fixture(db).await;
    let published =
        f.h.office
            .publish_ranking("2026-11", None, "admin")
            .expect("published");
    assert_eq!(published.scheme_version, 2, "published under version 2");
    // A phone that was offline syncs a November inspection after publication: the published
    // ranking stands, marked stale, until the office recomputes.
    let late = f.inspection(
        1,
        Some(3),
        InspectionType::HouseholdMonthly,
        nov(21),
        &[("HH_WHITE_LITTER", 1)],
    );
    f.push(1, &late).await;
    let office = &f.h.office;
    let shown = office.ranking("2026-11", None).expect("shown");
    assert!(
        shown.stale,
        "the late fact makes the published result stale"
    );
    assert_eq!(
        (shown.rows.clone(), shown.published_at.clone()),
        (published.rows.clone(), published.published_at.clone()),
        "the published numbers are what is shown"
    );
    // The township edits Scheme T after publishing: a new version, for later months.
    let mut edited = office
        .schemes()
        .expect("schemes")
        .into_iter()
        .find(|s| s.code == "TOWNSHIP_MONTHLY_YUAN")
        .expect("Scheme T");
    if let SchemeKind::Yuan(t) = &mut edited.kind {
        t.base_subsidy = yuan(2000);
    }
    assert_eq!(
        office.publish_scheme(&edited, "admin").expect("v3"),
        3,
        "editing again makes version 3"
    );
    // ZL appeals its re-check (the patrol lapse): upheld.
    let zl = f.h.demo.villages[2].id;
    let recheck: InspectionId =
        f.h.office
            .fact_rows()
            .expect("facts")
            .into_iter()
            .find(|(_, row)| row["village"] == zl.to_string() && row["kind"] == "TOWNSHIP_RECHECK")
            .map(|(id, _)| id.parse().expect("id"))
            .expect("ZL's re-check");
    let refused = office.file_appeal(zl, "2026-11", &[], "", "", "左垅村");
    assert!(refused.is_err(), "an appeal needs a reason and facts");
    let appeal = office
        .file_appeal(
            zl,
            "2026-11",
            &[recheck],
            "巡查记录显示当天有人捡拾",
            "巡查台账第12页",
            "左垅村",
        )
        .expect("appeal filed");
    let redone = office
        .decide_appeal(&appeal.id, true, "台账属实，予以采纳", "admin")
        .expect("decided");
    assert_eq!(redone.len(), 1, "the stored Scheme T result is recomputed");
    let r = &redone[0];
    assert_eq!(
        r.scheme_version, 2,
        "the recomputation keeps the published version, not version 3"
    );
    assert!(!r.stale, "recomputed from the facts");
    assert!(r.published_at.is_some(), "still published");
    let sm_row = r.rows.iter().find(|x| x.village_code == "SM").expect("SM");
    assert_eq!(
        sm_row.score,
        yuan(1460),
        "the recomputation took in SM's late white litter (−5)"
    );
    let zl_row = r.rows.iter().find(|x| x.village_code == "ZL").expect("ZL");
    assert_eq!(
        zl_row.score,
        yuan(-20),
        "without the patrol lapse ZL loses only the base and the shortfall"
    );
    assert!(
        office
            .decide_appeal(&appeal.id, false, "", "admin")
            .is_err(),
        "a decided appeal stays decided"
    );
    // December is not published: it uses the latest version.
    let dec = office.ranking("2026-12", None).expect("December");
    assert_eq!(dec.scheme_version, 3, "new periods use the new version");

    // A review mark, answered by a correction.
    let review = office
        .mark_review(recheck, None, "照片看不清", "admin")
        .expect("marked");
    assert!(
        office.mark_review(recheck, None, "  ", "admin").is_err(),
        "a mark needs a comment"
    );
    let listed = office.reviews(Some(&recheck.to_string())).expect("reviews");
    assert_eq!(listed.len(), 1, "one review");
    assert_eq!(listed[0].id, review.id);
    assert_eq!(listed[0].resolved_by, None, "no correction yet");

    // The audit chain holds, and a tampered row is found.
    let report = office.audit_verify().expect("verify");
    assert!(report.ok(), "the chain holds: {report:?}");
    let entries = office.audit_log(100).expect("entries");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "scheme_published",
        "score_recomputed",
        "ranking_published",
        "appeal_filed",
        "appeal_decided",
        "review_marked",
    ] {
        assert!(actions.contains(&a), "{a} is audited: {actions:?}");
    }
    let target = entries
        .iter()
        .find(|e| e.action == "appeal_decided")
        .expect("entry")
        .seq;
    f.h.state
        .db
        .tx(|tx| {
            tx.exec(
                "UPDATE audit_log SET detail = '{\"outcome\":\"rejected\"}' WHERE seq = $1",
                &[cunjie_server::store::Value::Int(target)],
            )
            .map(|_| ())
        })
        .expect("tampered");
    let report = office.audit_verify().expect("verify");
    assert_eq!(
        report.first_broken,
        Some(target),
        "the tampered entry is named: {report:?}"
    );
}
