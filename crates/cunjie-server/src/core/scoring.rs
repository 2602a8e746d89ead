//! Rankings from synced facts, under a named and versioned scheme.
//!
//! A period is a month (`2026-11`), a quarter (`2026-Q4`) or a half-year (`2026-H2`). Months
//! run from midnight to midnight China time (UTC+8), by the device time of each inspection.
//!
//! What counts toward a village's rank in a month (the rest is shown as ad hoc):
//! - the township's re-check (`TOWNSHIP_RECHECK`) dated in the scheme's window (16th–19th);
//! - for each household in the month's random sample, its latest household inspection of the
//!   month (one visit per sampled household, so inspecting a household twice does not double
//!   its weight);
//! - external events (commendations, exposures) recorded by the office.
//!
//! Facts a reviewer's correction superseded and facts voided by an upheld appeal never count.
//! The village's self-evaluation (`VILLAGE_SELF_EVAL`, on time by the 15th) is scored the same
//! way on its own and shown beside the re-check.
//!
//! Scheme T (yuan): a month's score is the net of the yuan rules; a quarter or half-year is the
//! sum of its months. Scheme C (百分制): a check is the mean score of the counted household
//! inspections of one month (quarter view) or of two months (half-year view: three bimonthly
//! checks); the total is 70 % checks + 20 % assigned tasks + 10 % satisfaction, the last two
//! entered by the office per village and period (missing ones count as 0 and are flagged).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use cunjie_domain::Amount;
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{Inspection, InspectionType, RectificationState};
use cunjie_domain::ids::{HouseholdId, InspectionId, TemplateId, TownshipId, VillageId};
use cunjie_domain::place::{AdminVillage, Household};
use cunjie_domain::scoring::{
    ExternalEvent, ExternalEventKind, PointsScheme, RuleApplied, Scheme, SchemeKind, YuanScheme,
    rank, score_inspection, score_village_month,
};
use cunjie_domain::template::{ScoreUnit, Template};
use serde::{Deserialize, Serialize};

use super::{append_change, audit, random_hex, scope, sha256_hex, ts};
use crate::store::{StorageError, Tx, int, opt_text, text, vals};
use cunjie_protocol::v1::EntityKind;

/// The scheme a township ranks by when none is named.
pub const DEFAULT_SCHEME: &str = "TOWNSHIP_MONTHLY_YUAN";

/// Share of each village's households drawn into the monthly sample, percent.
pub const SAMPLE_PCT: usize = 20;
/// At least this many households per village are sampled (or all, if fewer).
pub const SAMPLE_MIN: usize = 5;

/// What went wrong computing or recording a ranking.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// The period text is not a month, quarter or half-year.
    #[error(
        "期间 '{0}' 无法识别：请用 2026-11（月）、2026-Q4（季度）或 2026-H2（半年） (period not understood)"
    )]
    BadPeriod(String),
    /// No such scheme in the township.
    #[error(
        "没有方案 {0}：请用 TOWNSHIP_MONTHLY_YUAN 或 COUNTY_HALFYEAR_100，或先发布该方案 (no such scheme)"
    )]
    UnknownScheme(String),
    /// A scheme that does not add up.
    #[error("方案无效：{0} (the scheme is not valid; fix it and publish again)")]
    InvalidScheme(String),
    /// Unknown village, appeal or fact.
    #[error("找不到 {0} (not found; check the id)")]
    NotFound(String),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// Storage.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<serde_json::Error> for ScoringError {
    fn from(e: serde_json::Error) -> Self {
        Self::Storage(StorageError::Json(e))
    }
}

impl ScoringError {
    /// The stable error code (`cunjie_protocol::v1::codes`).
    pub fn code(&self) -> &'static str {
        use cunjie_protocol::v1::codes;
        match self {
            Self::BadPeriod(_) | Self::InvalidScheme(_) | Self::Invalid(_) => codes::BAD_REQUEST,
            Self::UnknownScheme(_) | Self::NotFound(_) => codes::NOT_FOUND,
            Self::Storage(_) => codes::INTERNAL,
        }
    }
}

/// A ranking period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKey {
    /// A calendar month.
    Month {
        /// Year.
        year: i32,
        /// 1–12.
        month: u32,
    },
    /// A quarter (Q1 = January–March).
    Quarter {
        /// Year.
        year: i32,
        /// 1–4.
        quarter: u32,
    },
    /// A half-year (H1 = January–June).
    Half {
        /// Year.
        year: i32,
        /// 1–2.
        half: u32,
    },
}

impl FromStr for PeriodKey {
    type Err = ScoringError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScoringError::BadPeriod(s.chars().take(40).collect());
        let (y, rest) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        let num = |t: &str, max: u32| -> Result<u32, ScoringError> {
            let n: u32 = t.parse().map_err(|_| bad())?;
            if (1..=max).contains(&n) && !t.starts_with('+') {
                Ok(n)
            } else {
                Err(bad())
            }
        };
        if let Some(q) = rest.strip_prefix(['Q', 'q']) {
            Ok(Self::Quarter {
                year,
                quarter: num(q, 4)?,
            })
        } else if let Some(h) = rest.strip_prefix(['H', 'h']) {
            Ok(Self::Half {
                year,
                half: num(h, 2)?,
            })
        } else if rest.len() == 2 {
            Ok(Self::Month {
                year,
                month: num(rest, 12)?,
            })
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Month { year, month } => write!(f, "{year}-{month:02}"),
            Self::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Self::Half { year, half } => write!(f, "{year}-H{half}"),
        }
    }
}

impl PeriodKey {
    /// The months it covers, in order.
    pub fn months(self) -> Vec<(i32, u32)> {
        match self {
            Self::Month { year, month } => vec![(year, month)],
            Self::Quarter { year, quarter } => {
                (1..=3).map(|i| (year, (quarter - 1) * 3 + i)).collect()
            }
            Self::Half { year, half } => (1..=6).map(|i| (year, (half - 1) * 6 + i)).collect(),
        }
    }

    /// The period of the same length just before.
    pub fn prev(self) -> Self {
        match self {
            Self::Month { year, month: 1 } => Self::Month {
                year: year - 1,
                month: 12,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month - 1,
            },
            Self::Quarter { year, quarter: 1 } => Self::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter - 1,
            },
            Self::Half { year, half: 1 } => Self::Half {
                year: year - 1,
                half: 2,
            },
            Self::Half { year, .. } => Self::Half { year, half: 1 },
        }
    }

    /// Chinese label, e.g. 2026年11月, 2026年第四季度, 2026年下半年.
    pub fn label_zh(self) -> String {
        const Q: [&str; 4] = ["一", "二", "三", "四"];
        match self {
            Self::Month { year, month } => format!("{year}年{month}月"),
            Self::Quarter { year, quarter } => {
                format!("{year}年第{}季度", Q[(quarter as usize - 1).min(3)])
            }
            Self::Half { year, half: 1 } => format!("{year}年上半年"),
            Self::Half { year, .. } => format!("{year}年下半年"),
        }
    }
}

/// China Standard Time.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The first instant of a month in China time, as the server stores instants.
fn month_start(year: i32, month: u32) -> String {
    let d = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let t = cst()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc));
    ts(t)
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

/// The China-time date of an instant.
fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&cst()).date_naive()
}

