//! A simulated field month: every cleaner and inspector of the demo township works day by day
//! on a phone of their own (the real [`cunjie_device::Device`], the API every app command calls,
//! each on a fake clock), then every phone syncs to a real server.
//!
//! Each day, every cleaner walks a round of their zone (positions along the road, each
//! checkpoint cleared, overflowing or damaged, now and then a photo or a reported problem);
//! every inspector checks two or three households with the 门前三包 checklist (a few failures,
//! each with its photo and a note, some with a rectification order; every other order is
//! closed a few days later with an "after" photo, the rest stay open or fall overdue). Before the 16th each village evaluates itself
//! (`VillageSelfEval`), and on the 16th–19th the township re-checks it (`TownshipRecheck`), both
//! with the village template.
//!
//! Everything follows from a seed. The villages are given a "messiness" from 0 to 3 (a seeded
//! permutation): a messier village has more failures, so the villages get different deductions
//! under Scheme T and different ranks. Photos are few (at most [`FieldMonth::max_photos`]),
//! because each one runs the real capture pipeline and upload.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use cunjie_device::api::Position;
use cunjie_device::{CaptureContext, Device, DeviceError, DeviceOptions, capture_photo};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::FakeClock;
use cunjie_domain::fact::{GeoFix, InspectionType, ItemResult, Outcome, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::PersonId;
use cunjie_domain::person::Role;
use cunjie_domain::place::{AdminVillage, GeoPoint, Household, Zone, ZoneGeometry};
use cunjie_server::Township;
use cunjie_server::demo::DemoTownship;

use crate::phone::fast_config;
use crate::sim::camera_jpeg;

/// A person the office handed a one-time enrollment code to.
#[derive(Debug, Clone)]
pub struct Enrollee {
    /// Cleaner or inspector.
    pub role: Role,
    /// Who.
    pub person: PersonId,
    /// The one-time code.
    pub code: String,
}

/// Fresh enrollment codes for every inspector and cleaner of the demo township.
pub fn enrollees(office: &Township, demo: &DemoTownship) -> Result<Vec<Enrollee>> {
    let mut out = Vec::new();
    for i in 0..demo.villages.len() {
        let p = demo.inspector(i).id;
        out.push(Enrollee {
            role: Role::Inspector,
            person: p,
            code: office.enrollment_code(p, Role::Inspector, 7)?,
        });
    }
    for z in &demo.zones {
        let p = demo.cleaner(z.id).id;
        out.push(Enrollee {
            role: Role::Cleaner,
            person: p,
            code: office.enrollment_code(p, Role::Cleaner, 7)?,
        });
    }
    Ok(out)
}

/// Which days to simulate, and how.
#[derive(Debug, Clone)]
pub struct FieldMonth {
    /// Everything random follows from it.
    pub seed: u64,
    /// Year.
    pub year: i32,
    /// Month (1–12).
    pub month: u32,
    /// First day simulated.
    pub first_day: u32,
    /// Last day simulated (inclusive).
    pub last_day: u32,
    /// The most photos taken in the period.
    pub max_photos: u32,
    /// The month's household sample from the server: inspectors visit these first (only
    /// sampled inspections count toward the rank). Empty: no preference.
    pub sample: std::collections::BTreeSet<cunjie_domain::ids::HouseholdId>,
}

/// When a simulated day's work is over (UTC; 14:00 in China). All work happens between
/// 08:30 and 14:00 China time, so the UTC date and the China date of every record agree.
const DAY_END_UTC_HOUR: u32 = 6;

impl FieldMonth {
    /// Days `first..=last` of a month, with at most 20 photos.
    pub fn new(seed: u64, year: i32, month: u32, first_day: u32, last_day: u32) -> Self {
        Self {
            seed,
            year,
            month,
            first_day,
            last_day,
            max_photos: 20,
            sample: std::collections::BTreeSet::new(),
        }
    }

    /// The whole of a month.
    pub fn whole(seed: u64, year: i32, month: u32) -> Result<Self> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)
            .with_context(|| format!("{year}-{month:02} is not a month"))?;
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .context("the month's last day")?;
        Ok(Self::new(seed, year, month, 1, last.day()))
    }

    /// The current month so far at `now`: from the 1st through today if today's work is over,
    /// else through yesterday. On the 1st before the work is done, the whole previous month.
    pub fn so_far(seed: u64, now: DateTime<Utc>) -> Self {
        let today = now.date_naive();
        let last = if chrono::Timelike::hour(&now) >= DAY_END_UTC_HOUR {
            today
        } else {
            today.pred_opt().unwrap_or(today)
        };
        let first = last.with_day(1).unwrap_or(last);
        Self::new(seed, last.year(), last.month(), first.day(), last.day())
    }

    /// `YYYY-MM`.
    pub fn period(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    fn date(&self, day: u32) -> Result<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, day)
            .with_context(|| format!("{}-{day} is not a date", self.period()))
    }

    fn days(&self) -> std::ops::RangeInclusive<u32> {
        self.first_day..=self.last_day
    }
}

