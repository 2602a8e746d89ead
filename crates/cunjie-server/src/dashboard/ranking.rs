//! The ranking as the office reads it, built on the scoring API ([`crate::Township::ranking`],
//! `red_black`, `recompute`): one table model shared by the ranking page, the 通报, the charts
//! and the exports.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use cunjie_domain::Amount;
use cunjie_domain::catalog::Catalog;
use serde::Serialize;

use super::i18n::Lang;
use super::{Ctx, PageError};
use crate::core::scoring::{PeriodKey, Ranking, ScoringError};
use crate::{AppState, Township};

impl From<ScoringError> for PageError {
    fn from(e: ScoringError) -> Self {
        match e {
            ScoringError::BadPeriod(p) => PageError::bad(
                "bad_period",
                format!(
                    "考核期 '{p}' 无法识别：请用 2026-11（月）、2026-Q4（季度）或 2026-H2（半年）"
                ),
                format!("period '{p}' is not understood: use 2026-11, 2026-Q4 or 2026-H2"),
            ),
            ScoringError::UnknownScheme(s) => PageError::new(
                StatusCode::NOT_FOUND,
                "unknown_scheme",
                format!("没有考核方案 {s}"),
                format!("no scheme {s}"),
            ),
            ScoringError::NotFound(s) => {
                PageError::not_found(format!("找不到 {s}"), format!("{s} not found"))
            }
            ScoringError::InvalidScheme(m) | ScoringError::Invalid(m) => {
                PageError::bad("bad_request", m.clone(), m)
            }
            ScoringError::Storage(s) => s.into(),
        }
    }
}

/// A label for an item code in the page's language (the code itself if unknown).
pub(crate) fn item_label(code: &str, lang: Lang) -> String {
    Catalog::builtin()
        .item(code)
        .map(|(_, i)| lang.pick(&i.label_zh, &i.label_en).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// An amount for people: `12.50`, or `—` for none.
pub(crate) fn amount(a: Option<Amount>) -> String {
    a.map_or_else(|| "—".to_owned(), |a| a.to_string())
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) village: String,
    pub(crate) village_code: String,
    pub(crate) village_name: String,
    pub(crate) rank: u32,
    pub(crate) score: String,
    pub(crate) score_cents: i64,
    pub(crate) prev_rank: Option<u32>,
    pub(crate) prev_score: String,
    /// Places gained (positive) or lost since the previous period.
    pub(crate) change: Option<i64>,
    pub(crate) change_text: String,
    /// Deductions per item column, in the order of [`Table::items`].
    pub(crate) items: Vec<String>,
    pub(crate) self_eval: String,
    pub(crate) recheck: String,
    pub(crate) difference: String,
    pub(crate) counted: u32,
    pub(crate) ad_hoc: u32,
    pub(crate) notes: Vec<String>,
}

/// An item column.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemCol {
    pub(crate) code: String,
    pub(crate) label: String,
}

/// The ranking table of one period.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Table {
    pub(crate) period: String,
    /// The period for people: 2026年11月 in Chinese, the code (2026-11) in English.
    pub(crate) period_label: String,
    pub(crate) scheme_code: String,
    pub(crate) scheme_version: u32,
    pub(crate) scheme_name: String,
    pub(crate) unit: String,
    pub(crate) unit_label: String,
    pub(crate) items: Vec<ItemCol>,
    pub(crate) rows: Vec<Row>,
    pub(crate) computed_at: Option<String>,
    pub(crate) published_at: Option<String>,
    /// Published, and facts arrived since: the published numbers are shown.
    pub(crate) stale: bool,
}

/// A stored RFC 3339 instant in China time, as the office reads it.
fn china_time(t: &str) -> String {
    t.parse::<chrono::DateTime<chrono::Utc>>()
        .map(super::data::cn_time)
        .unwrap_or_else(|_| t.to_owned())
}

fn change_text(c: Option<i64>) -> String {
    match c {
        Some(n) if n > 0 => format!("↑{n}"),
        Some(n) if n < 0 => format!("↓{}", -n),
        Some(_) => "—".to_owned(),
        None => String::new(),
    }
}

impl Table {
    pub(crate) fn from_ranking(r: &Ranking, lang: Lang) -> Self {
        let codes: BTreeSet<&String> = r
            .rows
            .iter()
            .flat_map(|x| x.by_item.iter().filter(|(_, a)| **a != Amount::ZERO))
            .map(|(c, _)| c)
            .collect();
        let items: Vec<ItemCol> = codes
            .iter()
            .map(|c| ItemCol {
                code: (*c).clone(),
                label: item_label(c, lang),
            })
            .collect();
        let rows = r
            .rows
            .iter()
            .map(|x| Row {
                village: x.village.to_string(),
                village_code: x.village_code.clone(),
                village_name: x.village_name.clone(),
                rank: x.rank,
                score: x.score.to_string(),
                score_cents: x.score.cents(),
                prev_rank: x.prev_rank,
                prev_score: amount(x.prev_score),
                change: x.rank_change,
                change_text: change_text(x.rank_change),
                items: items
                    .iter()
                    .map(|c| {
                        x.by_item
                            .get(&c.code)
                            .filter(|a| **a != Amount::ZERO)
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    })
                    .collect(),
                self_eval: amount(x.self_eval),
                recheck: amount(x.recheck),
                difference: amount(x.difference),
                counted: x.counted,
                ad_hoc: x.ad_hoc,
                notes: x.notes.clone(),
            })
            .collect();
        Self {
            period: r.period.clone(),
            period_label: match lang {
                Lang::Zh => r.period_zh.clone(),
                Lang::En => r.period.clone(),
            },
            scheme_code: r.scheme_code.clone(),
            scheme_version: r.scheme_version,
            scheme_name: lang.pick(&r.scheme_name_zh, &r.scheme_name_en).to_owned(),
            unit: r.unit.clone(),
            unit_label: if r.unit == "yuan" {
                lang.pick("元", "yuan").to_owned()
            } else {
                lang.pick("分", "points").to_owned()
            },
            items,
            rows,
            computed_at: r.computed_at.as_deref().map(china_time),
            published_at: r.published_at.as_deref().map(china_time),
            stale: r.stale,
        }
    }
}

/// The period a page asks for (`period=`, else `month=`), default the current month.
pub(crate) fn period_param(ctx: &Ctx, today: chrono::NaiveDate) -> Result<PeriodKey, PageError> {
    let raw = ctx
        .query
        .get("period")
        .or_else(|| ctx.query.get("month"))
        .filter(|p| !p.is_empty())
        .cloned()
        .unwrap_or_else(|| super::data::Month::of(today).to_string());
    Ok(raw.parse::<PeriodKey>()?)
}

/// The scheme a page asks for (`scheme=`), or the township's default.
pub(crate) fn scheme_param(ctx: &Ctx) -> Option<String> {
    ctx.query.get("scheme").filter(|s| !s.is_empty()).cloned()
}

/// The last month of a period (the 红黑榜 is monthly).
pub(crate) fn last_month(p: PeriodKey) -> String {
    let (y, m) = p.months().last().copied().unwrap_or((2026, 1));
    format!("{y:04}-{m:02}")
}

/// The office handle for the township a page shows.
pub(crate) fn office(state: &AppState, ctx: &Ctx) -> Result<Township, PageError> {
    let id = ctx.township.id.parse().map_err(|_| {
        PageError::internal(format!("township id {} is not a UUID", ctx.township.id))
    })?;
    Ok(Township::at(state.db.clone(), state.clock.clone(), id))
}