/// One village's line in a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageRank {
    /// Village id.
    pub village: VillageId,
    /// Village code.
    pub village_code: String,
    /// 村名.
    pub village_name: String,
    /// The score that ranks (yuan net, or points 0–100).
    pub score: Amount,
    /// Rank from 1; equal scores share a rank.
    pub rank: u32,
    /// Score in the period before, if it had any.
    pub prev_score: Option<Amount>,
    /// Rank in the period before.
    pub prev_rank: Option<u32>,
    /// Places gained since the period before (positive = moved up).
    pub rank_change: Option<i64>,
    /// Deductions by standard item code (negative yuan or points).
    pub by_item: BTreeMap<String, Amount>,
    /// Scheme T rules that applied, in scheme order.
    pub applied: Vec<RuleApplied>,
    /// 自评: the self-evaluation scored the same way, if filed on time.
    pub self_eval: Option<Amount>,
    /// 复查: the township's score from the counted inspections.
    pub recheck: Option<Amount>,
    /// 自评 − 复查 (positive: the village rated itself higher than the township did).
    pub difference: Option<Amount>,
    /// Inspections that counted.
    pub counted: u32,
    /// Inspections shown separately (not sampled, outside the window, ad hoc).
    pub ad_hoc: u32,
    /// Households sampled over the period.
    pub sampled: u32,
    /// Sampled households with a counted inspection.
    pub sampled_inspected: u32,
    /// Scheme C: the checks (each a mean of inspection scores, 0–100).
    pub checks: Vec<Amount>,
    /// Scheme C: 交办工作 score entered by the office.
    pub tasks: Option<Amount>,
    /// Scheme C: 群众满意度 score entered by the office.
    pub satisfaction: Option<Amount>,
    /// Whether the base subsidy was forfeited by an exposure (Scheme T).
    pub subsidy_forfeited: bool,
    /// Notes in Chinese (missing inputs, no sampled inspection …).
    pub notes: Vec<String>,
}

/// A township's ranking for a period under one scheme version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranking {
    /// Township id.
    pub township: TownshipId,
    /// Period, e.g. `2026-11`.
    pub period: String,
    /// Period in Chinese.
    pub period_zh: String,
    /// Scheme code.
    pub scheme_code: String,
    /// Scheme version used.
    pub scheme_version: u32,
    /// Scheme name in Chinese.
    pub scheme_name_zh: String,
    /// Scheme name in English.
    pub scheme_name_en: String,
    /// `yuan` or `points`.
    pub unit: String,
    /// Villages, best first.
    pub rows: Vec<VillageRank>,
    /// SHA-256 of the rows: equal digests, equal numbers.
    pub digest: String,
    /// When this result was stored, if it was.
    pub computed_at: Option<String>,
    /// When it was published, if it was.
    pub published_at: Option<String>,
    /// Published, and the facts have changed since (late syncs): the published numbers are
    /// shown until the office recomputes.
    #[serde(default)]
    pub stale: bool,
}

/// A household on the 红黑榜.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardHousehold {
    /// Household id.
    pub household: HouseholdId,
    /// 户主.
    pub head_name: String,
    /// 门牌号.
    pub door_plate: String,
    /// 村名.
    pub village_name: String,
    /// Latest inspection score of the month (points).
    pub score: Amount,
    /// Why it is on the list, in Chinese.
    pub reason: String,
}

/// A month's 红黑榜 of villages and households.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedBlack {
    /// The month.
    pub month: String,
    /// 红榜 villages (the top quarter of the ranking, at least one).
    pub red_villages: Vec<VillageRank>,
    /// 黑榜 villages (the bottom quarter, at least one, never also on the red list).
    pub black_villages: Vec<VillageRank>,
    /// 红榜 households: full marks in every inspection of the month.
    pub red_households: Vec<BoardHousehold>,
    /// 黑榜 households: a score under 60, a 一票否决 item failed, or an overdue rectification.
    pub black_households: Vec<BoardHousehold>,
}

/// Most households listed on each board.
const BOARD_MAX: usize = 20;
/// A household inspection under this many points puts the household on the black list.
const BLACK_BELOW: Amount = Amount::whole(60);

// ---------------------------------------------------------------------------------------------
// Schemes

fn preset(code: &str) -> Option<Scheme> {
    Scheme::presets().into_iter().find(|s| s.code == code)
}