/// What the phones recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldReport {
    /// Days simulated.
    pub days: u32,
    /// Phones enrolled.
    pub phones: u32,
    /// Cleaners' rounds submitted.
    pub rounds: u32,
    /// Checkpoint visits in them.
    pub checkpoints: u32,
    /// Checkpoints found overflowing or damaged.
    pub checkpoints_not_cleared: u32,
    /// Problems reported.
    pub problems: u32,
    /// Household inspections submitted.
    pub household_inspections: u32,
    /// Village self-evaluations submitted.
    pub self_evals: u32,
    /// Township re-checks submitted.
    pub rechecks: u32,
    /// Failed checklist items.
    pub failed_items: u32,
    /// Photos taken.
    pub photos: u32,
    /// Rectification orders issued.
    pub rectifications_issued: u32,
    /// Of those, closed with an "after" photo.
    pub rectifications_closed: u32,
    /// Each village's messiness (0 cleanest … 3), by village name.
    pub messiness: Vec<(String, u32)>,
    /// Time spent working on the phones.
    pub field_time: Duration,
    /// Time spent syncing.
    pub sync_time: Duration,
}

impl FieldReport {
    /// Facts the server should hold: inspections and rounds.
    pub fn facts(&self) -> u32 {
        self.rounds + self.household_inspections + self.self_evals + self.rechecks
    }

    /// One short paragraph, Chinese and English.
    pub fn summary(&self) -> String {
        format!(
            "模拟 {} 天 days · {} 部手机 phones · {} 次巡查 rounds ({} 个清运点 checkpoints, {} 个未清 not cleared, {} 个问题 problems) · {} 户检查 household inspections · {} 次村自评 self-evaluations · {} 次镇复查 re-checks · {} 项不合格 failed items · {} 张照片 photos · 整改 rectifications {} 下达 issued / {} 完成 closed · 用时 took {:.1} s + 同步 sync {:.1} s",
            self.days,
            self.phones,
            self.rounds,
            self.checkpoints,
            self.checkpoints_not_cleared,
            self.problems,
            self.household_inspections,
            self.self_evals,
            self.rechecks,
            self.failed_items,
            self.photos,
            self.rectifications_issued,
            self.rectifications_closed,
            self.field_time.as_secs_f64(),
            self.sync_time.as_secs_f64(),
        )
    }
}

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
    /// A few metres of GPS noise, in degrees.
    fn jitter(&mut self, metres: f64) -> f64 {
        (self.below(2_001) as f64 / 1_000.0 - 1.0) * metres / 111_000.0
    }
}

fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap_or_default())
}

fn dev<T>(r: Result<T, DeviceError>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("{what}: {} ({}): {e}", e.message_zh(), e.code()))
}

struct Phone {
    device: Device,
    clock: Arc<FakeClock>,
}

/// Household items whose failures Scheme T charges (each a −¥5 household unit; the roadside
/// ones only for a house by the road).
const WHITE: &str = "HH_WHITE_LITTER";
const ROADSIDE_ITEMS: [&str; 4] = [
    "HH_CLUTTER",
    "HH_LIVESTOCK",
    "HH_UTENSILS",
    "HH_YARD_UNTIDY",
];

fn note_for(item: &str) -> &'static str {
    match item {
        "HH_WHITE_LITTER" => "房前屋后塑料袋、农膜散落",
        "HH_CLUTTER" => "柴草杂物堆在路边",
        "HH_LIVESTOCK" => "鸡鸭散养在院坝",
        "HH_UTENSILS" => "农具家什乱摆",
        "HH_YARD_UNTIDY" => "院坝未清扫",
        "ROAD_PATROL_LAPSE" => "公路沿线白色垃圾未捡拾",
        "POOL_OVERFLOW" => "垃圾池满溢，散落池外",
        "OFFICE_UNCLEAN" => "村部周围有垃圾",
        _ => "见照片",
    }
}

