//! Scoring: a pure engine that scores one inspection from its template, and rolls a period up
//! under a scheme (domain.md §5).
//!
//! Two schemes ship as presets:
//! - **Scheme T** ([`Scheme::township_monthly_yuan`]): the township assesses villages monthly
//!   with yuan deductions per finding (000:149-169).
//! - **Scheme C** ([`Scheme::county_halfyear_100`]): the county assesses townships on 百分制,
//!   half-year = 70 % mean of three bimonthly checks + 20 % assigned tasks + 10 % satisfaction
//!   (001:113-117).
//!
//! Every number is configuration; the presets carry the seeds' values. Decisions on the seeds'
//! open questions are written on the rule they affect.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::fact::{Inspection, Outcome};
use crate::ids::{HouseholdId, TownshipId, VillageId};
use crate::place::{AdminVillage, Household};
use crate::template::{CountUnit, Critical, ScoreUnit, Template};

/// What one failed item cost in one inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemDeduction {
    /// Catalog item.
    pub item_code: String,
    /// Section it is listed under.
    pub section: String,
    /// Counted units (1 for per-item rules).
    pub count: u32,
    /// Deduction, positive, before section caps.
    pub amount: Amount,
}

/// The score of one inspection under its template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InspectionScore {
    /// Points or yuan.
    pub unit: ScoreUnit,
    /// Full score (points) or zero (yuan).
    pub full: Amount,
    /// Per failed item.
    pub deductions: Vec<ItemDeduction>,
    /// Deducted per section after caps and vetoes, in template order.
    pub sections: Vec<(String, Amount)>,
    /// Points remaining (points templates) or minus the yuan deducted (yuan templates).
    pub score: Amount,
    /// Whether a critical item (一票否决) failed.
    pub vetoed: bool,
}

/// Scores one inspection. Unanswered and N/A items cost nothing; validation decides whether
/// the inspection may be submitted at all.
pub fn score_inspection(template: &Template, insp: &Inspection) -> InspectionScore {
    let mut deductions = Vec::new();
    let mut section_vetoed = BTreeSet::new();
    let mut whole_vetoed = false;
    for r in &insp.results {
        if r.outcome != Outcome::Fail {
            continue;
        }
        let Some(rule) = template.item(&r.item_code) else {
            continue;
        };
        let count = if rule.count_unit == CountUnit::PerItem {
            1
        } else {
            rule.max_count.map_or(r.count, |m| r.count.min(m))
        };
        let amount = rule.deduction.times(count).percent(rule.weight_pct);
        match rule.critical {
            Critical::No => {}
            Critical::Section => {
                section_vetoed.insert(rule.section.clone());
            }
            Critical::Whole => whole_vetoed = true,
        }
        deductions.push(ItemDeduction {
            item_code: r.item_code.clone(),
            section: rule.section.clone(),
            count,
            amount,
        });
    }
    let sections: Vec<(String, Amount)> = template
        .sections
        .iter()
        .map(|s| {
            let raw: Amount = deductions
                .iter()
                .filter(|d| d.section == s.code)
                .map(|d| d.amount)
                .sum();
            let taken = match (template.unit, s.max_points) {
                (ScoreUnit::Points, Some(max))
                    if whole_vetoed || section_vetoed.contains(&s.code) =>
                {
                    max
                }
                (ScoreUnit::Points, Some(max)) => raw.min(max),
                _ => raw,
            };
            (s.code.clone(), taken)
        })
        .collect();
    let deducted: Amount = sections.iter().map(|(_, a)| *a).sum();
    let score = match template.unit {
        ScoreUnit::Points if whole_vetoed => Amount::ZERO,
        ScoreUnit::Points => (template.full_score - deducted).max(Amount::ZERO),
        ScoreUnit::Yuan => -deducted,
    };
    InspectionScore {
        unit: template.unit,
        full: template.full_score,
        deductions,
        sections,
        score,
        vetoed: whole_vetoed || !section_vetoed.is_empty(),
    }
}

/// The length of an assessment period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// 每月
    Month,
    /// 每两个月
    TwoMonths,
    /// 每季度
    Quarter,
    /// 每半年
    HalfYear,
}

/// Outside findings with fixed consequences (000:159).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExternalEventKind {
    /// 县以上检查书面通报表彰
    Commendation,
    /// 省、市、县明查暗访查出问题并通报批评，或被媒体曝光
    Exposure,
}

/// How a rule's units are counted from findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "per", rename_all = "snake_case")]
pub enum Trigger {
    /// Each counted occurrence of any of the items (每发现一次 / 每次).
    ItemOccurrences {
        /// Catalog items.
        items: Vec<String>,
    },
    /// Each household found failing any of the items (每发现一户). Decision on open question 11:
    /// one unit per household per inspection visit however many of the items failed; separate
    /// rules stack.
    Households {
        /// Catalog items.
        items: Vec<String>,
        /// Only households flagged `roadside` (公路两旁).
        roadside_only: bool,
    },
    /// Each model household short of `required`, for villages along a county road (少一户).
    DemoShortfall {
        /// Required number of 五乱治理示范户.
        required: u32,
    },
    /// Each external event of the kind.
    Event {
        /// Kind of event.
        kind: ExternalEventKind,
    },
}

