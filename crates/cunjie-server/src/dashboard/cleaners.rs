//! Cleaners' month: attendance, zone coverage, 日产日清 and problems inspectors found in their
//! zones, and the pay coefficient under a configurable rule (考核结果与工资挂钩, 000:73, 000:267).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc, Weekday};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{CheckpointState, CleanerRound};
use cunjie_domain::geo::{GeoPolicy, coverage, distance_to_zone_m};
use serde::Serialize;

use super::data::{Month, Registry, StoredInspection, cn_date};

/// How a cleaner's month sets the pay coefficient. The seeds tie cleaners' pay to the monthly
/// results but give no formula; these defaults are a starting point the township can change.
///
/// `coefficient = clamp(base + attendance_weight × attendance + coverage_weight × coverage
///                      + on_time_weight × on_time − per_problem × problems, min, max)`
///
/// with attendance, coverage and on-time as shares from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct PayRule {
    /// Coefficient with no attendance at all (before the floor).
    pub(crate) base: f64,
    /// Weight of attendance (days with a round / working days).
    pub(crate) attendance_weight: f64,
    /// Weight of the mean zone coverage of the month's rounds.
    pub(crate) coverage_weight: f64,
    /// Weight of checkpoints cleared on their day (日产日清).
    pub(crate) on_time_weight: f64,
    /// Taken off per problem an inspector found in the cleaner's zones.
    pub(crate) per_problem: f64,
    /// Floor.
    pub(crate) min: f64,
    /// Ceiling.
    pub(crate) max: f64,
    /// Sundays are rest days (not counted as working days).
    pub(crate) sundays_off: bool,
    /// A household counts as "in the zone" within this distance of the zone, metres.
    pub(crate) household_buffer_m: f64,
}

impl Default for PayRule {
    fn default() -> Self {
        Self {
            base: 0.5,
            attendance_weight: 0.4,
            coverage_weight: 0.1,
            on_time_weight: 0.1,
            per_problem: 0.02,
            min: 0.5,
            max: 1.1,
            sundays_off: false,
            household_buffer_m: 50.0,
        }
    }
}

impl PayRule {
    /// The coefficient for one month, rounded to two decimals.
    pub(crate) fn coefficient(
        &self,
        attendance: f64,
        coverage: f64,
        on_time: f64,
        problems: u32,
    ) -> f64 {
        let raw = self.base
            + self.attendance_weight * attendance
            + self.coverage_weight * coverage
            + self.on_time_weight * on_time
            - self.per_problem * f64::from(problems);
        (raw.clamp(self.min, self.max) * 100.0).round() / 100.0
    }
}

/// One cleaner's month.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CleanerMonth {
    pub(crate) person_id: String,
    pub(crate) name: String,
    pub(crate) zones: Vec<String>,
    pub(crate) days_with_round: u32,
    pub(crate) working_days: u32,
    pub(crate) attendance: f64,
    pub(crate) rounds: u32,
    /// Mean coverage of the month's rounds, 0–1 (`None` without rounds).
    pub(crate) coverage: Option<f64>,
    pub(crate) checkpoints_cleared: u32,
    pub(crate) checkpoints_expected: u32,
    pub(crate) on_time: f64,
    pub(crate) problems: u32,
    pub(crate) coefficient: f64,
}