/// A planned household inspection.
struct Visit {
    household: Household,
    /// The failing item, if this one fails.
    fail: Option<&'static str>,
    /// Issue a rectification order for the failure.
    order: bool,
}

/// Runs the field period against the server at `url`: enrolls a phone in `dir` for each
/// enrollee, works every day, then syncs every phone until nothing is left to send.
pub async fn run(
    url: &str,
    demo: &DemoTownship,
    enrollees: &[Enrollee],
    cfg: &FieldMonth,
    dir: &Path,
) -> Result<FieldReport> {
    let started = Instant::now();
    let mut rng = Rng(cfg.seed ^ 0x6375_6e6a_6965);
    let mut report = FieldReport {
        days: cfg.last_day.saturating_sub(cfg.first_day) + 1,
        ..FieldReport::default()
    };
    let first = at(cfg.date(cfg.first_day)?, 0, 0);

    // Phones: one per enrollee, enrolled on the morning of the first day.
    let mut inspectors: Vec<Phone> = Vec::new();
    let mut cleaners: Vec<(Phone, Zone, usize)> = Vec::new();
    for (i, vil) in demo.villages.iter().enumerate() {
        let who = demo.inspector(i).id;
        let e = enrollees
            .iter()
            .find(|e| e.person == who && e.role == Role::Inspector)
            .with_context(|| format!("no enrollment code for {}'s inspector", vil.name))?;
        inspectors.push(enroll(url, e, &dir.join(format!("inspector-{i}")), first).await?);
    }
    for (zi, zone) in demo.zones.iter().enumerate() {
        let who = demo.cleaner(zone.id).id;
        let e = enrollees
            .iter()
            .find(|e| e.person == who && e.role == Role::Cleaner)
            .with_context(|| format!("no enrollment code for {}'s cleaner", zone.name))?;
        let vi = demo
            .villages
            .iter()
            .position(|v| v.id == zone.village)
            .context("zone of a demo village")?;
        cleaners.push((
            enroll(url, e, &dir.join(format!("cleaner-{zi}")), first).await?,
            zone.clone(),
            vi,
        ));
    }
    report.phones = (inspectors.len() + cleaners.len()) as u32;

    // Messiness per village: a seeded permutation of 0..4.
    let mut mess: Vec<u32> = (0..demo.villages.len() as u32).map(|m| m.min(3)).collect();
    rng.shuffle(&mut mess);
    report.messiness = demo
        .villages
        .iter()
        .zip(&mess)
        .map(|(v, m)| (v.name.clone(), *m))
        .collect();

    // The photo budget, in priority order: re-check failures (they rank), household
    // failures, the messiest village's self-evaluation, cleaners, then closing orders.
    let mut budget = cfg.max_photos;
    let mut take = |n: u32| -> u32 {
        let t = n.min(budget);
        budget -= t;
        t
    };
    let recheck_day = |vi: usize| -> Option<u32> {
        let lo = cfg.first_day.max(16);
        let hi = cfg.last_day.min(19);
        (lo <= hi).then(|| (16 + vi as u32).clamp(lo, hi))
    };
    let self_eval_day = |vi: usize| -> Option<u32> {
        let lo = cfg.first_day;
        let hi = cfg.last_day.min(15);
        (lo <= hi).then(|| (10 + vi as u32 % 3).clamp(lo, hi))
    };
    let recheck_photos: u32 = (0..demo.villages.len())
        .filter(|vi| recheck_day(*vi).is_some())
        .map(|vi| u32::from(mess[vi] >= 1) + u32::from(mess[vi] >= 2))
        .sum();
    let recheck_photos = take(recheck_photos);

    // The inspectors' schedule: Monday to Saturday, two or three households a day each, in a
    // seeded order, each household at most once a month.
    let mut schedule: Vec<Vec<Vec<Visit>>> = Vec::new(); // [day][village][visit]
    let mut queues: Vec<Vec<Household>> = demo
        .villages
        .iter()
        .map(|v| {
            let mut hh: Vec<Household> = demo
                .households
                .iter()
                .filter(|h| h.village == v.id)
                .cloned()
                .collect();
            rng.shuffle(&mut hh);
            // The sample first, as an inspector with a sampled list on the phone works.
            hh.sort_by_key(|h| !cfg.sample.contains(&h.id));
            hh
        })
        .collect();
    for day in cfg.days() {
        let sunday = cfg.date(day)?.weekday() == Weekday::Sun;
        let mut per_village = Vec::new();
        for q in &mut queues {
            let n = if sunday { 0 } else { 2 + rng.below(2) as usize };
            let visits = (0..n.min(q.len()))
                .map(|_| Visit {
                    household: q.remove(0),
                    fail: None,
                    order: false,
                })
                .collect();
            per_village.push(visits);
        }
        schedule.push(per_village);
    }
    // Household failures: `messiness` of them per village, at seeded visits.
    let wanted: u32 = mess.iter().sum();
    let mut household_photos = take(wanted);
    for (vi, m) in mess.iter().enumerate() {
        let mut slots: Vec<(usize, usize)> = schedule
            .iter()
            .enumerate()
            .flat_map(|(d, per)| (0..per[vi].len()).map(move |k| (d, k)))
            .collect();
        rng.shuffle(&mut slots);
        let mut first_order = true;
        for (d, k) in slots.into_iter().take(*m as usize) {
            if household_photos == 0 {
                break;
            }
            household_photos -= 1;
            let visit = &mut schedule[d][vi][k];
            visit.fail = Some(if visit.household.roadside && rng.chance(0.5) {
                ROADSIDE_ITEMS[rng.below(4) as usize]
            } else {
                WHITE
            });
            visit.order = first_order || rng.chance(0.5);
            first_order = false;
        }
    }
    let messiest_self_eval = mess
        .iter()
        .position(|m| *m == 3)
        .filter(|vi| self_eval_day(*vi).is_some())
        .map(|vi| (vi, take(1) == 1));
    // Cleaners: two checkpoint photos and two reported problems, on seeded (day, zone) pairs.
    let days_n = u64::from(report.days);
    let zones_n = cleaners.len() as u64;
    let mut cleaner_photo_events: Vec<(u32, usize, bool)> = Vec::new(); // (day, zone, problem)
    for problem in [false, false, true, true] {
        if take(1) == 1 {
            cleaner_photo_events.push((
                cfg.first_day + rng.below(days_n) as u32,
                rng.below(zones_n) as usize,
                problem,
            ));
        }
    }
    let mut close_photos = budget;

    let policy = GeoPolicy::default();
    let mut photo_seed = (cfg.seed % 10_000) as u32 * 1_000;
    let mut next_photo = || {
        photo_seed += 1;
        camera_jpeg(photo_seed)
    };
    // Orders to close: (close on day, inspector, order id).
    let mut to_close: Vec<(u32, usize, String, Option<GeoPoint>)> = Vec::new();
    let kinds = cleaners
        .first()
        .map(|(p, _, _)| p.device.problem_kinds())
        .unwrap_or_default();

    for (d, day) in cfg.days().enumerate() {
        let date = cfg.date(day)?;
        // Cleaners, 08:30 to about 09:30.
        for (zi, (phone, zone, vi)) in cleaners.iter().enumerate() {
            let m = mess[*vi];
            phone
                .clock
                .set(at(date, 0, 30) + chrono::Duration::minutes(rng.below(25) as i64));
            let same = rng.chance(0.3);
            let round = dev(
                phone.device.start_round(&zone.id.to_string(), same),
                "start round",
            )?;
            let ZoneGeometry::Line(path) = &zone.geometry else {
                bail!("demo zones are roads")
            };
            let points = along(path, 8);
            let checkpoints = round.checkpoints.clone();
            let mut last_fix = None;
            for (k, p) in points.iter().enumerate() {
                phone.clock.advance_ms(60_000 + rng.below(60_000) as i64);
                let pos = Position {
                    lat: p.lat + rng.jitter(4.0),
                    lon: p.lon + rng.jitter(4.0),
                    accuracy_m: 4.0 + rng.below(8) as f64,
                };
                dev(phone.device.record_position(&round.id, pos), "position")?;
                last_fix = Some(pos);
                // A checkpoint every other point.
                if k % 2 == 1
                    && let Some(cp) = checkpoints.get(k / 2)
                {
                    let event = cleaner_photo_events
                        .iter()
                        .position(|(dd, z, problem)| *dd == day && *z == zi && !problem && k == 1);
                    let state = if event.is_some() || rng.chance(0.03 + 0.03 * f64::from(m)) {
                        "overflowing"
                    } else if rng.chance(0.02) {
                        "damaged"
                    } else {
                        "cleared"
                    };
                    let photo = event.map(|_| next_photo());
                    dev(
                        phone.device.record_checkpoint(
                            &round.id,
                            &cp.facility_id,
                            state,
                            photo.as_deref(),
                            Some(pos),
                        ),
                        "checkpoint",
                    )?;
                    report.checkpoints += 1;
                    report.checkpoints_not_cleared += u32::from(state != "cleared");
                    report.photos += u32::from(photo.is_some());
                }
            }
            if cleaner_photo_events
                .iter()
                .any(|(dd, z, problem)| *dd == day && *z == zi && *problem)
                && !kinds.is_empty()
            {
                let kind = &kinds[rng.below(kinds.len() as u64) as usize];
                let notes = ["路边有垃圾堆放", "沟渠里有漂浮物", "有人乱倒建筑垃圾"];
                dev(
                    phone.device.report_problem(
                        &round.id,
                        &kind.code,
                        Some(notes[rng.below(3) as usize].into()),
                        &next_photo(),
                        last_fix,
                    ),
                    "problem",
                )?;
                report.problems += 1;
                report.photos += 1;
            }
            phone.clock.advance_ms(120_000);
            dev(phone.device.finish_round(&round.id), "finish round")?;
            report.rounds += 1;
        }

        // Inspectors, 09:40 to about 13:00.
        for (vi, phone) in inspectors.iter().enumerate() {
            phone
                .clock
                .set(at(date, 1, 40) + chrono::Duration::minutes(rng.below(20) as i64));
            for visit in &schedule[d][vi] {
                // Every other order is closed a few days later; the rest stay open (and
                // fall overdue after a week).
                if let Some(id) =
                    inspect_household(phone, visit, date, &mut rng, &mut next_photo, &mut report)?
                    && report.rectifications_issued % 2 == 1
                {
                    let home = visit.household.location;
                    to_close.push((day + 3 + rng.below(4) as u32, vi, id, home));
                }
                phone.clock.advance_ms(8 * 60_000);
            }
            // Orders due to close today: the inspector goes back with the camera.
            phone.clock.set(at(date, 4, 30));
            let mut k = 0;
            while k < to_close.len() {
                if to_close[k].0 == day && to_close[k].1 == vi && close_photos > 0 {
                    let (_, _, id, home) = to_close.remove(k);
                    close_photos -= 1;
                    phone.clock.advance_ms(5 * 60_000);
                    let here = home.map(|p| Position {
                        lat: p.lat + rng.jitter(5.0),
                        lon: p.lon + rng.jitter(5.0),
                        accuracy_m: 6.0 + rng.below(6) as f64,
                    });
                    dev(
                        phone.device.close_rectification(
                            &id,
                            &next_photo(),
                            Some("已清理干净".into()),
                            here,
                        ),
                        "close rectification",
                    )?;
                    report.rectifications_closed += 1;
                    report.photos += 1;
                } else {
                    k += 1;
                }
            }
            // The village's own monthly evaluation, and the township's re-check.
            let village = &demo.villages[vi];
            if self_eval_day(vi) == Some(day) {
                phone.clock.set(at(date, 5, 0));
                let failure = match messiest_self_eval {
                    Some((v, true)) if v == vi => Some(("OFFICE_UNCLEAN", 1)),
                    _ => None,
                };
                let photos = village_inspection(
                    phone,
                    village,
                    demo,
                    InspectionType::VillageSelfEval,
                    failure.into_iter().collect(),
                    &policy,
                    &mut next_photo,
                )?;
                report.self_evals += 1;
                report.failed_items += u32::from(failure.is_some());
                report.photos += photos;
            }
            if recheck_day(vi) == Some(day) {
                phone.clock.set(at(date, 5, 20));
                let m = mess[vi];
                let mut failures = Vec::new();
                if m >= 1 && recheck_photos > 0 {
                    failures.push(("ROAD_PATROL_LAPSE", 2 * m));
                }
                if m >= 2 && recheck_photos > 1 {
                    failures.push(("POOL_OVERFLOW", m - 1));
                }
                report.failed_items += failures.len() as u32;
                let photos = village_inspection(
                    phone,
                    village,
                    demo,
                    InspectionType::TownshipRecheck,
                    failures,
                    &policy,
                    &mut next_photo,
                )?;
                report.rechecks += 1;
                report.photos += photos;
            }
        }
    }
    report.field_time = started.elapsed();

    // Signal: every phone syncs until nothing is left (records first, then photos).
    let sync_start = Instant::now();
    for phone in inspectors.iter().chain(cleaners.iter().map(|(p, _, _)| p)) {
        let mut badge = dev(phone.device.sync_now().await, "sync")?;
        for _ in 0..3 {
            if badge.pending_records == 0 && badge.pending_photos == 0 {
                break;
            }
            badge = dev(phone.device.sync_now().await, "sync")?;
        }
        if badge.pending_records != 0 || badge.pending_photos != 0 {
            bail!(
                "a phone could not send everything: {} records and {} photos left ({})",
                badge.pending_records,
                badge.pending_photos,
                badge.last_error_zh.unwrap_or_default()
            );
        }
    }
    report.sync_time = sync_start.elapsed();
    Ok(report)
}