/// What a rule does when triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Adds this signed amount per unit (negative for deductions).
    PerUnit {
        /// Yuan per unit.
        amount: Amount,
    },
    /// Forfeits the whole month's basic subsidy and cuts cadres' performance pay (000:159).
    ForfeitSubsidy {
        /// Percent of the village cadres' monthly performance pay withheld.
        cadre_pay_cut_pct: u32,
    },
}

/// A reward or deduction rule of a yuan scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct YuanRule {
    /// Stable code, e.g. `D-POOL`.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// How units are counted.
    pub trigger: Trigger,
    /// What happens.
    pub effect: Effect,
    /// Source line.
    pub citation: String,
}

/// Scheme T's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct YuanScheme {
    /// The monthly basic assessment subsidy (基本考核补助); the seeds do not give it.
    pub base_subsidy: Amount,
    /// The self-evaluation must be filed on or before this day ("16日前": the 15th).
    pub self_eval_last_day: u32,
    /// First day of the township re-check window.
    pub recheck_first_day: u32,
    /// Last day of the township re-check window.
    pub recheck_last_day: u32,
    /// The rules.
    pub rules: Vec<YuanRule>,
}

/// Scheme C's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PointsScheme {
    /// Full score (百分制: 100).
    pub full: Amount,
    /// Weight of the mean of the bimonthly checks, percent.
    pub checks_pct: u32,
    /// How many bimonthly checks make the mean.
    pub checks: u32,
    /// Weight of assigned tasks (交办工作), percent.
    pub tasks_pct: u32,
    /// Weight of public satisfaction (群众满意度), percent.
    pub satisfaction_pct: u32,
    /// Reward to the first-placed unit, yuan.
    pub first_reward: Amount,
    /// Penalty to the last-placed unit, yuan (paid to the first, 001:116).
    pub last_penalty: Amount,
}

/// The kind of scheme with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchemeKind {
    /// Yuan deductions per finding.
    Yuan(YuanScheme),
    /// 百分制 with weighted components.
    Points(PointsScheme),
}

/// A named, versioned scoring scheme. Results are stored with the code and version they used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Scheme {
    /// Code, e.g. `TOWNSHIP_MONTHLY_YUAN`.
    pub code: String,
    /// Version; editing makes a new one.
    pub version: u32,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Ranking period.
    pub period: Period,
    /// Parameters.
    pub kind: SchemeKind,
}

fn rule(code: &str, zh: &str, trigger: Trigger, effect: Effect, citation: &str) -> YuanRule {
    YuanRule {
        code: code.into(),
        label_zh: zh.into(),
        trigger,
        effect,
        citation: citation.into(),
    }
}