/// Working days of `month` up to and including `today` (the whole month once it is over).
pub(crate) fn working_days(month: Month, today: chrono::NaiveDate, rule: &PayRule) -> u32 {
    let mut n = 0;
    let mut d = month.first();
    while Month::of(d) == month && d <= today {
        if !(rule.sundays_off && d.weekday() == Weekday::Sun) {
            n += 1;
        }
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    n
}

/// Computes every cleaner's month. `rounds` and `inspections` are the month's.
///
/// Problems in a cleaner's zones are the failed items of inspections whose subject is one of
/// the zones, a facility of one of the zones, or a household within
/// [`PayRule::household_buffer_m`] of a zone (the road the cleaner sweeps passes its door; a
/// household further away is the household's own 门前三包).
pub(crate) fn cleaner_months(
    reg: &Registry,
    month: Month,
    today: chrono::NaiveDate,
    rounds: &[CleanerRound],
    inspections: &[StoredInspection],
    rule: &PayRule,
) -> Vec<CleanerMonth> {
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = month.range();
    let working = working_days(month, today, rule).max(1);
    let policy = GeoPolicy::default();
    reg.cleaners()
        .into_iter()
        .map(|p| {
            let zones = reg.zones_of(p, from, to);
            let zone_ids: BTreeSet<_> = zones.iter().map(|z| z.id).collect();
            let mine: Vec<&CleanerRound> = rounds.iter().filter(|r| r.cleaner == p.id).collect();
            let days: BTreeSet<_> = mine.iter().map(|r| cn_date(r.started_at)).collect();
            let covs: Vec<f64> = mine
                .iter()
                .filter_map(|r| {
                    let z = reg.zones.iter().find(|z| z.id == r.zone)?;
                    Some(coverage(&z.geometry, &r.trace, &policy))
                })
                .collect();
            let facilities: Vec<_> = reg
                .facilities
                .iter()
                .filter(|f| f.zone.is_some_and(|z| zone_ids.contains(&z)))
                .collect();
            // 日产日清: each facility of the zones cleared on each day the cleaner worked.
            let mut cleared: BTreeMap<_, BTreeSet<_>> = BTreeMap::new();
            for r in &mine {
                for v in &r.visits {
                    if v.state == CheckpointState::Cleared {
                        cleared.entry(cn_date(v.at)).or_default().insert(v.facility);
                    }
                }
            }
            let expected = u32::try_from(facilities.len() * days.len()).unwrap_or(u32::MAX);
            let done: u32 = days
                .iter()
                .map(|d| {
                    let set = cleared.get(d);
                    u32::try_from(
                        facilities
                            .iter()
                            .filter(|f| set.is_some_and(|s| s.contains(&f.id)))
                            .count(),
                    )
                    .unwrap_or(0)
                })
                .sum();
            let problems: u32 = inspections
                .iter()
                .filter(|s| {
                    let subj = s.insp.subject;
                    match subj.kind {
                        SubjectKind::Zone => zone_ids.iter().any(|z| *z.as_uuid() == subj.id),
                        SubjectKind::Facility => {
                            facilities.iter().any(|f| *f.id.as_uuid() == subj.id)
                        }
                        SubjectKind::Household => reg
                            .households
                            .iter()
                            .find(|h| *h.id.as_uuid() == subj.id)
                            .and_then(|h| h.location)
                            .is_some_and(|loc| {
                                zones.iter().any(|z| {
                                    distance_to_zone_m(loc, &z.geometry)
                                        .is_some_and(|d| d <= rule.household_buffer_m)
                                })
                            }),
                        _ => false,
                    }
                })
                .map(|s| u32::try_from(s.insp.failures().count()).unwrap_or(0))
                .sum();
            let attendance =
                (f64::from(u32::try_from(days.len()).unwrap_or(0)) / f64::from(working)).min(1.0);
            let cov = (!covs.is_empty()).then(|| covs.iter().sum::<f64>() / covs.len() as f64);
            let on_time = if expected == 0 {
                0.0
            } else {
                f64::from(done) / f64::from(expected)
            };
            CleanerMonth {
                person_id: p.id.to_string(),
                name: p.name.clone(),
                zones: zones.iter().map(|z| z.name.clone()).collect(),
                days_with_round: u32::try_from(days.len()).unwrap_or(0),
                working_days: working,
                attendance,
                rounds: u32::try_from(mine.len()).unwrap_or(0),
                coverage: cov,
                checkpoints_cleared: done,
                checkpoints_expected: expected,
                on_time,
                problems,
                coefficient: rule.coefficient(attendance, cov.unwrap_or(0.0), on_time, problems),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coefficient_is_clamped_and_documented_by_its_defaults() {
        let r = PayRule::default();
        assert_eq!(
            r.coefficient(1.0, 1.0, 1.0, 0),
            1.1,
            "a full month is the ceiling"
        );
        assert_eq!(
            r.coefficient(0.0, 0.0, 0.0, 0),
            0.5,
            "nothing done is the floor"
        );
        assert_eq!(
            r.coefficient(1.0, 1.0, 1.0, 5),
            1.0,
            "five problems cost 0.10"
        );
        assert_eq!(
            r.coefficient(0.5, 0.8, 0.5, 0),
            0.83,
            "0.5 + 0.2 + 0.08 + 0.05"
        );
    }

    #[test]
    fn a_month_counts_days_coverage_checkpoints_and_nearby_problems() {
        use chrono::TimeZone;
        use cunjie_domain::fact::{
            CheckpointVisit, FactStatus, Inspection, ItemResult, Subject, TracePoint,
        };
        use cunjie_domain::place::{GeoPoint, ZoneGeometry};
        use uuid::Uuid;

        let d = crate::demo::demo_township(1, 1, 18);
        let reg = Registry {
            villages: d.villages.clone(),
            groups: d.groups.clone(),
            households: d.households.clone(),
            businesses: d.businesses.clone(),
            zones: d.zones.clone(),
            facilities: d.facilities.clone(),
            people: d.people.clone(),
            assignments: d.assignments.clone(),
        };
        let zone = &d.zones[0];
        let cleaner = d.cleaner(zone.id);
        let ZoneGeometry::Line(line) = &zone.geometry else {
            panic!("demo zones are roads")
        };
        let start = Utc
            .with_ymd_and_hms(2026, 11, 3, 0, 30, 0)
            .single()
            .expect("time");
        // Walk the road twice on the 3rd (China time), clearing every pool and bin once.
        let trace: Vec<TracePoint> = line
            .windows(2)
            .flat_map(|w| {
                (0..=20).map(move |i| {
                    let f = f64::from(i) / 20.0;
                    GeoPoint::new(
                        w[0].lat + (w[1].lat - w[0].lat) * f,
                        w[0].lon + (w[1].lon - w[0].lon) * f,
                    )
                })
            })
            .map(|point| TracePoint {
                point,
                accuracy_m: 5.0,
                at: start,
            })
            .collect();
        let visits: Vec<CheckpointVisit> = d
            .facilities
            .iter()
            .filter(|f| f.zone == Some(zone.id))
            .map(|f| CheckpointVisit {
                facility: f.id,
                number: f.number.clone(),
                state: CheckpointState::Cleared,
                at: start,
                fix: None,
                photos: vec![],
                note: None,
            })
            .collect();
        let round = |n: u128| CleanerRound {
            id: cunjie_domain::ids::RoundId::from_uuid(Uuid::from_u128(n)),
            zone: zone.id,
            cleaner: cleaner.id,
            device: cunjie_domain::ids::DeviceId::from_uuid(Uuid::from_u128(99)),
            pass_no: 1,
            started_at: start,
            ended_at: Some(start),
            server_received_at: None,
            trace: trace.clone(),
            visits: visits.clone(),
            problems: vec![],
            status: FactStatus::Submitted,
        };
        let inspect = |kind, id: Uuid, fails: &[&str]| {
            let mut i = Inspection::start(
                cunjie_domain::ids::InspectionId::from_uuid(Uuid::from_u128(id.as_u128() ^ 7)),
                cunjie_domain::template::presets::household_sanbao().reference(),
                Subject { kind, id },
                d.villages[0].id,
                d.inspector(0).id,
                cunjie_domain::ids::DeviceId::from_uuid(Uuid::from_u128(98)),
                start,
            );
            for f in fails {
                i.answer(ItemResult::fail(f, 1, vec![]));
            }
            StoredInspection {
                insp: i,
                flags: String::new(),
            }
        };
        // Household 0 sits on the road; household 8 is eight rows (about 300 m) north of it.
        let near = d.households[0].clone();
        let far = d.households[8].clone();
        let to_road = |h: &cunjie_domain::place::Household| {
            distance_to_zone_m(h.location.expect("located"), &zone.geometry).expect("distance")
        };
        assert!(
            to_road(&near) < 50.0 && to_road(&far) > 200.0,
            "the fixture's geometry"
        );
        let inspections = vec![
            inspect(
                SubjectKind::Household,
                *near.id.as_uuid(),
                &["HH_WHITE_LITTER", "HH_CLUTTER"],
            ),
            inspect(
                SubjectKind::Household,
                *far.id.as_uuid(),
                &["HH_WHITE_LITTER"],
            ),
            inspect(SubjectKind::Zone, *zone.id.as_uuid(), &["LWA1"]),
        ];
        let month = Month::parse("2026-11").expect("month");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 10).expect("date");
        let rule = PayRule::default();
        let all = cleaner_months(
            &reg,
            month,
            today,
            &[round(1), round(2)],
            &inspections,
            &rule,
        );
        let m = all
            .iter()
            .find(|c| c.person_id == cleaner.id.to_string())
            .expect("the zone's cleaner");
        assert_eq!(
            (m.days_with_round, m.working_days),
            (1, 10),
            "one day of ten"
        );
        assert_eq!(m.rounds, 2, "two passes that day");
        assert!(
            m.coverage.is_some_and(|c| c > 0.9),
            "the trace covers the road: {m:?}"
        );
        assert_eq!(
            (m.checkpoints_cleared, m.checkpoints_expected),
            (4, 4),
            "four facilities cleared on the one day worked"
        );
        assert_eq!(
            m.problems, 3,
            "two failures at the house on the road and one on the zone; the far house is its own"
        );
        assert_eq!(
            m.coefficient,
            rule.coefficient(0.1, m.coverage.unwrap_or(0.0), 1.0, 3),
            "the rule applied to the month"
        );
    }

    #[test]
    fn working_days_stop_at_today() {
        let m = Month::parse("2026-11").expect("month");
        let r = PayRule::default();
        let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 11, day).expect("date");
        assert_eq!(working_days(m, d(17), &r), 17, "up to today");
        assert_eq!(working_days(m, d(30), &r), 30, "whole month");
        let sundays = PayRule {
            sundays_off: true,
            ..r
        };
        assert_eq!(
            working_days(m, d(30), &sundays),
            25,
            "Nov 2026 has five Sundays"
        );
    }
}