fn check_scheme(s: &Scheme) -> Result<(), ScoringError> {
    if s.code.trim().is_empty() || s.code.len() > 64 {
        return Err(ScoringError::InvalidScheme(
            "方案代码不能为空且不超过64字符".into(),
        ));
    }
    match &s.kind {
        SchemeKind::Points(p) => {
            if p.checks_pct + p.tasks_pct + p.satisfaction_pct != 100 {
                return Err(ScoringError::InvalidScheme(format!(
                    "三部分权重之和须为100%，现为 {}%",
                    p.checks_pct + p.tasks_pct + p.satisfaction_pct
                )));
            }
            if p.full <= Amount::ZERO || p.checks == 0 {
                return Err(ScoringError::InvalidScheme("满分和检查次数须大于0".into()));
            }
        }
        SchemeKind::Yuan(y) => {
            if !(1..=28).contains(&y.self_eval_last_day)
                || !(1..=31).contains(&y.recheck_first_day)
                || y.recheck_first_day > y.recheck_last_day
                || y.recheck_last_day > 31
            {
                return Err(ScoringError::InvalidScheme(
                    "自评截止日或复查窗口无效".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A scheme version as stored (the preset is stored as version 1 on first use).
pub(crate) fn scheme(
    tx: &mut dyn Tx,
    township: TownshipId,
    code: &str,
    version: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Scheme, ScoringError> {
    let t = township.to_string();
    let rows = match version {
        Some(v) => tx.query(
            "SELECT row_json FROM scheme WHERE township_id = $1 AND code = $2 AND version = $3",
            vals![&t, code, v],
        )?,
        None => tx.query(
            "SELECT row_json FROM scheme WHERE township_id = $1 AND code = $2 ORDER BY version DESC LIMIT 1",
            vals![&t, code],
        )?,
    };
    if let Some(r) = rows.first() {
        return Ok(serde_json::from_str(&text(r, 0, "row_json")?)?);
    }
    match (preset(code), version) {
        (Some(p), None | Some(1)) => {
            store_scheme(tx, township, &p, "preset", now)?;
            Ok(p)
        }
        _ => Err(ScoringError::UnknownScheme(code.chars().take(64).collect())),
    }
}

fn store_scheme(
    tx: &mut dyn Tx,
    township: TownshipId,
    s: &Scheme,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ScoringError> {
    let json = serde_json::to_string(s)?;
    let at = ts(now);
    tx.exec(
        "INSERT INTO scheme (township_id, code, version, created_at, created_by, row_json) VALUES ($1, $2, $3, $4, $5, $6)",
        vals![township.to_string(), &s.code, s.version, &at, by, &json],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &at,
        by,
        "scheme_published",
        &format!("{}/v{}", s.code, s.version),
        &serde_json::json!({"code": s.code, "version": s.version, "sha256": sha256_hex(&json)}),
    )?;
    Ok(())
}

/// Publishes an edited scheme as the next version of its code; earlier versions stay, and
/// results computed under them keep them. Returns the version.
pub(crate) fn publish_scheme(
    tx: &mut dyn Tx,
    township: TownshipId,
    edited: &Scheme,
    by: &str,
    now: DateTime<Utc>,
) -> Result<u32, ScoringError> {
    check_scheme(edited)?;
    // Make sure the preset's version 1 exists before a version 2 is written.
    if preset(&edited.code).is_some() {
        let _ = scheme(tx, township, &edited.code, None, now)?;
    }
    let latest = tx
        .query(
            "SELECT max(version) FROM scheme WHERE township_id = $1 AND code = $2",
            vals![township.to_string(), &edited.code],
        )?
        .first()
        .and_then(|r| r.first().and_then(crate::store::Value::int))
        .unwrap_or(0);
    let mut s = edited.clone();
    s.version = u32::try_from(latest + 1).unwrap_or(u32::MAX);
    store_scheme(tx, township, &s, by, now)?;
    Ok(s.version)
}

/// The latest version of every scheme the township has, presets included.
pub(crate) fn schemes(
    tx: &mut dyn Tx,
    township: TownshipId,
    now: DateTime<Utc>,
) -> Result<Vec<Scheme>, ScoringError> {
    let mut out = Vec::new();
    for p in Scheme::presets() {
        out.push(scheme(tx, township, &p.code, None, now)?);
    }
    let codes = tx.query(
        "SELECT DISTINCT code FROM scheme WHERE township_id = $1 ORDER BY code",
        vals![township.to_string()],
    )?;
    for r in codes {
        let code = text(&r, 0, "code")?;
        if preset(&code).is_none() {
            out.push(scheme(tx, township, &code, None, now)?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The monthly sample

/// A deterministic generator from a seed text (xorshift64* over the seed's SHA-256).
struct SeededRng(u64);

impl SeededRng {
    fn new(seed: &str) -> Self {
        let h = sha256_hex(seed);
        Self(u64::from_str_radix(&h[..16], 16).unwrap_or(1) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(x % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// How many of `n` households a village samples.
pub fn sample_size(n: usize) -> usize {
    (n * SAMPLE_PCT).div_ceil(100).max(SAMPLE_MIN).min(n)
}

/// Draws one village's sample: `sample_size` households spread over its groups in proportion
/// to their size (largest remainder), chosen within each group by a shuffle seeded with the
/// township, month and village, so anyone can redraw it and get the same households.
pub(crate) fn draw_village(seed: &str, households: &[&Household]) -> Vec<HouseholdId> {
    let total = households.len();
    let want = sample_size(total);
    let mut by_group: BTreeMap<String, Vec<HouseholdId>> = BTreeMap::new();
    for h in households {
        by_group.entry(h.group.to_string()).or_default().push(h.id);
    }
    // Proportional allocation, largest remainder, ties by group id.
    let mut alloc: Vec<(String, usize, usize)> = by_group
        .iter()
        .map(|(g, hs)| {
            let exact = hs.len() * want;
            (g.clone(), exact / total.max(1), exact % total.max(1))
        })
        .collect();
    let mut left = want - alloc.iter().map(|a| a.1).sum::<usize>();
    let mut order: Vec<usize> = (0..alloc.len()).collect();
    order.sort_by(|&a, &b| {
        alloc[b]
            .2
            .cmp(&alloc[a].2)
            .then(alloc[a].0.cmp(&alloc[b].0))
    });
    for i in order {
        if left == 0 {
            break;
        }
        if alloc[i].1 < by_group[&alloc[i].0].len() {
            alloc[i].1 += 1;
            left -= 1;
        }
    }
    let mut out = Vec::with_capacity(want);
    for (g, n, _) in alloc {
        let mut hs = by_group[&g].clone();
        hs.sort();
        let mut rng = SeededRng::new(&format!("{seed}/{g}"));
        // Partial Fisher–Yates: the first n are the sample.
        for i in 0..n.min(hs.len()) {
            let j = i + rng.below(hs.len() - i);
            hs.swap(i, j);
        }
        out.extend(hs.into_iter().take(n));
    }
    out.sort();
    out
}

/// The month's sample, drawn and stored the first time it is asked for. The draw is
/// deterministic, so drawing late gives the same households as drawing on the 1st.
pub(crate) fn ensure_sample(
    tx: &mut dyn Tx,
    township: TownshipId,
    year: i32,
    month: u32,
    households: &[Household],
    now: DateTime<Utc>,
) -> Result<HashSet<HouseholdId>, ScoringError> {
    let t = township.to_string();
    let m = format!("{year}-{month:02}");
    let rows = tx.query(
        "SELECT household_id FROM sample WHERE township_id = $1 AND month = $2",
        vals![&t, &m],
    )?;
    if !rows.is_empty() {
        return rows
            .iter()
            .map(|r| {
                text(r, 0, "household_id")?
                    .parse()
                    .map_err(|_| ScoringError::Storage(StorageError::Column("household_id")))
            })
            .collect();
    }
    let mut by_village: BTreeMap<VillageId, Vec<&Household>> = BTreeMap::new();
    for h in households {
        by_village.entry(h.village).or_default().push(h);
    }
    let at = ts(now);
    let mut out = HashSet::new();
    let mut sizes = serde_json::Map::new();
    for (v, hs) in &by_village {
        let seed = format!("{t}/{m}/{v}");
        let groups: HashMap<HouseholdId, String> =
            hs.iter().map(|h| (h.id, h.group.to_string())).collect();
        let drawn = draw_village(&seed, hs);
        sizes.insert(v.to_string(), drawn.len().into());
        // The village's phones get the sample with their next pull.
        let row = cunjie_protocol::v1::SampleRow {
            village: *v,
            month: m.clone(),
            households: drawn.clone(),
        };
        append_change(
            tx,
            &scope::village(*v),
            EntityKind::Sample.as_str(),
            &cunjie_protocol::v1::sample_entity_id(*v, &m).to_string(),
            1,
            Some(&serde_json::to_string(&row)?),
        )?;
        for h in drawn {
            tx.exec(
                "INSERT INTO sample (township_id, month, village_id, group_id, household_id, seed, drawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vals![&t, &m, v.to_string(), groups.get(&h).cloned().unwrap_or_default(), h.to_string(), &seed, &at],
            )?;
            out.insert(h);
        }
    }
    audit::append(
        tx,
        &t,
        &at,
        "system",
        "sample_drawn",
        &m,
        &serde_json::json!({"per_village": sizes, "pct": SAMPLE_PCT, "min": SAMPLE_MIN}),
    )?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// What a township's rankings read besides the inspections, loaded once per request.
pub(crate) struct Base {
    villages: Vec<AdminVillage>,
    households: Vec<Household>,
    templates: HashMap<(TemplateId, u32), Template>,
    events: Vec<(VillageId, ExternalEvent)>,
    /// (village, period) → (tasks, satisfaction).
    village_inputs: HashMap<(VillageId, String), (Amount, Amount)>,
}

/// The base and one period's inspections.
struct Inputs<'b> {
    base: &'b Base,
    /// Inspections of the period that may count: not superseded, not voided; by started_at.
    inspections: Vec<Inspection>,
}

impl std::ops::Deref for Inputs<'_> {
    type Target = Base;
    fn deref(&self) -> &Base {
        self.base
    }
}

fn parse_rows<T: serde::de::DeserializeOwned>(
    rows: Vec<Vec<crate::store::Value>>,
) -> Result<Vec<T>, ScoringError> {
    rows.iter()
        .map(|r| Ok(serde_json::from_str(&text(r, 0, "row_json")?)?))
        .collect()
}

fn load_base(tx: &mut dyn Tx, township: TownshipId) -> Result<Base, ScoringError> {
    let t = township.to_string();
    let mut villages: Vec<AdminVillage> = parse_rows(tx.query(
        "SELECT row_json FROM record WHERE entity = 'village' AND township_id = $1",
        vals![&t],
    )?)?;
    villages.sort_by(|a, b| a.code.cmp(&b.code).then(a.id.cmp(&b.id)));
    let households: Vec<Household> = parse_rows(tx.query(
        "SELECT row_json FROM record WHERE entity = 'household' AND township_id = $1",
        vals![&t],
    )?)?;
    let templates: Vec<Template> = parse_rows(tx.query(
        "SELECT row_json FROM template WHERE township_id = $1",
        vals![&t],
    )?)?;
    let templates = templates
        .into_iter()
        .map(|tp| ((tp.id, tp.version), tp))
        .collect();
    let (events, village_inputs) = office_inputs(tx, &t)?;
    Ok(Base {
        villages,
        households,
        templates,
        events,
        village_inputs,
    })
}

fn load<'b>(
    tx: &mut dyn Tx,
    township: TownshipId,
    base: &'b Base,
    months: &[(i32, u32)],
) -> Result<Inputs<'b>, ScoringError> {
    let t = township.to_string();
    let (fy, fm) = months.first().copied().unwrap_or((2000, 1));
    let (ly, lm) = months.last().copied().unwrap_or((2000, 1));
    let (ny, nm) = next_month(ly, lm);
    let rows = tx.query(
        "SELECT row_json FROM fact WHERE kind = 'inspection' AND township_id = $1 AND device_time >= $2 AND device_time < $3 ORDER BY device_time, id",
        vals![&t, month_start(fy, fm), month_start(ny, nm)],
    )?;
    let all: Vec<Inspection> = parse_rows(rows)?;
    // A correction is made after what it corrects, possibly in a later month: look at
    // everything from the period's start on.
    let superseded: HashSet<String> = tx
        .query(
            "SELECT row_json FROM fact WHERE kind = 'inspection' AND township_id = $1 AND device_time >= $2 AND row_json LIKE '%\"supersedes\":\"%'",
            vals![&t, month_start(fy, fm)],
        )?
        .iter()
        .filter_map(|r| {
            let v: serde_json::Value = serde_json::from_str(&text(r, 0, "row_json").ok()?).ok()?;
            v.get("supersedes")?.as_str().map(str::to_owned)
        })
        .collect();
    let mut voided: HashSet<String> = HashSet::new();
    for r in tx.query(
        "SELECT facts FROM appeal WHERE township_id = $1 AND outcome = 'upheld'",
        vals![&t],
    )? {
        let ids: Vec<String> = serde_json::from_str(&text(&r, 0, "facts")?)?;
        voided.extend(ids);
    }
    let inspections = all
        .into_iter()
        .filter(|i| {
            let id = i.id.to_string();
            !superseded.contains(&id) && !voided.contains(&id)
        })
        .collect();
    Ok(Inputs { base, inspections })
}

/// The office's external events and Scheme C inputs.
#[allow(clippy::type_complexity, reason = "two lookups, named at the use")]
fn office_inputs(
    tx: &mut dyn Tx,
    t: &str,
) -> Result<
    (
        Vec<(VillageId, ExternalEvent)>,
        HashMap<(VillageId, String), (Amount, Amount)>,
    ),
    ScoringError,
> {
    let mut events = Vec::new();
    for r in tx.query(
        "SELECT village_id, kind, day, doc_ref FROM external_event WHERE township_id = $1",
        vals![t],
    )? {
        let village: VillageId = text(&r, 0, "village_id")?
            .parse()
            .map_err(|_| StorageError::Column("village_id"))?;
        let kind: ExternalEventKind =
            serde_json::from_value(serde_json::Value::String(text(&r, 1, "kind")?))?;
        let date = NaiveDate::parse_from_str(&text(&r, 2, "day")?, "%Y-%m-%d")
            .map_err(|_| StorageError::Column("day"))?;
        events.push((
            village,
            ExternalEvent {
                kind,
                date,
                doc_ref: text(&r, 3, "doc_ref")?,
            },
        ));
    }
    let mut village_inputs = HashMap::new();
    for r in tx.query(
        "SELECT village_id, period, tasks, satisfaction FROM village_input WHERE township_id = $1",
        vals![t],
    )? {
        let village: VillageId = text(&r, 0, "village_id")?
            .parse()
            .map_err(|_| StorageError::Column("village_id"))?;
        village_inputs.insert(
            (village, text(&r, 1, "period")?),
            (
                Amount(int(&r, 2, "tasks")?),
                Amount(int(&r, 3, "satisfaction")?),
            ),
        );
    }
    Ok((events, village_inputs))
}

/// A village's inspections of one month, sorted into what counts and what does not.
#[derive(Default)]
struct MonthFacts<'a> {
    counted: Vec<&'a Inspection>,
    /// The counted household inspections (latest per sampled household).
    household: Vec<&'a Inspection>,
    self_eval: Vec<&'a Inspection>,
    ad_hoc: u32,
    sampled: u32,
    sampled_inspected: u32,
}

fn month_facts<'a>(
    scheme_t: Option<&YuanScheme>,
    inputs: &'a Inputs<'_>,
    village: VillageId,
    year: i32,
    month: u32,
    sample: &HashSet<HouseholdId>,
    sampled_here: u32,
) -> MonthFacts<'a> {
    let (first, last) = scheme_t.map_or((16, 19), |s| (s.recheck_first_day, s.recheck_last_day));
    let self_last = scheme_t.map_or(15, |s| s.self_eval_last_day);
    let mut out = MonthFacts {
        sampled: sampled_here,
        ..MonthFacts::default()
    };
    let mut latest: BTreeMap<uuid::Uuid, &Inspection> = BTreeMap::new();
    for i in &inputs.inspections {
        if i.village != village {
            continue;
        }
        let d = china_date(i.started_at);
        if d.year() != year || d.month() != month {
            continue;
        }
        match i.kind {
            InspectionType::TownshipRecheck if (first..=last).contains(&d.day()) => {
                out.counted.push(i);
            }
            InspectionType::VillageSelfEval if d.day() <= self_last => out.self_eval.push(i),
            InspectionType::HouseholdMonthly
                if i.subject.kind == SubjectKind::Household
                    && sample.contains(&HouseholdId::from_uuid(i.subject.id)) =>
            {
                // Later inspections of the same household replace earlier ones.
                if latest.insert(i.subject.id, i).is_some() {
                    out.ad_hoc += 1;
                }
            }
            _ => out.ad_hoc += 1,
        }
    }
    out.sampled_inspected = u32::try_from(latest.len()).unwrap_or(u32::MAX);
    out.household = latest.into_values().collect();
    out.counted.extend(out.household.iter().copied());
    out
}

// ---------------------------------------------------------------------------------------------
// Computing

struct Computed {
    rows: Vec<VillageRank>,
}

fn yuan_month(
    scheme: &YuanScheme,
    inputs: &Inputs<'_>,
    village: &AdminVillage,
    households: &BTreeMap<HouseholdId, Household>,
    year: i32,
    month: u32,
    f: &MonthFacts<'_>,
) -> (cunjie_domain::scoring::VillageMonthScore, Option<Amount>) {
    let events: Vec<ExternalEvent> = inputs
        .events
        .iter()
        .filter(|(v, e)| *v == village.id && e.date.year() == year && e.date.month() == month)
        .map(|(_, e)| e.clone())
        .collect();
    let demo = u32::try_from(
        households
            .values()
            .filter(|h| h.village == village.id && h.is_demo_household)
            .count(),
    )
    .unwrap_or(u32::MAX);
    let counted: Vec<Inspection> = f.counted.iter().map(|i| (*i).clone()).collect();
    let score = score_village_month(
        scheme,
        &cunjie_domain::scoring::VillageMonth {
            village,
            inspections: &counted,
            households,
            demo_households: demo,
            events: &events,
        },
    );
    let self_eval = (!f.self_eval.is_empty()).then(|| {
        let own: Vec<Inspection> = f.self_eval.iter().map(|i| (*i).clone()).collect();
        score_village_month(
            scheme,
            &cunjie_domain::scoring::VillageMonth {
                village,
                inspections: &own,
                households,
                demo_households: demo,
                events: &events,
            },
        )
        .net
    });
    (score, self_eval)
}

/// Mean points of household inspections under points templates, with per-item deductions.
fn points_check(
    inputs: &Inputs<'_>,
    facts: &[&Inspection],
    by_item: &mut BTreeMap<String, Amount>,
) -> Option<Amount> {
    let mut scores = Vec::new();
    for i in facts {
        let Some(t) = inputs.templates.get(&(i.template.id, i.template.version)) else {
            continue;
        };
        if t.unit != ScoreUnit::Points {
            continue;
        }
        let s = score_inspection(t, i);
        for d in &s.deductions {
            *by_item.entry(d.item_code.clone()).or_default() += -d.amount;
        }
        scores.push(s.score);
    }
    (!scores.is_empty()).then(|| Amount::mean(&scores))
}

#[allow(
    clippy::too_many_lines,
    reason = "one pass per scheme kind, kept together"
)]
fn compute(
    tx: &mut dyn Tx,
    township: TownshipId,
    scheme: &Scheme,
    period: PeriodKey,
    now: DateTime<Utc>,
    base: &Base,
) -> Result<Computed, ScoringError> {
    let months = period.months();
    let inputs = load(tx, township, base, &months)?;
    let households: BTreeMap<HouseholdId, Household> = inputs
        .households
        .iter()
        .map(|h| (h.id, h.clone()))
        .collect();
    let mut samples = Vec::new();
    for &(y, m) in &months {
        samples.push(ensure_sample(tx, township, y, m, &inputs.households, now)?);
    }
    let sampled_in = |sample: &HashSet<HouseholdId>, v: VillageId| -> u32 {
        u32::try_from(
            sample
                .iter()
                .filter(|h| households.get(h).is_some_and(|x| x.village == v))
                .count(),
        )
        .unwrap_or(u32::MAX)
    };
    let yuan = match &scheme.kind {
        SchemeKind::Yuan(y) => Some(y),
        SchemeKind::Points(_) => None,
    };
    let mut rows = Vec::new();
    for v in &inputs.villages {
        let mut row = VillageRank {
            village: v.id,
            village_code: v.code.clone(),
            village_name: v.name.clone(),
            score: Amount::ZERO,
            rank: 0,
            prev_score: None,
            prev_rank: None,
            rank_change: None,
            by_item: BTreeMap::new(),
            applied: Vec::new(),
            self_eval: None,
            recheck: None,
            difference: None,
            counted: 0,
            ad_hoc: 0,
            sampled: 0,
            sampled_inspected: 0,
            checks: Vec::new(),
            tasks: None,
            satisfaction: None,
            subsidy_forfeited: false,
            notes: Vec::new(),
        };
        let month_facts: Vec<MonthFacts<'_>> = months
            .iter()
            .zip(&samples)
            .map(|(&(y, m), s)| month_facts(yuan, &inputs, v.id, y, m, s, sampled_in(s, v.id)))
            .collect();
        for f in &month_facts {
            row.counted += u32::try_from(f.counted.len()).unwrap_or(u32::MAX);
            row.ad_hoc += f.ad_hoc;
            row.sampled += f.sampled;
            row.sampled_inspected += f.sampled_inspected;
        }
        match &scheme.kind {
            SchemeKind::Yuan(y) => {
                let mut self_total: Option<Amount> = None;
                let mut applied: BTreeMap<String, (u32, Amount)> = BTreeMap::new();
                for (f, &(yy, mm)) in month_facts.iter().zip(&months) {
                    let (s, self_eval) = yuan_month(y, &inputs, v, &households, yy, mm, f);
                    row.score += s.net;
                    row.subsidy_forfeited |= s.subsidy_forfeited;
                    for (item, a) in s.by_item {
                        *row.by_item.entry(item).or_default() += a;
                    }
                    for a in s.applied {
                        let e = applied.entry(a.rule).or_default();
                        e.0 += a.units;
                        e.1 += a.amount;
                    }
                    match self_eval {
                        Some(a) => *self_total.get_or_insert(Amount::ZERO) += a,
                        None => row.notes.push(format!("{yy}年{mm}月未按时自评")),
                    }
                }
                // Scheme order, so the table reads like the scheme.
                row.applied = y
                    .rules
                    .iter()
                    .filter_map(|r| {
                        applied.get(&r.code).map(|(units, amount)| RuleApplied {
                            rule: r.code.clone(),
                            units: *units,
                            amount: *amount,
                        })
                    })
                    .collect();
                row.recheck = Some(row.score);
                row.self_eval = self_total;
                row.difference = self_total.map(|s| s - row.score);
            }
            SchemeKind::Points(p) => {
                // The checks: one per month for a month or quarter, one per two months for a
                // half-year.
                let chunk = if matches!(period, PeriodKey::Half { .. }) {
                    2
                } else {
                    1
                };
                for (n, group) in month_facts.chunks(chunk).enumerate() {
                    let facts: Vec<&Inspection> = group
                        .iter()
                        .flat_map(|f| f.household.iter().copied())
                        .collect();
                    match points_check(&inputs, &facts, &mut row.by_item) {
                        Some(c) => row.checks.push(c),
                        None => {
                            row.checks.push(Amount::ZERO);
                            row.notes
                                .push(format!("第{}次检查无抽样农户检查，按0分计", n + 1));
                        }
                    }
                    // The village's own view of the same check, if it filed one.
                    let own: Vec<&Inspection> = group
                        .iter()
                        .flat_map(|f| f.self_eval.iter().copied())
                        .collect();
                    if let Some(s) = points_check(&inputs, &own, &mut BTreeMap::new()) {
                        row.self_eval = Some(row.self_eval.unwrap_or_default() + s);
                    }
                }
                let key = period.to_string();
                match inputs.village_inputs.get(&(v.id, key)) {
                    Some((tasks, sat)) => {
                        row.tasks = Some(*tasks);
                        row.satisfaction = Some(*sat);
                    }
                    None => row
                        .notes
                        .push("交办工作、群众满意度未录入，按0分计".to_owned()),
                }
                let scheme_here = PointsScheme {
                    checks: u32::try_from(row.checks.len()).unwrap_or(1).max(1),
                    ..p.clone()
                };
                let total = cunjie_domain::scoring::score_half_year(
                    &scheme_here,
                    &cunjie_domain::scoring::HalfYearInput {
                        township,
                        checks: row.checks.clone(),
                        tasks: row.tasks.unwrap_or_default(),
                        satisfaction: row.satisfaction.unwrap_or_default(),
                    },
                );
                row.score = total.total;
                row.recheck = Some(Amount::mean(&row.checks));
                // Compare like with like: the self-evaluation against the checks' mean.
                if let Some(s) = row.self_eval {
                    let n = i64::try_from(row.checks.len()).unwrap_or(1).max(1);
                    let mean = Amount(s.cents() / n);
                    row.self_eval = Some(mean);
                    row.difference = Some(mean - Amount::mean(&row.checks));
                }
            }
        }
        rows.push(row);
    }
    let ranked = rank(
        &rows
            .iter()
            .map(|r| ((r.village_code.clone(), r.village), r.score))
            .collect::<Vec<_>>(),
    );
    let mut by_village: HashMap<VillageId, VillageRank> =
        rows.into_iter().map(|r| (r.village, r)).collect();
    let rows = ranked
        .into_iter()
        .filter_map(|r| {
            by_village.remove(&r.key.1).map(|mut row| {
                row.rank = r.rank;
                row
            })
        })
        .collect();
    Ok(Computed { rows })
}

fn digest(rows: &[VillageRank]) -> Result<String, ScoringError> {
    let lines: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!([r.village, r.score, r.rank, r.by_item, r.self_eval]))
        .collect();
    Ok(sha256_hex(&serde_json::to_string(&lines)?))
}

/// The version a period's result must use: the published one's, else the latest.
fn version_for(
    tx: &mut dyn Tx,
    township: TownshipId,
    period: &str,
    code: &str,
) -> Result<Option<u32>, ScoringError> {
    Ok(tx
        .query(
            "SELECT scheme_version FROM ranking_result WHERE township_id = $1 AND period = $2 AND scheme_code = $3 AND published_at IS NOT NULL",
            vals![township.to_string(), period, code],
        )?
        .first()
        .and_then(|r| r.first().and_then(crate::store::Value::int))
        .and_then(|v| u32::try_from(v).ok()))
}

/// Computes a period's ranking (nothing stored but the month's sample, if not yet drawn).
pub(crate) fn ranking(
    tx: &mut dyn Tx,
    township: TownshipId,
    period: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Ranking, ScoringError> {
    let base = load_base(tx, township)?;
    ranking_in(tx, township, period, code, now, &base, true)
}

fn ranking_in(
    tx: &mut dyn Tx,
    township: TownshipId,
    period: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
    base: &Base,
    frozen: bool,
) -> Result<Ranking, ScoringError> {
    let key: PeriodKey = period.parse()?;
    let code = code.unwrap_or(DEFAULT_SCHEME);
    let version = version_for(tx, township, &key.to_string(), code)?;
    let s = scheme(tx, township, code, version, now)?;
    let mut current = compute(tx, township, &s, key, now, base)?;
    let prev_version = version_for(tx, township, &key.prev().to_string(), code)?;
    let prev_scheme = scheme(tx, township, code, prev_version.or(Some(s.version)), now)?;
    let prev = compute(tx, township, &prev_scheme, key.prev(), now, base)?;
    let prev: HashMap<VillageId, (Amount, u32, u32)> = prev
        .rows
        .iter()
        .map(|r| (r.village, (r.score, r.rank, r.counted + r.ad_hoc)))
        .collect();
    for row in &mut current.rows {
        // A month with no inspection at all has no rank worth comparing with.
        if let Some((score, rank, n)) = prev.get(&row.village).copied()
            && n > 0
        {
            row.prev_score = Some(score);
            row.prev_rank = Some(rank);
            row.rank_change = Some(i64::from(rank) - i64::from(row.rank));
        }
    }
    let stored = tx.query(
        "SELECT computed_at, published_at, digest, row_json FROM ranking_result WHERE township_id = $1 AND period = $2 AND scheme_code = $3",
        vals![township.to_string(), key.to_string(), code],
    )?;
    let mut digest = digest(&current.rows)?;
    let mut stale = false;
    let (computed_at, published_at) = match stored.first() {
        Some(r) if text(r, 2, "digest")? == digest => (opt_text(r, 0), opt_text(r, 1)),
        // A published result is what the township announced: it stands until recomputed.
        Some(r) if frozen && opt_text(r, 1).is_some() => {
            current.rows = serde_json::from_str(&text(r, 3, "row_json")?)?;
            digest = text(r, 2, "digest")?;
            stale = true;
            (opt_text(r, 0), opt_text(r, 1))
        }
        _ => (None, None),
    };
    Ok(Ranking {
        township,
        period: key.to_string(),
        period_zh: key.label_zh(),
        scheme_code: s.code.clone(),
        scheme_version: s.version,
        scheme_name_zh: s.name_zh.clone(),
        scheme_name_en: s.name_en.clone(),
        unit: match s.kind {
            SchemeKind::Yuan(_) => "yuan",
            SchemeKind::Points(_) => "points",
        }
        .to_owned(),
        rows: current.rows,
        digest,
        computed_at,
        published_at,
        stale,
    })
}

/// Computes and stores a period's ranking with the scheme version it used, and records the
/// recomputation in the audit log.
pub(crate) fn recompute(
    tx: &mut dyn Tx,
    township: TownshipId,
    period: &str,
    code: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Ranking, ScoringError> {
    let base = load_base(tx, township)?;
    let mut r = ranking_in(tx, township, period, code, now, &base, false)?;
    let at = ts(now);
    tx.exec(
        "INSERT INTO ranking_result (township_id, period, scheme_code, scheme_version, computed_at, computed_by, published_at, digest, row_json)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)
         ON CONFLICT (township_id, period, scheme_code) DO UPDATE SET scheme_version = excluded.scheme_version,
           computed_at = excluded.computed_at, computed_by = excluded.computed_by, digest = excluded.digest, row_json = excluded.row_json",
        vals![township.to_string(), &r.period, &r.scheme_code, r.scheme_version, &at, by, &r.digest, serde_json::to_string(&r.rows)?],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &at,
        by,
        "score_recomputed",
        &format!("{}/{}", r.period, r.scheme_code),
        &serde_json::json!({
            "version": r.scheme_version,
            "digest": r.digest,
            "ranks": r.rows.iter().map(|x| serde_json::json!([x.village_code, x.score, x.rank])).collect::<Vec<_>>(),
        }),
    )?;
    r.computed_at = Some(at);
    r.stale = false;
    // A published period stays published with its new numbers (an upheld appeal, late facts).
    r.published_at = tx
        .query(
            "SELECT published_at FROM ranking_result WHERE township_id = $1 AND period = $2 AND scheme_code = $3",
            vals![township.to_string(), &r.period, &r.scheme_code],
        )?
        .first()
        .and_then(|row| opt_text(row, 0));
    Ok(r)
}

/// Publishes the stored result of a period: from now on it keeps its scheme version.
pub(crate) fn publish(
    tx: &mut dyn Tx,
    township: TownshipId,
    period: &str,
    code: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Ranking, ScoringError> {
    let mut r = recompute(tx, township, period, code, by, now)?;
    let at = ts(now);
    tx.exec(
        "UPDATE ranking_result SET published_at = $1 WHERE township_id = $2 AND period = $3 AND scheme_code = $4",
        vals![&at, township.to_string(), &r.period, &r.scheme_code],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &at,
        by,
        "ranking_published",
        &format!("{}/{}", r.period, r.scheme_code),
        &serde_json::json!({"version": r.scheme_version, "digest": r.digest}),
    )?;
    r.published_at = Some(at);
    Ok(r)
}

/// The month's 红黑榜.
pub(crate) fn red_black(
    tx: &mut dyn Tx,
    township: TownshipId,
    month: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RedBlack, ScoringError> {
    let key: PeriodKey = month.parse()?;
    let PeriodKey::Month { year, month: m } = key else {
        return Err(ScoringError::BadPeriod(month.chars().take(40).collect()));
    };
    let base = load_base(tx, township)?;
    let r = ranking_in(tx, township, month, code, now, &base, true)?;
    let n = r.rows.len();
    let quarter = n.div_ceil(4).max(1);
    let red_villages: Vec<VillageRank> = r
        .rows
        .iter()
        .filter(|x| x.counted > 0)
        .take(quarter)
        .cloned()
        .collect();
    let red_ids: HashSet<VillageId> = red_villages.iter().map(|x| x.village).collect();
    let mut black_villages: Vec<VillageRank> = r
        .rows
        .iter()
        .rev()
        .filter(|x| !red_ids.contains(&x.village))
        .take(quarter)
        .cloned()
        .collect();
    black_villages.reverse();

    let inputs = load(tx, township, &base, &[(year, m)])?;
    let names: HashMap<VillageId, String> = inputs
        .villages
        .iter()
        .map(|v| (v.id, v.name.clone()))
        .collect();
    let households: HashMap<HouseholdId, &Household> =
        inputs.households.iter().map(|h| (h.id, h)).collect();
    // Every household inspection of the month, scored.
    let mut scored: BTreeMap<HouseholdId, Vec<(Amount, bool, Amount)>> = BTreeMap::new();
    for i in &inputs.inspections {
        if i.subject.kind != SubjectKind::Household {
            continue;
        }
        let Some(t) = inputs.templates.get(&(i.template.id, i.template.version)) else {
            continue;
        };
        if t.unit != ScoreUnit::Points {
            continue;
        }
        let s = score_inspection(t, i);
        scored
            .entry(HouseholdId::from_uuid(i.subject.id))
            .or_default()
            .push((s.score, s.vetoed, s.full));
    }
    let today = china_date(now);
    let mut overdue: HashSet<String> = HashSet::new();
    for r in tx.query(
        "SELECT row_json, state, due FROM rectification WHERE township_id = $1 AND state <> 'verified'",
        vals![township.to_string()],
    )? {
        let due = NaiveDate::parse_from_str(&text(&r, 2, "due")?, "%Y-%m-%d").ok();
        let state = text(&r, 1, "state")?;
        let code = |s: RectificationState| serde_json::to_value(s).ok();
        let state = Some(serde_json::Value::String(state));
        let late = state == code(RectificationState::Overdue)
            || (state == code(RectificationState::Open) && due.is_some_and(|d| d < today));
        if late {
            let v: serde_json::Value = serde_json::from_str(&text(&r, 0, "row_json")?)?;
            if let Some(id) = v.pointer("/subject/id").and_then(|x| x.as_str()) {
                overdue.insert(id.to_owned());
            }
        }
    }
    let entry = |h: &Household, score: Amount, reason: String| BoardHousehold {
        household: h.id,
        head_name: h.head_name.clone(),
        door_plate: h.door_plate.clone(),
        village_name: names.get(&h.village).cloned().unwrap_or_default(),
        score,
        reason,
    };
    let mut red = Vec::new();
    let mut black = Vec::new();
    for (id, list) in &scored {
        let Some(h) = households.get(id) else {
            continue;
        };
        let last = list.last().map_or(Amount::ZERO, |x| x.0);
        let worst = list.iter().map(|x| x.0).min().unwrap_or_default();
        if list.iter().any(|x| x.1) {
            black.push(entry(h, worst, "一票否决项不合格".into()));
        } else if worst < BLACK_BELOW {
            black.push(entry(h, worst, format!("检查得分 {worst}，低于60分")));
        } else if overdue.contains(&id.to_string()) {
            black.push(entry(h, last, "整改逾期未完成".into()));
        } else if list.iter().all(|x| x.0 == x.2) {
            red.push(entry(h, last, "本月检查全部合格（满分）".into()));
        }
    }
    red.sort_by(|a, b| {
        a.village_name
            .cmp(&b.village_name)
            .then(a.door_plate.cmp(&b.door_plate))
    });
    black.sort_by(|a, b| a.score.cmp(&b.score).then(a.door_plate.cmp(&b.door_plate)));
    red.truncate(BOARD_MAX);
    black.truncate(BOARD_MAX);
    Ok(RedBlack {
        month: key.to_string(),
        red_villages,
        black_villages,
        red_households: red,
        black_households: black,
    })
}

/// Records an outside event (commendation or exposure) for a village.
pub(crate) fn record_event(
    tx: &mut dyn Tx,
    township: TownshipId,
    village: VillageId,
    event: &ExternalEvent,
    by: &str,
    now: DateTime<Utc>,
) -> Result<String, ScoringError> {
    let id = random_hex(16);
    let kind = serde_json::to_value(event.kind)?
        .as_str()
        .unwrap_or("")
        .to_owned();
    tx.exec(
        "INSERT INTO external_event (id, township_id, village_id, kind, day, doc_ref, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vals![&id, township.to_string(), village.to_string(), &kind, event.date.format("%Y-%m-%d").to_string(), &event.doc_ref, by],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &ts(now),
        by,
        "event_recorded",
        &village.to_string(),
        &serde_json::json!({"id": id, "kind": kind, "date": event.date, "doc_ref": event.doc_ref}),
    )?;
    Ok(id)
}

/// Enters Scheme C's office-scored parts for a village and period (0–100 each).
#[allow(
    clippy::too_many_arguments,
    reason = "one argument per input, like the CLI"
)]
pub(crate) fn set_village_input(
    tx: &mut dyn Tx,
    township: TownshipId,
    village: VillageId,
    period: &str,
    tasks: Amount,
    satisfaction: Amount,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ScoringError> {
    let key: PeriodKey = period.parse()?;
    let range = Amount::ZERO..=Amount::whole(100);
    if !range.contains(&tasks) || !range.contains(&satisfaction) {
        return Err(ScoringError::Invalid(
            "交办工作和群众满意度须在0到100之间 (scores must be 0–100)".into(),
        ));
    }
    tx.exec(
        "INSERT INTO village_input (township_id, village_id, period, tasks, satisfaction, entered_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (village_id, period) DO UPDATE SET tasks = excluded.tasks, satisfaction = excluded.satisfaction, entered_by = excluded.entered_by",
        vals![township.to_string(), village.to_string(), key.to_string(), tasks.cents(), satisfaction.cents(), by],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &ts(now),
        by,
        "village_input_set",
        &format!("{village}/{key}"),
        &serde_json::json!({"tasks": tasks, "satisfaction": satisfaction}),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reviews and appeals

/// A reviewer's 有问题 mark on an inspection (or one of its photos).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Id.
    pub id: String,
    /// The inspection.
    pub fact_id: String,
    /// The photo, if the mark is about one.
    pub photo: Option<String>,
    /// What is wrong, in the reviewer's words.
    pub comment: String,
    /// Reviewer.
    pub by: String,
    /// When.
    pub at: String,
    /// The correction that answered it, once one arrived.
    pub resolved_by: Option<String>,
}

/// Marks an inspection as 有问题. Its author's phone gets it as a task on the next sync; the
/// correction (a new inspection that `supersedes` it) resolves it and replaces it in scores.
pub(crate) fn mark_review(
    tx: &mut dyn Tx,
    township: TownshipId,
    fact_id: InspectionId,
    photo: Option<&str>,
    comment: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Review, ScoringError> {
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > 500 {
        return Err(ScoringError::Invalid(
            "请写明问题（1–500字） (write what is wrong, 1–500 characters)".into(),
        ));
    }
    let found = tx.query(
        "SELECT row_json, author_id FROM fact WHERE id = $1 AND township_id = $2 AND kind = 'inspection'",
        vals![fact_id.to_string(), township.to_string()],
    )?;
    let Some(row) = found.first() else {
        return Err(ScoringError::NotFound(format!("检查记录 {fact_id}")));
    };
    let insp: Inspection = serde_json::from_str(&text(row, 0, "row_json")?)?;
    if let Some(p) = photo
        && !insp.photos().iter().any(|h| h.to_string() == p)
    {
        return Err(ScoringError::NotFound(format!("该检查中的照片 {p}")));
    }
    let author = text(row, 1, "author_id")?;
    let r = Review {
        id: uuid::Uuid::parse_str(&random_hex(16))
            .map_err(|_| StorageError::Column("id"))?
            .to_string(),
        fact_id: fact_id.to_string(),
        photo: photo.map(str::to_owned),
        comment: comment.to_owned(),
        by: by.to_owned(),
        at: ts(now),
        resolved_by: None,
    };
    tx.exec(
        "INSERT INTO review (id, township_id, fact_id, photo, comment, by_staff, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vals![&r.id, township.to_string(), &r.fact_id, r.photo.clone(), &r.comment, by, &r.at],
    )?;
    // The inspection's author gets it as a task with the next pull.
    let wire = cunjie_protocol::v1::ReviewRow {
        id: uuid::Uuid::parse_str(&r.id).map_err(|_| StorageError::Column("id"))?,
        inspection: insp.id,
        photo: photo.and_then(|p| p.parse().ok()),
        comment: r.comment.clone(),
        at: now,
    };
    append_change(
        tx,
        &scope::person(
            author
                .parse()
                .map_err(|_| StorageError::Column("author_id"))?,
        ),
        EntityKind::Review.as_str(),
        &r.id,
        1,
        Some(&serde_json::to_string(&wire)?),
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &r.at,
        by,
        "review_marked",
        &r.fact_id,
        &serde_json::json!({"review": r.id, "photo": r.photo, "comment": r.comment}),
    )?;
    Ok(r)
}

/// The reviews of a township (or of one fact), with what resolved each.
pub(crate) fn reviews(
    tx: &mut dyn Tx,
    township: TownshipId,
    fact: Option<&str>,
) -> Result<Vec<Review>, ScoringError> {
    let rows = match fact {
        Some(f) => tx.query(
            "SELECT id, fact_id, photo, comment, by_staff, at FROM review WHERE township_id = $1 AND fact_id = $2 ORDER BY at, id",
            vals![township.to_string(), f],
        )?,
        None => tx.query(
            "SELECT id, fact_id, photo, comment, by_staff, at FROM review WHERE township_id = $1 ORDER BY at, id",
            vals![township.to_string()],
        )?,
    };
    let mut out = Vec::new();
    for r in rows {
        let fact_id = text(&r, 1, "fact_id")?;
        let resolved = tx
            .query(
                "SELECT id FROM fact WHERE kind = 'inspection' AND row_json LIKE $1",
                vals![format!("%\"supersedes\":\"{fact_id}\"%")],
            )?
            .first()
            .map(|x| text(x, 0, "id"))
            .transpose()?;
        out.push(Review {
            id: text(&r, 0, "id")?,
            fact_id,
            photo: opt_text(&r, 2),
            comment: text(&r, 3, "comment")?,
            by: text(&r, 4, "by_staff")?,
            at: text(&r, 5, "at")?,
            resolved_by: resolved,
        });
    }
    Ok(out)
}

/// A village's appeal (申诉).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// Id.
    pub id: String,
    /// The village.
    pub village: VillageId,
    /// The period appealed.
    pub period: String,
    /// The inspections it contests.
    pub facts: Vec<String>,
    /// The village's reason.
    pub reason: String,
    /// Its evidence (document references, photo hashes).
    pub evidence: String,
    /// When filed.
    pub filed_at: String,
    /// `upheld` or `rejected`, once decided.
    pub outcome: Option<String>,
    /// Decision note.
    pub note: Option<String>,
}

/// Records a village's appeal against inspections of a period.
#[allow(
    clippy::too_many_arguments,
    reason = "one argument per field of the appeal"
)]
pub(crate) fn file_appeal(
    tx: &mut dyn Tx,
    township: TownshipId,
    village: VillageId,
    period: &str,
    facts: &[InspectionId],
    reason: &str,
    evidence: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Appeal, ScoringError> {
    let key: PeriodKey = period.parse()?;
    if reason.trim().is_empty() || facts.is_empty() {
        return Err(ScoringError::Invalid(
            "申诉须写明理由并指明所申诉的检查记录 (give a reason and the inspections appealed)"
                .into(),
        ));
    }
    for f in facts {
        let ok = tx.query(
            "SELECT id FROM fact WHERE id = $1 AND township_id = $2 AND village_id = $3",
            vals![f.to_string(), township.to_string(), village.to_string()],
        )?;
        if ok.is_empty() {
            return Err(ScoringError::NotFound(format!("该村的检查记录 {f}")));
        }
    }
    let a = Appeal {
        id: random_hex(16),
        village,
        period: key.to_string(),
        facts: facts.iter().map(ToString::to_string).collect(),
        reason: reason.trim().to_owned(),
        evidence: evidence.trim().to_owned(),
        filed_at: ts(now),
        outcome: None,
        note: None,
    };
    tx.exec(
        "INSERT INTO appeal (id, township_id, village_id, period, facts, reason, evidence, filed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vals![&a.id, township.to_string(), village.to_string(), &a.period, serde_json::to_string(&a.facts)?, &a.reason, &a.evidence, &a.filed_at],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &a.filed_at,
        by,
        "appeal_filed",
        &a.id,
        &serde_json::json!({"village": village, "period": a.period, "facts": a.facts, "reason": a.reason}),
    )?;
    Ok(a)
}

/// Decides an appeal. Upheld: its inspections stop counting and every stored ranking of the
/// period is recomputed under the scheme version it already used.
pub(crate) fn decide_appeal(
    tx: &mut dyn Tx,
    township: TownshipId,
    appeal: &str,
    upheld: bool,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Ranking>, ScoringError> {
    let rows = tx.query(
        "SELECT period, outcome FROM appeal WHERE id = $1 AND township_id = $2",
        vals![appeal, township.to_string()],
    )?;
    let Some(r) = rows.first() else {
        return Err(ScoringError::NotFound(format!("申诉 {appeal}")));
    };
    if opt_text(r, 1).is_some() {
        return Err(ScoringError::Invalid(
            "该申诉已有结论，不能再改 (this appeal was already decided)".into(),
        ));
    }
    let period = text(r, 0, "period")?;
    let outcome = if upheld { "upheld" } else { "rejected" };
    let at = ts(now);
    tx.exec(
        "UPDATE appeal SET outcome = $1, decided_by = $2, decided_at = $3, note = $4 WHERE id = $5",
        vals![outcome, by, &at, note, appeal],
    )?;
    audit::append(
        tx,
        &township.to_string(),
        &at,
        by,
        "appeal_decided",
        appeal,
        &serde_json::json!({"outcome": outcome, "note": note, "period": period}),
    )?;
    let mut out = Vec::new();
    if upheld {
        let codes: Vec<String> = tx
            .query(
                "SELECT scheme_code FROM ranking_result WHERE township_id = $1 AND period = $2 ORDER BY scheme_code",
                vals![township.to_string(), &period],
            )?
            .iter()
            .map(|r| text(r, 0, "scheme_code"))
            .collect::<Result<_, _>>()?;
        for code in codes {
            out.push(recompute(
                tx,
                township,
                &period,
                Some(&code),
                &format!("appeal:{appeal}"),
                now,
            )?);
        }
    }
    Ok(out)
}

/// The appeals of a township, newest first.
pub(crate) fn appeals(tx: &mut dyn Tx, township: TownshipId) -> Result<Vec<Appeal>, ScoringError> {
    tx.query(
        "SELECT id, village_id, period, facts, reason, evidence, filed_at, outcome, note FROM appeal WHERE township_id = $1 ORDER BY filed_at DESC, id",
        vals![township.to_string()],
    )?
    .iter()
    .map(|r| {
        Ok(Appeal {
            id: text(r, 0, "id")?,
            village: text(r, 1, "village_id")?
                .parse()
                .map_err(|_| StorageError::Column("village_id"))?,
            period: text(r, 2, "period")?,
            facts: serde_json::from_str(&text(r, 3, "facts")?)?,
            reason: text(r, 4, "reason")?,
            evidence: text(r, 5, "evidence")?,
            filed_at: text(r, 6, "filed_at")?,
            outcome: opt_text(r, 7),
            note: opt_text(r, 8),
        })
    })
    .collect()
}

/// Villages in the set, for the sample and scope checks.
pub(crate) fn sample_of(
    tx: &mut dyn Tx,
    township: TownshipId,
    month: &str,
    now: DateTime<Utc>,
) -> Result<BTreeSet<HouseholdId>, ScoringError> {
    let key: PeriodKey = month.parse()?;
    let PeriodKey::Month { year, month } = key else {
        return Err(ScoringError::BadPeriod(month.to_string()));
    };
    let households: Vec<Household> = parse_rows(tx.query(
        "SELECT row_json FROM record WHERE entity = 'household' AND township_id = $1",
        vals![township.to_string()],
    )?)?;
    Ok(ensure_sample(tx, township, year, month, &households, now)?
        .into_iter()
        .collect())
}

/// Draws this month's sample (China time) for every township that has none yet, so phones
/// get it early in the month; returns how many townships were drawn for.
pub(crate) fn draw_current(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<usize, ScoringError> {
    let today = china_date(now);
    let month = format!("{}-{:02}", today.year(), today.month());
    let townships: Vec<String> = tx
        .query(
            "SELECT id FROM township WHERE id NOT IN (SELECT DISTINCT township_id FROM sample WHERE month = $1)",
            vals![&month],
        )?
        .iter()
        .map(|r| text(r, 0, "id"))
        .collect::<Result<_, _>>()?;
    for t in &townships {
        let id: TownshipId = t.parse().map_err(|_| StorageError::Column("id"))?;
        sample_of(tx, id, &month, now)?;
    }
    Ok(townships.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_print_and_step_back() {
        for s in ["2026-11", "2026-Q4", "2026-H2", "2027-01"] {
            let p: PeriodKey = s.parse().expect("valid");
            assert_eq!(p.to_string(), s, "round trip");
        }
        let jan: PeriodKey = "2027-01".parse().expect("valid");
        assert_eq!(
            jan.prev().to_string(),
            "2026-12",
            "January steps back a year"
        );
        assert_eq!(
            "2026-Q1"
                .parse::<PeriodKey>()
                .expect("q")
                .prev()
                .to_string(),
            "2025-Q4"
        );
        assert_eq!(
            "2026-H2".parse::<PeriodKey>().expect("h").months(),
            vec![
                (2026, 7),
                (2026, 8),
                (2026, 9),
                (2026, 10),
                (2026, 11),
                (2026, 12)
            ]
        );
        for bad in [
            "", "2026", "2026-13", "2026-00", "2026-Q5", "2026-H3", "26-11", "2026-1", "x-11",
            "2026-+1",
        ] {
            assert!(bad.parse::<PeriodKey>().is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn months_start_at_china_midnight() {
        assert_eq!(month_start(2026, 11), "2026-10-31T16:00:00.000Z");
    }

    #[test]
    fn sample_sizes_follow_the_rule() {
        assert_eq!(sample_size(60), 12, "20 % of 60");
        assert_eq!(sample_size(10), 5, "at least 5");
        assert_eq!(sample_size(3), 3, "never more than there are");
        assert_eq!(sample_size(0), 0);
    }
}