fn items(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

impl Scheme {
    /// Scheme T: 镇对村月度考核 (000:135-169).
    pub fn township_monthly_yuan() -> Self {
        let per = |yuan| Effect::PerUnit {
            amount: Amount::whole(yuan),
        };
        let seed = "000_6e692a62ab8c159b.txt";
        Self {
            code: "TOWNSHIP_MONTHLY_YUAN".into(),
            version: 1,
            name_zh: "镇对村月度考核（扣款制）".into(),
            name_en: "Township monthly village assessment (yuan)".into(),
            period: Period::Month,
            kind: SchemeKind::Yuan(YuanScheme {
                base_subsidy: Amount::ZERO,
                self_eval_last_day: 15,
                recheck_first_day: 16,
                recheck_last_day: 19,
                rules: vec![
                    rule(
                        "R-COMMEND",
                        "县以上检查书面通报表彰",
                        Trigger::Event {
                            kind: ExternalEventKind::Commendation,
                        },
                        per(500),
                        &format!("{seed}:159"),
                    ),
                    rule(
                        "P-EXPOSE",
                        "明查暗访查出问题或媒体曝光",
                        Trigger::Event {
                            kind: ExternalEventKind::Exposure,
                        },
                        Effect::ForfeitSubsidy {
                            cadre_pay_cut_pct: 50,
                        },
                        &format!("{seed}:159"),
                    ),
                    rule(
                        "D-ROAD-PATROL",
                        "公路沿线未坚持巡查捡拾白色垃圾",
                        Trigger::ItemOccurrences {
                            items: items(&["ROAD_PATROL_LAPSE"]),
                        },
                        per(-10),
                        &format!("{seed}:161"),
                    ),
                    rule(
                        "D-HH-ROADSIDE",
                        "公路两旁农户杂物乱堆、畜禽乱养、家什乱摆、院坝不整洁",
                        Trigger::Households {
                            items: items(&[
                                "HH_CLUTTER",
                                "HH_LIVESTOCK",
                                "HH_UTENSILS",
                                "HH_YARD_UNTIDY",
                            ]),
                            roadside_only: true,
                        },
                        per(-5),
                        &format!("{seed}:163"),
                    ),
                    rule(
                        "D-HH-WHITE",
                        "农户房前屋后有白色垃圾",
                        Trigger::Households {
                            items: items(&["HH_WHITE_LITTER"]),
                            roadside_only: false,
                        },
                        per(-5),
                        &format!("{seed}:163"),
                    ),
                    rule(
                        "D-POOL",
                        "垃圾收集池未及时清运、散落池外",
                        Trigger::ItemOccurrences {
                            items: items(&["POOL_OVERFLOW"]),
                        },
                        per(-10),
                        &format!("{seed}:165"),
                    ),
                    rule(
                        "D-DEMO-HH",
                        "县道路沿线村五乱治理示范户不足5户",
                        Trigger::DemoShortfall { required: 5 },
                        per(-5),
                        &format!("{seed}:167"),
                    ),
                    rule(
                        "D-OFFICE",
                        "村办公室周围环境不清洁",
                        Trigger::ItemOccurrences {
                            items: items(&["OFFICE_UNCLEAN"]),
                        },
                        per(-10),
                        &format!("{seed}:169"),
                    ),
                ],
            }),
        }
    }

    /// Scheme C: 县对乡镇半年考核（百分制） (001:113-117).
    pub fn county_halfyear_100() -> Self {
        Self {
            code: "COUNTY_HALFYEAR_100".into(),
            version: 1,
            name_zh: "县对乡镇半年考核（百分制）".into(),
            name_en: "County half-year township assessment (100 points)".into(),
            period: Period::HalfYear,
            kind: SchemeKind::Points(PointsScheme {
                full: Amount::whole(100),
                checks_pct: 70,
                checks: 3,
                tasks_pct: 20,
                satisfaction_pct: 10,
                first_reward: Amount::whole(50_000),
                last_penalty: Amount::whole(-50_000),
            }),
        }
    }

    /// The presets, for listing.
    pub fn presets() -> Vec<Scheme> {
        vec![Self::township_monthly_yuan(), Self::county_halfyear_100()]
    }
}

impl YuanScheme {
    /// Whether a self-evaluation dated `date` is on time ("每月的16日前").
    pub fn self_eval_on_time(&self, date: NaiveDate) -> bool {
        date.day() <= self.self_eval_last_day
    }

    /// Whether a re-check dated `date` falls in the 16th–19th window.
    pub fn in_recheck_window(&self, date: NaiveDate) -> bool {
        (self.recheck_first_day..=self.recheck_last_day).contains(&date.day())
    }
}

/// An external event recorded by township staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ExternalEvent {
    /// Kind.
    pub kind: ExternalEventKind,
    /// Date.
    pub date: NaiveDate,
    /// Document reference (通报文号).
    pub doc_ref: String,
}

/// Everything that counts toward one village's month.
#[derive(Debug, Clone)]
pub struct VillageMonth<'a> {
    /// The village.
    pub village: &'a AdminVillage,
    /// Inspections charged to it that count toward the rank (sampled, in the window).
    pub inspections: &'a [Inspection],
    /// Households of the village by id (for the roadside flag).
    pub households: &'a BTreeMap<HouseholdId, Household>,
    /// Model households (五乱治理示范户) the village has.
    pub demo_households: u32,
    /// External events in the month.
    pub events: &'a [ExternalEvent],
}

/// One rule's effect on a village's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RuleApplied {
    /// Rule code.
    pub rule: String,
    /// Units counted.
    pub units: u32,
    /// Signed yuan.
    pub amount: Amount,
}

/// A village's month under a yuan scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VillageMonthScore {
    /// The village.
    pub village: VillageId,
    /// Rules that applied, in scheme order (only those with units).
    pub applied: Vec<RuleApplied>,
    /// Deductions by standard item code (negative yuan), for "deductions by item".
    pub by_item: BTreeMap<String, Amount>,
    /// Sum of deductions (≤ 0).
    pub deductions: Amount,
    /// Sum of rewards (≥ 0).
    pub rewards: Amount,
    /// The base subsidy forfeited by an exposure.
    pub subsidy_forfeited: bool,
    /// Cadres' performance pay cut, percent.
    pub cadre_pay_cut_pct: u32,
    /// The score that ranks: base (or 0 if forfeited) + rewards + deductions.
    pub net: Amount,
}