async fn enroll(url: &str, e: &Enrollee, dir: &Path, when: DateTime<Utc>) -> Result<Phone> {
    let clock = Arc::new(FakeClock::new(when));
    let device = dev(
        Device::open(
            dir,
            DeviceOptions {
                clock: clock.clone(),
                sync: fast_config(),
            },
        ),
        "opening a phone",
    )?;
    dev(device.enroll(url, &e.code, "模拟手机").await, "enrolling")?;
    Ok(Phone { device, clock })
}

/// `n` points spread along a polyline, ends included.
fn along(path: &[GeoPoint], n: usize) -> Vec<GeoPoint> {
    let segs = path.len().saturating_sub(1).max(1);
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1).max(1) as f64 * segs as f64;
            let s = (t.floor() as usize).min(segs - 1);
            let f = t - s as f64;
            let a = path[s.min(path.len() - 1)];
            let b = path[(s + 1).min(path.len() - 1)];
            GeoPoint::new(a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f)
        })
        .collect()
}

/// One household inspection through the device; returns the rectification order's id when
/// one was issued.
fn inspect_household(
    phone: &Phone,
    visit: &Visit,
    date: NaiveDate,
    rng: &mut Rng,
    next_photo: &mut impl FnMut() -> Vec<u8>,
    report: &mut FieldReport,
) -> Result<Option<String>> {
    let hh = &visit.household;
    let home = hh.location.context("demo households are located")?;
    let pos = Position {
        lat: home.lat + rng.jitter(6.0),
        lon: home.lon + rng.jitter(6.0),
        accuracy_m: 5.0 + rng.below(10) as f64,
    };
    let d = &phone.device;
    let view = dev(
        d.start_inspection(&hh.id.to_string(), Some(pos)),
        "start inspection",
    )?;
    let id = view.id.clone();
    for item in &view.items {
        phone.clock.advance_ms(15_000 + rng.below(30_000) as i64);
        if Some(item.code.as_str()) == visit.fail {
            dev(
                d.answer_item(
                    &id,
                    &item.code,
                    "fail",
                    1,
                    Some(note_for(&item.code).into()),
                ),
                "answer",
            )?;
            dev(
                d.attach_item_photo(&id, &item.code, &next_photo(), Some(pos)),
                "photo",
            )?;
            report.photos += 1;
            report.failed_items += 1;
        } else if item.na_allowed && rng.chance(0.1) {
            dev(
                d.answer_item(&id, &item.code, "not_applicable", 1, None),
                "answer",
            )?;
        } else {
            dev(d.answer_item(&id, &item.code, "pass", 1, None), "answer")?;
        }
    }
    dev(d.submit_inspection(&id), "submit inspection")?;
    report.household_inspections += 1;
    match visit.fail {
        Some(code) if visit.order => {
            let order = dev(
                d.issue_rectification(&id, code, date + chrono::Duration::days(7)),
                "rectification",
            )?;
            report.rectifications_issued += 1;
            Ok(Some(order.id))
        }
        _ => Ok(None),
    }
}