/// Rolls up a village's month under Scheme T (or any yuan scheme).
pub fn score_village_month(scheme: &YuanScheme, m: &VillageMonth<'_>) -> VillageMonthScore {
    let mut applied = Vec::new();
    let mut by_item: BTreeMap<String, Amount> = BTreeMap::new();
    let mut forfeited = false;
    let mut cadre_cut = 0;
    for rule in &scheme.rules {
        let (units, item_units): (u32, Vec<(String, u32)>) = match &rule.trigger {
            Trigger::ItemOccurrences { items } => {
                let mut per_item: BTreeMap<&str, u32> = BTreeMap::new();
                for r in m.inspections.iter().flat_map(|i| i.failures()) {
                    if items.contains(&r.item_code) {
                        *per_item.entry(&r.item_code).or_default() += r.count.max(1);
                    }
                }
                (
                    per_item.values().sum(),
                    per_item
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }
            Trigger::Households {
                items,
                roadside_only,
            } => {
                let mut units = 0;
                let mut per_item: BTreeMap<String, u32> = BTreeMap::new();
                for insp in m.inspections {
                    let hh = HouseholdId::from_uuid(insp.subject.id);
                    let Some(household) = m.households.get(&hh) else {
                        continue;
                    };
                    if *roadside_only && !household.roadside {
                        continue;
                    }
                    let failed: Vec<&str> = insp
                        .failures()
                        .map(|r| r.item_code.as_str())
                        .filter(|c| items.iter().any(|i| i == c))
                        .collect();
                    if let Some(first) = failed.first() {
                        units += 1;
                        // Attribute the household's unit to the first failed item listed.
                        *per_item.entry((*first).to_owned()).or_default() += 1;
                    }
                }
                (units, per_item.into_iter().collect())
            }
            Trigger::DemoShortfall { required } => {
                let short = if m.village.along_county_road {
                    required.saturating_sub(m.demo_households)
                } else {
                    0
                };
                (short, vec![("DEMO_HH_SHORTFALL".to_owned(), short)])
            }
            Trigger::Event { kind } => {
                let n = m.events.iter().filter(|e| e.kind == *kind).count();
                (u32::try_from(n).unwrap_or(u32::MAX), vec![])
            }
        };
        if units == 0 {
            continue;
        }
        let amount = match rule.effect {
            Effect::PerUnit { amount } => {
                for (item, n) in item_units.iter().filter(|(_, n)| *n > 0) {
                    *by_item.entry(item.clone()).or_default() += amount.times(*n);
                }
                amount.times(units)
            }
            Effect::ForfeitSubsidy { cadre_pay_cut_pct } => {
                forfeited = true;
                cadre_cut = cadre_cut.max(cadre_pay_cut_pct);
                -scheme.base_subsidy
            }
        };
        applied.push(RuleApplied {
            rule: rule.code.clone(),
            units,
            amount,
        });
    }
    let deductions: Amount = applied
        .iter()
        .filter(|a| a.amount < Amount::ZERO)
        .map(|a| a.amount)
        .sum();
    let rewards: Amount = applied
        .iter()
        .filter(|a| a.amount > Amount::ZERO)
        .map(|a| a.amount)
        .sum();
    // The forfeit is already inside `deductions` as minus the base.
    let net = scheme.base_subsidy + rewards + deductions;
    VillageMonthScore {
        village: m.village.id,
        applied,
        by_item,
        deductions,
        rewards,
        subsidy_forfeited: forfeited,
        cadre_pay_cut_pct: cadre_cut,
        net,
    }
}

/// One ranked entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ranked<K> {
    /// What is ranked.
    pub key: K,
    /// Its score.
    pub score: Amount,
    /// Rank from 1; equal scores share a rank (1, 2, 2, 4).
    pub rank: u32,
}

/// Ranks by score, highest first. Equal scores share a rank; among equals the order is the
/// key's, so the table is stable and explainable.
pub fn rank<K: Ord + Clone>(scores: &[(K, Amount)]) -> Vec<Ranked<K>> {
    let mut sorted: Vec<&(K, Amount)> = scores.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<Ranked<K>> = Vec::with_capacity(sorted.len());
    for (i, (k, s)) in sorted.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.score == *s => prev.rank,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        out.push(Ranked {
            key: k.clone(),
            score: *s,
            rank,
        });
    }
    out
}

/// A township's half-year inputs under Scheme C.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HalfYearInput {
    /// The township.
    pub township: TownshipId,
    /// The bimonthly 百分制 check scores (three in a half-year).
    pub checks: Vec<Amount>,
    /// Assigned-task completion score, 0–100.
    pub tasks: Amount,
    /// Satisfaction score, 0–100.
    pub satisfaction: Amount,
}

/// A township's half-year score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HalfYearScore {
    /// The township.
    pub township: TownshipId,
    /// Mean of the checks.
    pub checks_mean: Amount,
    /// 70 % part.
    pub checks_part: Amount,
    /// 20 % part.
    pub tasks_part: Amount,
    /// 10 % part.
    pub satisfaction_part: Amount,
    /// Total, 0–100.
    pub total: Amount,
}

/// Computes a half-year score. Missing checks count as zero, so a township cannot gain by
/// skipping one.
pub fn score_half_year(scheme: &PointsScheme, input: &HalfYearInput) -> HalfYearScore {
    let clamp = |a: Amount| a.max(Amount::ZERO).min(scheme.full);
    let mut checks: Vec<Amount> = input.checks.iter().map(|a| clamp(*a)).collect();
    checks.resize(
        usize::try_from(scheme.checks)
            .unwrap_or(3)
            .max(checks.len()),
        Amount::ZERO,
    );
    let checks_mean = Amount::mean(&checks);
    let checks_part = checks_mean.percent(scheme.checks_pct);
    let tasks_part = clamp(input.tasks).percent(scheme.tasks_pct);
    let satisfaction_part = clamp(input.satisfaction).percent(scheme.satisfaction_pct);
    HalfYearScore {
        township: input.township,
        checks_mean,
        checks_part,
        tasks_part,
        satisfaction_part,
        total: checks_part + tasks_part + satisfaction_part,
    }
}

/// The consequence for a unit that is last again (001:117).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EscalationStep {
    /// 表态性发言 at the bimonthly review meeting.
    Statement,
    /// 约谈并书面说明: second time in a row.
    Interview,
    /// 行政问责/调整岗位: third time in a row or more.
    Accountability,
}

/// The escalation for `consecutive` last places in a row (1 = last this time only).
pub fn escalation(consecutive: u32) -> Option<EscalationStep> {
    match consecutive {
        0 => None,
        1 => Some(EscalationStep::Statement),
        2 => Some(EscalationStep::Interview),
        _ => Some(EscalationStep::Accountability),
    }
}