/// A village inspection with the village template (the device has no screen for it yet, so
/// it goes through the phone's store and the same capture pipeline as every photo). Returns
/// the photos taken.
fn village_inspection(
    phone: &Phone,
    village: &AdminVillage,
    demo: &DemoTownship,
    kind: InspectionType,
    failures: Vec<(&'static str, u32)>,
    policy: &GeoPolicy,
    next_photo: &mut impl FnMut() -> Vec<u8>,
) -> Result<u32> {
    let inspector = phone.device.person().map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = demo
        .people
        .iter()
        .find(|p| p.id == inspector)
        .map_or_else(String::new, |p| p.name.clone());
    let mut store = phone.device.store();
    let template = store.template_by_code("VILLAGE_RECHECK_T")?;
    let subject = Subject {
        kind: SubjectKind::AdminVillage,
        id: *village.id.as_uuid(),
    };
    let mut insp = crate::sim::new_inspection(
        &store,
        &template,
        subject,
        village.id,
        inspector,
        village.centroid,
    );
    insp.kind = kind;
    let mut photos = 0;
    for (code, count) in failures {
        let ctx = CaptureContext {
            subject,
            fix: village.centroid.map(|point| GeoFix {
                point,
                accuracy_m: 8.0,
                fix_time: Some(store.clock().now()),
                mock: false,
            }),
            place: village.name.clone(),
            person: format!("检查员 {name}"),
        };
        let sha = capture_photo(
            &mut store,
            &next_photo(),
            &ctx,
            &cunjie_media::Policy::default(),
        )
        .map_err(|e| anyhow::anyhow!("{} ({})", e.message_zh(), e.code()))?;
        photos += 1;
        insp.answer(ItemResult {
            note: Some(note_for(code).into()),
            ..ItemResult::fail(code, count, vec![sha])
        });
    }
    // 示范户: counted from the register; a village along the county road short of five fails.
    let model = demo
        .households
        .iter()
        .filter(|h| h.village == village.id && h.is_demo_household)
        .count() as u32;
    if village.along_county_road && model < 5 {
        insp.answer(ItemResult::fail("DEMO_HH_SHORTFALL", 5 - model, vec![]));
    } else {
        insp.answer(ItemResult {
            outcome: Outcome::NotApplicable,
            ..ItemResult::pass("DEMO_HH_SHORTFALL")
        });
    }
    insp.pass_remaining(&template);
    store.save_inspection_draft(&insp)?;
    store
        .submit_inspection(insp.id, policy)
        .with_context(|| format!("submitting {}'s {kind:?}", village.name))?;
    Ok(photos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_the_right_days() {
        let feb = FieldMonth::whole(1, 2028, 2).expect("a month");
        assert_eq!((feb.first_day, feb.last_day), (1, 29), "a leap February");
        assert_eq!(feb.period(), "2028-02", "named YYYY-MM");
        let morning = Utc
            .with_ymd_and_hms(2026, 11, 30, 2, 0, 0)
            .single()
            .expect("time");
        let m = FieldMonth::so_far(1, morning);
        assert_eq!(
            (m.month, m.first_day, m.last_day),
            (11, 1, 29),
            "today's work is not over at 10:00 China time"
        );
        let evening = Utc
            .with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            FieldMonth::so_far(1, evening).last_day,
            30,
            "it is by 17:00"
        );
        let first = Utc
            .with_ymd_and_hms(2026, 12, 1, 1, 0, 0)
            .single()
            .expect("time");
        let m = FieldMonth::so_far(1, first);
        assert_eq!(
            (m.month, m.first_day, m.last_day),
            (11, 1, 30),
            "on the 1st before the work is done: the whole previous month"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let mut a = Rng(7);
        let mut b = Rng(7);
        let mut c = Rng(8);
        let (x, y, z): (Vec<u64>, Vec<u64>, Vec<u64>) = (
            (0..5).map(|_| a.below(100)).collect(),
            (0..5).map(|_| b.below(100)).collect(),
            (0..5).map(|_| c.below(100)).collect(),
        );
        assert_eq!(x, y, "deterministic");
        assert_ne!(x, z, "and the seed matters");
    }
}