/// Rewards for a ranked half-year: first gets the reward, last pays the penalty. When several
/// share first or last place the amount is split between them evenly (decision on open
/// question 16); with one township nothing moves.
pub fn settle_half_year(
    scheme: &PointsScheme,
    ranked: &[Ranked<TownshipId>],
) -> Vec<(TownshipId, Amount)> {
    if ranked.len() < 2 {
        return ranked.iter().map(|r| (r.key, Amount::ZERO)).collect();
    }
    let last_rank = ranked.iter().map(|r| r.rank).max().unwrap_or(1);
    let firsts = ranked.iter().filter(|r| r.rank == 1).count() as i64;
    let lasts = ranked.iter().filter(|r| r.rank == last_rank).count() as i64;
    ranked
        .iter()
        .map(|r| {
            let mut amount = Amount::ZERO;
            if r.rank == 1 && last_rank != 1 {
                amount += Amount(scheme.first_reward.cents() / firsts);
            }
            if r.rank == last_rank && last_rank != 1 {
                amount += Amount(scheme.last_penalty.cents() / lasts);
            }
            (r.key, amount)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SubjectKind;
    use crate::fact::{FactStatus, InspectionType, ItemResult, PhotoHash, Subject};
    use crate::ids::*;
    use crate::template::presets;
    use chrono::DateTime;
    use uuid::Uuid;

    fn photo() -> PhotoHash {
        "cd".repeat(32).parse().expect("hex")
    }

    fn inspection(
        t: &Template,
        subject: Subject,
        village: VillageId,
        fails: &[(&str, u32)],
    ) -> Inspection {
        let mut insp = Inspection {
            id: InspectionId::from_uuid(Uuid::from_u128(subject.id.as_u128() ^ 0xFF)),
            template: t.reference(),
            subject,
            village,
            kind: InspectionType::TownshipRecheck,
            inspector: PersonId::from_uuid(Uuid::from_u128(77)),
            device: DeviceId::from_uuid(Uuid::from_u128(78)),
            started_at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
            submitted_at: None,
            server_received_at: None,
            fix: None,
            results: t
                .items
                .iter()
                .map(|i| ItemResult::pass(&i.item_code))
                .collect(),
            note: None,
            supersedes: None,
            status: FactStatus::Submitted,
        };
        for (code, n) in fails {
            insp.answer(ItemResult::fail(code, *n, vec![photo()]));
        }
        insp
    }

    fn village(along_county_road: bool) -> AdminVillage {
        AdminVillage {
            id: VillageId::from_uuid(Uuid::from_u128(1)),
            township: TownshipId::from_uuid(Uuid::from_u128(2)),
            code: "TP".into(),
            name: "太平村".into(),
            population: 3_200,
            along_county_road,
            centroid: None,
        }
    }

    fn household(n: u128, roadside: bool) -> Household {
        Household {
            id: HouseholdId::from_uuid(Uuid::from_u128(n)),
            group: GroupId::from_uuid(Uuid::from_u128(3)),
            village: VillageId::from_uuid(Uuid::from_u128(1)),
            head_name: format!("户主{n}"),
            door_plate: format!("太平村{n}号"),
            members: 4,
            roadside,
            is_demo_household: false,
            location: None,
        }
    }

    #[test]
    fn household_points_table() {
        let t = presets::household_sanbao();
        let hh = Subject {
            kind: SubjectKind::Household,
            id: Uuid::from_u128(10),
        };
        let v = VillageId::from_uuid(Uuid::from_u128(1));
        // (failed items, expected score)
        let cases: &[(&[(&str, u32)], i64)] = &[
            (&[], 100),
            (&[("HH_WHITE_LITTER", 1)], 90),
            (&[("HH_WHITE_LITTER", 1), ("HH_CLUTTER", 1)], 82),
            // Per-item rules ignore the count: three heaps of clutter are one failure.
            (&[("HH_CLUTTER", 3)], 92),
            // Everything fails: 100 − 44 − 46 − 10.
            (
                &[
                    ("HH_WHITE_LITTER", 1),
                    ("HH_SEWAGE", 1),
                    ("HH_TOILET", 1),
                    ("HH_NOT_SORTING", 1),
                    ("HH_NO_TEMP_SPOT", 1),
                    ("HH_CLUTTER", 1),
                    ("HH_UTENSILS", 1),
                    ("HH_YARD_UNTIDY", 1),
                    ("HH_FIREWOOD", 1),
                    ("HH_MANURE", 1),
                    ("HH_WEEDS", 1),
                    ("HH_LIVESTOCK", 1),
                ],
                0,
            ),
        ];
        for (fails, want) in cases {
            let s = score_inspection(&t, &inspection(&t, hh, v, fails));
            assert_eq!(s.score, Amount::whole(*want), "fails {fails:?}");
        }
    }

    #[test]
    fn caps_and_vetoes() {
        let mut t = presets::household_sanbao();
        let hh = Subject {
            kind: SubjectKind::Household,
            id: Uuid::from_u128(10),
        };
        let v = VillageId::from_uuid(Uuid::from_u128(1));
        t.items
            .iter_mut()
            .for_each(|i| i.deduction = Amount::whole(30));
        let s = score_inspection(
            &t,
            &inspection(&t, hh, v, &[("HH_WHITE_LITTER", 1), ("HH_SEWAGE", 1)]),
        );
        assert_eq!(s.score, Amount::whole(56), "包卫生 capped at its 44 points");

        let mut t = presets::household_sanbao();
        t.items[1].critical = Critical::Whole;
        let s = score_inspection(&t, &inspection(&t, hh, v, &[("HH_SEWAGE", 1)]));
        assert_eq!(
            (s.score, s.vetoed),
            (Amount::ZERO, true),
            "一票否决 zeroes the whole"
        );

        let mut t = presets::household_sanbao();
        t.items[1].critical = Critical::Section;
        let s = score_inspection(&t, &inspection(&t, hh, v, &[("HH_SEWAGE", 1)]));
        assert_eq!(
            s.score,
            Amount::whole(56),
            "section veto takes the whole 44 of 包卫生"
        );

        let mut t = presets::household_sanbao();
        t.items[0].weight_pct = 150;
        let s = score_inspection(&t, &inspection(&t, hh, v, &[("HH_WHITE_LITTER", 1)]));
        assert_eq!(
            s.score,
            Amount::whole(85),
            "weight 150 % turns −10 into −15"
        );
    }

    #[test]
    fn village_recheck_in_yuan() {
        let t = presets::village_recheck();
        let v = village(true);
        let subj = Subject {
            kind: SubjectKind::AdminVillage,
            id: *v.id.as_uuid(),
        };
        let s = score_inspection(
            &t,
            &inspection(
                &t,
                subj,
                v.id,
                &[
                    ("ROAD_PATROL_LAPSE", 2),
                    ("POOL_OVERFLOW", 1),
                    ("OFFICE_UNCLEAN", 1),
                ],
            ),
        );
        assert_eq!(s.score, Amount::whole(-40), "2×10 + 10 + 10 yuan");
    }

    /// The worked month of 000:159-169: every rule of Scheme T at the seed's rates.
    #[test]
    fn scheme_t_worked_month() {
        let Scheme {
            kind: SchemeKind::Yuan(mut scheme),
            ..
        } = Scheme::township_monthly_yuan()
        else {
            panic!("T is yuan")
        };
        scheme.base_subsidy = Amount::whole(1_000);
        let v = village(true);
        let recheck = presets::village_recheck();
        let hht = presets::household_sanbao();
        let vsubj = Subject {
            kind: SubjectKind::AdminVillage,
            id: *v.id.as_uuid(),
        };
        let households: BTreeMap<HouseholdId, Household> = [
            household(101, true),
            household(102, true),
            household(103, true),
            household(104, false),
        ]
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
        let hs = |n: u128| Subject {
            kind: SubjectKind::Household,
            id: Uuid::from_u128(n),
        };
        let inspections = vec![
            // Two patrol lapses, one pool overflow, the office unclean once.
            inspection(
                &recheck,
                vsubj,
                v.id,
                &[
                    ("ROAD_PATROL_LAPSE", 2),
                    ("POOL_OVERFLOW", 1),
                    ("OFFICE_UNCLEAN", 1),
                ],
            ),
            // Roadside household with two of the four conditions: one household, −5.
            inspection(
                &hht,
                hs(101),
                v.id,
                &[("HH_CLUTTER", 1), ("HH_LIVESTOCK", 1)],
            ),
            // Roadside household with clutter and white litter: −5 and −5 (the rules stack).
            inspection(
                &hht,
                hs(102),
                v.id,
                &[("HH_YARD_UNTIDY", 1), ("HH_WHITE_LITTER", 1)],
            ),
            // Clean roadside household.
            inspection(&hht, hs(103), v.id, &[]),
            // Inland household: clutter is not charged (roadside only), white litter is.
            inspection(
                &hht,
                hs(104),
                v.id,
                &[("HH_CLUTTER", 1), ("HH_WHITE_LITTER", 1)],
            ),
        ];
        let events = [ExternalEvent {
            kind: ExternalEventKind::Commendation,
            date: NaiveDate::from_ymd_opt(2026, 11, 8).expect("valid"),
            doc_ref: "萍县整治办〔2026〕12号".into(),
        }];
        let month = VillageMonth {
            village: &v,
            inspections: &inspections,
            households: &households,
            demo_households: 3,
            events: &events,
        };
        let s = score_village_month(&scheme, &month);
        let by_rule: BTreeMap<&str, (u32, Amount)> = s
            .applied
            .iter()
            .map(|a| (a.rule.as_str(), (a.units, a.amount)))
            .collect();
        assert_eq!(
            by_rule["R-COMMEND"],
            (1, Amount::whole(500)),
            "+500 per commendation"
        );
        assert_eq!(
            by_rule["D-ROAD-PATROL"],
            (2, Amount::whole(-20)),
            "−10 per lapse"
        );
        assert_eq!(
            by_rule["D-HH-ROADSIDE"],
            (2, Amount::whole(-10)),
            "−5 per roadside household"
        );
        assert_eq!(
            by_rule["D-HH-WHITE"],
            (2, Amount::whole(-10)),
            "−5 per household with white litter"
        );
        assert_eq!(by_rule["D-POOL"], (1, Amount::whole(-10)), "−10 per pool");
        assert_eq!(
            by_rule["D-DEMO-HH"],
            (2, Amount::whole(-10)),
            "two model households short"
        );
        assert_eq!(by_rule["D-OFFICE"], (1, Amount::whole(-10)), "−10 per time");
        assert_eq!(s.deductions, Amount::whole(-70), "total deductions");
        assert_eq!(s.net, Amount::whole(1_430), "1000 + 500 − 70");
        assert_eq!(s.by_item["HH_WHITE_LITTER"], Amount::whole(-10), "by item");
        assert_eq!(
            s.by_item["ROAD_PATROL_LAPSE"],
            Amount::whole(-20),
            "by item"
        );

        // Exposure: the month's subsidy is gone and cadres lose half their performance pay.
        let events = [ExternalEvent {
            kind: ExternalEventKind::Exposure,
            date: NaiveDate::from_ymd_opt(2026, 11, 9).expect("valid"),
            doc_ref: "市暗访通报".into(),
        }];
        let exposed = score_village_month(
            &scheme,
            &VillageMonth {
                events: &events,
                ..month.clone()
            },
        );
        assert!(exposed.subsidy_forfeited, "subsidy forfeited");
        assert_eq!(exposed.cadre_pay_cut_pct, 50, "cadres lose 50 %");
        assert_eq!(
            exposed.net,
            Amount::whole(-70),
            "nothing left of the base, deductions still listed"
        );

        // A village off the county road owes no model households.
        let inland = village(false);
        let s = score_village_month(
            &scheme,
            &VillageMonth {
                village: &inland,
                events: &[],
                ..month
            },
        );
        assert!(
            !s.applied.iter().any(|a| a.rule == "D-DEMO-HH"),
            "no shortfall off the county road"
        );
    }

    #[test]
    fn scheme_t_windows() {
        let Scheme {
            kind: SchemeKind::Yuan(t),
            ..
        } = Scheme::township_monthly_yuan()
        else {
            panic!("T is yuan")
        };
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).expect("valid");
        assert!(
            t.self_eval_on_time(d(15)) && !t.self_eval_on_time(d(16)),
            "16日前 means by the 15th"
        );
        assert!(
            !t.in_recheck_window(d(15))
                && t.in_recheck_window(d(16))
                && t.in_recheck_window(d(19))
                && !t.in_recheck_window(d(20)),
            "16th–19th"
        );
    }

    /// Scheme C: half-year = 70 % × mean of three checks + 20 % tasks + 10 % satisfaction.
    #[test]
    fn scheme_c_worked_half_year() {
        let Scheme {
            kind: SchemeKind::Points(c),
            ..
        } = Scheme::county_halfyear_100()
        else {
            panic!("C is points")
        };
        let t = |n| TownshipId::from_uuid(Uuid::from_u128(n));
        let a = |n| Amount::whole(n);
        // (checks, tasks, satisfaction, expected total in hundredths)
        let cases = [
            (vec![a(80), a(90), a(85)], a(90), a(80), 8550),
            (vec![a(100), a(100), a(100)], a(100), a(100), 10_000),
            (vec![a(92), a(88), a(90)], a(75), a(95), 8750),
            // A missed check counts as zero: mean(70, 70, 0) = 46.67.
            (vec![a(70), a(70)], a(80), a(80), 5667),
            // Out-of-range inputs are clamped to 0–100.
            (vec![a(120), a(-5), a(90)], a(100), a(100), 7433),
        ];
        for (i, (checks, tasks, sat, want)) in cases.into_iter().enumerate() {
            let s = score_half_year(
                &c,
                &HalfYearInput {
                    township: t(i as u128),
                    checks: checks.clone(),
                    tasks,
                    satisfaction: sat,
                },
            );
            assert_eq!(s.total, Amount(want), "case {i}: checks {checks:?}");
        }
    }

    #[test]
    fn scheme_c_settlement_and_escalation() {
        let Scheme {
            kind: SchemeKind::Points(c),
            ..
        } = Scheme::county_halfyear_100()
        else {
            panic!("C is points")
        };
        let t = |n| TownshipId::from_uuid(Uuid::from_u128(n));
        let ranked = rank(&[
            (t(1), Amount(8550)),
            (t(2), Amount(9100)),
            (t(3), Amount(7000)),
            (t(4), Amount(8550)),
        ]);
        assert_eq!(
            ranked.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![1, 2, 2, 4],
            "ties share a rank"
        );
        let money: BTreeMap<_, _> = settle_half_year(&c, &ranked).into_iter().collect();
        assert_eq!(money[&t(2)], Amount::whole(50_000), "first gets 50,000");
        assert_eq!(money[&t(3)], Amount::whole(-50_000), "last pays 50,000");
        assert_eq!(
            money.values().copied().sum::<Amount>(),
            Amount::ZERO,
            "the money moves from last to first"
        );
        assert_eq!(
            escalation(1),
            Some(EscalationStep::Statement),
            "first time last"
        );
        assert_eq!(
            escalation(2),
            Some(EscalationStep::Interview),
            "second time in a row"
        );
        assert_eq!(
            escalation(5),
            Some(EscalationStep::Accountability),
            "third or more"
        );
    }

    proptest::proptest! {
        /// Whatever an inspector answers, a points score stays within 0..=full and a yuan score
        /// is never positive; deductions never exceed what the template allows.
        #[test]
        fn inspection_scores_stay_in_range(answers in proptest::collection::vec((0usize..12, 0u8..3, 0u32..50), 0..30)) {
            let t = presets::household_sanbao();
            let hh = Subject { kind: SubjectKind::Household, id: Uuid::from_u128(10) };
            let mut insp = inspection(&t, hh, VillageId::from_uuid(Uuid::from_u128(1)), &[]);
            for (i, o, n) in answers {
                let code = &t.items[i].item_code;
                let outcome = [Outcome::Pass, Outcome::Fail, Outcome::NotApplicable][o as usize];
                insp.answer(ItemResult { outcome, count: n, ..ItemResult::pass(code) });
            }
            let s = score_inspection(&t, &insp);
            proptest::prop_assert!(s.score >= Amount::ZERO && s.score <= Amount::whole(100));
            let failures = insp.failures().count();
            let sum_items: Amount = t.items.iter().filter(|i| insp.result(&i.item_code).is_some_and(|r| r.outcome == Outcome::Fail)).map(|i| i.deduction).sum();
            proptest::prop_assert_eq!(Amount::whole(100) - s.score, sum_items, "{} failures", failures);

            let r = presets::village_recheck();
            let v = Subject { kind: SubjectKind::AdminVillage, id: Uuid::from_u128(1) };
            let mut vi = inspection(&r, v, VillageId::from_uuid(Uuid::from_u128(1)), &[]);
            for (i, o, n) in insp.results.iter().enumerate().map(|(k, res)| (k % r.items.len(), res.outcome, res.count)) {
                vi.answer(ItemResult { outcome: o, count: n, ..ItemResult::pass(&r.items[i].item_code) });
            }
            proptest::prop_assert!(score_inspection(&r, &vi).score <= Amount::ZERO);
        }
    }

    #[test]
    fn scheme_round_trips_as_config() {
        for s in Scheme::presets() {
            let json = serde_json::to_string(&s).expect("serialises");
            let back: Scheme = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, s, "scheme {} is plain configuration", s.code);
        }
    }
}
