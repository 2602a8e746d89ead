//! The office's forms: 有问题 on an inspection (evidence page), appeals (申诉), publishing a
//! ranking, Scheme C's inputs (交办工作, 群众满意度) and new versions of the yuan scheme.
//!
//! Each form is a plain POST carrying the session's CSRF token (refused with 403 `csrf`),
//! handled by one [`crate::Township`] call (one transaction with its audit entry) and answered
//! with a redirect back to its page. Bad input is a 400/404 page in Chinese with the stable
//! code of [`ScoringError::code`] and nothing stored; never a 500.
//!
//! The labels of these pages live here (`F.key` in the templates), in both languages, next to
//! the forms they name; the frame passes them to every page.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cunjie_domain::Amount;
use cunjie_domain::fact::Inspection;
use cunjie_domain::ids::{InspectionId, VillageId};
use cunjie_domain::scoring::{Effect, SchemeKind};
use serde_json::{Value, json};

use super::data::{self, Month, cn_date, cn_time};
use super::ranking;
use super::render;
use super::{Ctx, Lang, PageError, blocking, check_csrf, form_map};
use crate::AppState;
use crate::core::scoring::{PeriodKey, ScoringError};
use crate::store::{int, text, vals};

/// `(key, 中文, English)` of the office forms' labels.
pub(crate) const FORM_LABELS: &[(&str, &str, &str)] = &[
    ("review_title", "标记有问题", "Mark as questionable"),
    ("review_comment", "问题说明", "What is wrong"),
    (
        "review_photo",
        "针对照片（可选）",
        "About a photo (optional)",
    ),
    ("review_whole", "整条记录", "The whole record"),
    ("review_submit", "标记有问题", "Mark as questionable"),
    (
        "review_note",
        "检查员下次同步时会在手机上收到这条待办。",
        "The inspector gets it as a task on the next sync.",
    ),
    ("reviews", "审核意见", "Reviews"),
    ("review_pending", "待更正", "Awaiting correction"),
    ("review_resolved", "已更正", "Corrected"),
    ("review_done", "已标记有问题", "Marked as questionable"),
    (
        "review_only_inspections",
        "只有检查记录可以标记有问题。",
        "Only inspections can be marked.",
    ),
    ("appeal_file", "登记申诉", "File an appeal"),
    ("village", "村", "Village"),
    ("period", "考核期", "Period"),
    ("appeal_pick", "选村和考核期", "Pick village and period"),
    ("appeal_facts", "申诉的检查记录", "Inspections appealed"),
    (
        "appeal_no_facts",
        "该村本期没有检查记录。",
        "No inspections of this village in the period.",
    ),
    ("reason", "申诉理由", "Reason"),
    (
        "evidence_text",
        "证据（文件号、照片等）",
        "Evidence (documents, photos)",
    ),
    ("appeal_submit", "提交申诉", "File the appeal"),
    ("appeal_filed", "申诉已登记", "The appeal is filed"),
    ("appeal_list", "申诉记录", "Appeals"),
    ("filed_at", "登记时间", "Filed"),
    ("outcome", "结论", "Outcome"),
    ("undecided", "待处理", "Undecided"),
    ("upheld", "采纳", "Upheld"),
    ("rejected", "维持", "Rejected"),
    ("decision_note", "处理意见", "Decision note"),
    (
        "uphold",
        "采纳（撤销所申诉的记录）",
        "Uphold (void the inspections)",
    ),
    ("reject", "维持原结果", "Reject (keep the result)"),
    ("decided", "申诉已处理", "The appeal is decided"),
    (
        "recomputed_list",
        "已按原方案版本重算的排名",
        "Rankings recomputed under their scheme version",
    ),
    (
        "recomputed_none",
        "本期没有已保存的排名需要重算。",
        "No stored ranking of the period to recompute.",
    ),
    ("inspection_at", "检查时间", "Inspected"),
    ("subject", "对象", "Subject"),
    ("publish", "发布", "Publish"),
    ("published", "已发布", "Published"),
    ("not_published", "未发布", "Not published"),
    (
        "publish_note",
        "发布后本期固定使用当前方案版本。",
        "Once published, the period keeps this scheme version.",
    ),
    ("tasks", "交办工作（0–100）", "Assigned tasks (0–100)"),
    (
        "satisfaction",
        "群众满意度（0–100）",
        "Public satisfaction (0–100)",
    ),
    ("save", "保存", "Save"),
    ("saved", "已保存", "Saved"),
    (
        "inputs_note",
        "百分制方案（C）的两项，由镇整治办录入，可带两位小数；未录入按0分计。",
        "Scheme C's two office-scored parts, up to two decimals; a missing one counts 0.",
    ),
    ("not_entered", "未录入", "not entered"),
    ("code", "代码", "Code"),
    ("name", "名称", "Name"),
    ("version", "版本", "Version"),
    (
        "base_subsidy",
        "基本考核补助（元/月）",
        "Base subsidy (yuan a month)",
    ),
    ("rule", "规则", "Rule"),
    (
        "amount",
        "金额（元，扣款为负）",
        "Amount (yuan; deductions negative)",
    ),
    (
        "forfeit",
        "取消当月补助，村干部绩效扣",
        "Forfeits the month's subsidy; cadres' pay cut",
    ),
    ("points_scheme", "百分制", "Points"),
    ("yuan_scheme", "扣款制", "Yuan"),
    (
        "scheme_edit",
        "修改并发布新版本",
        "Edit and publish a new version",
    ),
    ("scheme_publish", "发布新版本", "Publish a new version"),
    ("scheme_published", "已发布新版本", "New version published"),
    (
        "scheme_note",
        "修改会生成新版本，旧版本保留；已发布的考核期继续使用发布时的版本。",
        "An edit makes a new version and keeps the old ones; published periods keep theirs.",
    ),
];

/// The office forms' labels in one language.
pub(crate) fn labels(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    FORM_LABELS
        .iter()
        .map(|(k, zh, en)| (*k, lang.pick(zh, en)))
        .collect()
}

/// A scoring refusal as a page, with the stable code of [`ScoringError::code`].
fn refused(e: ScoringError) -> PageError {
    let code = e.code();
    let mut p = PageError::from(e);
    p.code = code;
    p
}

fn bad(zh: &str, en: &str) -> PageError {
    PageError::bad(cunjie_protocol::v1::codes::BAD_REQUEST, zh, en)
}

/// Who did it, for the audit log.
fn by(ctx: &Ctx) -> String {
    format!("staff:{}", ctx.username)
}

/// A link inside the dashboard keeping county staff's `township=`.
fn href(ctx: &Ctx, path: &str, q: &[(&str, String)]) -> String {
    let mut keep: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    if !ctx.township_param().is_empty() {
        keep.push(("township".into(), ctx.township.code.clone()));
    }
    render::link(path, &keep)
}

/// A stored RFC 3339 instant in China time.
fn cn(t: &str) -> String {
    t.parse::<chrono::DateTime<chrono::Utc>>()
        .map(cn_time)
        .unwrap_or_else(|_| t.to_owned())
}

/// Every `key=value` of a form body in order, repeated keys kept (checkboxes).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    std::str::from_utf8(body)
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .flat_map(|kv| super::query_map(Some(kv)))
        .collect()
}

/// A POST's answer: off to `Ok(url)`, or the error page.
fn finish(ctx: &Ctx, res: Result<String, PageError>) -> Response {
    match res {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

fn respond(
    ctx: &Ctx,
    path: &str,
    tpl: &str,
    title: &str,
    res: Result<Value, PageError>,
) -> Response {
    match res {
        Ok(v) => render::page(ctx, path, tpl, title, v),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

/// A score or amount as typed: `85`, `85.5`, `-50`, `12.25` (two decimals at most).
pub(crate) fn parse_amount(s: &str) -> Option<Amount> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 12
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    let cents = w.checked_mul(100)?.checked_add(f)?;
    Some(Amount(if neg { -cents } else { cents }))
}

/// The period asked for (`?period=`), else the current month in China.
fn period_or_this_month(st: &AppState, ctx: &Ctx) -> Result<PeriodKey, PageError> {
    let p = ctx
        .query
        .get("period")
        .filter(|p| !p.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| cn_date(st.clock.now()).format("%Y-%m").to_string());
    p.trim().parse::<PeriodKey>().map_err(refused)
}

/// The village of this township a form names.
fn village_of(reg: &data::Registry, raw: Option<&String>) -> Result<VillageId, PageError> {
    raw.and_then(|v| v.parse::<VillageId>().ok())
        .filter(|v| reg.villages.iter().any(|x| x.id == *v))
        .ok_or_else(|| bad("请选择本镇的一个村", "pick a village of this township"))
}

// ---------------------------------------------------------------------------------------------
// 有问题 on the evidence page.

/// The evidence page's review part: the form (inspections only) and the fact's reviews.
pub(crate) fn evidence_reviews(
    st: &AppState,
    ctx: &Ctx,
    fact_id: &str,
) -> Result<Value, PageError> {
    let township = ctx.township.id.clone();
    let rows = st.db.tx(|tx| {
        tx.query(
            "SELECT row_json FROM fact WHERE id = $1 AND township_id = $2 AND kind = 'inspection'",
            vals![fact_id, &township],
        )
    })?;
    let Some(row) = rows.first() else {
        return Ok(json!({"inspection": false}));
    };
    let insp: Inspection =
        serde_json::from_str(&text(row, 0, "row_json")?).map_err(PageError::internal)?;
    let office = ranking::office(st, ctx)?;
    let reviews: Vec<Value> = office
        .reviews(Some(fact_id))
        .map_err(refused)?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "comment": r.comment,
                "photo": r.photo.map(|p| p.chars().take(12).collect::<String>()),
                "by": r.by,
                "at": cn(&r.at),
                "resolved": r.resolved_by.is_some(),
                "correction": r.resolved_by.as_ref().map(|c| json!({
                    "id": c,
                    "href": href(ctx, &format!("/dashboard/facts/{c}/evidence"), &[]),
                })),
            })
        })
        .collect();
    Ok(json!({
        "inspection": true,
        "action": href(ctx, &format!("/dashboard/facts/{fact_id}/review"), &[]),
        "photos": insp.photos().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "list": reviews,
        "done": ctx.query.get("reviewed").is_some_and(|d| d == "1"),
    }))
}

/// `POST /dashboard/facts/{id}/review` with `csrf`, `comment` and optional `photo`.
pub(crate) async fn mark_review(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let fact: InspectionId = id
            .parse()
            .map_err(|_| bad("记录编号格式不对", "that is not a record id"))?;
        let photo = form
            .get("photo")
            .map(|p| p.trim())
            .filter(|p| !p.is_empty());
        let comment = form.get("comment").map(String::as_str).unwrap_or_default();
        ranking::office(&st, &c)?
            .mark_review(fact, photo, comment, &by(&c))
            .map_err(refused)?;
        Ok(href(
            &c,
            &format!("/dashboard/facts/{fact}/evidence"),
            &[("reviewed", "1".into())],
        ))
    })
    .await;
    finish(&ctx, res)
}

// ---------------------------------------------------------------------------------------------
// Appeals.

fn appeals_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let reg = data::registry(&st.db, &ctx.township.id)?;
    let period = period_or_this_month(st, ctx)?;
    let chosen = ctx
        .query
        .get("village")
        .and_then(|v| v.parse::<VillageId>().ok())
        .filter(|v| reg.villages.iter().any(|x| x.id == *v))
        .or_else(|| reg.villages.first().map(|v| v.id));
    let villages: Vec<Value> = reg
        .villages
        .iter()
        .map(|v| json!({"id": v.id.to_string(), "name": v.name, "selected": Some(v.id) == chosen}))
        .collect();
    // The chosen village's inspections of the period, by capture time in China.
    let months = period.months();
    let (from, to) = match (months.first(), months.last()) {
        (Some(&(y1, m1)), Some(&(y2, m2))) => (
            Month {
                year: y1,
                month: m1,
            }
            .range()
            .0,
            Month {
                year: y2,
                month: m2,
            }
            .range()
            .1,
        ),
        _ => return Err(refused(ScoringError::BadPeriod(period.to_string()))),
    };
    let facts: Vec<Value> = match chosen {
        Some(v) => st
            .db
            .tx(|tx| {
                tx.query(
                    "SELECT row_json FROM fact WHERE township_id = $1 AND kind = 'inspection' AND village_id = $2 AND device_time >= $3 AND device_time < $4 ORDER BY device_time, id",
                    vals![&ctx.township.id, v.to_string(), crate::core::ts(from), crate::core::ts(to)],
                )
            })?
            .iter()
            .filter_map(|r| serde_json::from_str::<Inspection>(&text(r, 0, "row_json").ok()?).ok())
            .map(|i| {
                json!({
                    "id": i.id.to_string(),
                    "at": cn_time(i.started_at),
                    "subject": reg.subject_name(&i.subject.id.to_string()),
                    "href": href(ctx, &format!("/dashboard/facts/{}/evidence", i.id), &[]),
                })
            })
            .collect(),
        None => vec![],
    };
    let office = ranking::office(st, ctx)?;
    let appeals: Vec<Value> = office
        .appeals()
        .map_err(refused)?
        .into_iter()
        .map(|a| {
            let outcome = a.outcome.clone().unwrap_or_default();
            json!({
                "id": a.id,
                "village": reg.village_name(&a.village.to_string()),
                "period": a.period,
                "facts": a.facts.iter().map(|f| json!({
                    "id": f.chars().take(8).collect::<String>(),
                    "href": href(ctx, &format!("/dashboard/facts/{f}/evidence"), &[]),
                })).collect::<Vec<_>>(),
                "reason": a.reason,
                "evidence": a.evidence,
                "filed_at": cn(&a.filed_at),
                "outcome": outcome,
                "outcome_label": match outcome.as_str() {
                    "upheld" => ctx.lang.pick("采纳", "Upheld"),
                    "rejected" => ctx.lang.pick("维持", "Rejected"),
                    _ => ctx.lang.pick("待处理", "Undecided"),
                },
                "note": a.note.unwrap_or_default(),
                "decide": href(ctx, &format!("/dashboard/appeals/{}/decide", a.id), &[]),
            })
        })
        .collect();
    let recomputed: Vec<String> = ctx
        .query
        .get("recomputed")
        .map(|r| {
            r.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "period": period.to_string(),
        "villages": villages,
        "facts": facts,
        "appeals": appeals,
        "action": href(ctx, "/dashboard/appeals", &[]),
        "filed": ctx.query.get("filed").is_some_and(|d| d == "1"),
        "decided": ctx.query.get("decided").cloned().filter(|d| d == "upheld" || d == "rejected"),
        "recomputed": recomputed,
    }))
}

/// `GET /dashboard/appeals?village=ID&period=2026-11`: the appeals and the form to file one.
pub(crate) async fn appeals_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || appeals_data(&st, &c)).await;
    respond(
        &ctx,
        "/dashboard/appeals",
        "appeals.html",
        "nav_appeals",
        res,
    )
}

/// `POST /dashboard/appeals` with `csrf`, `village`, `period`, `fact` (repeated), `reason`,
/// `evidence`.
pub(crate) async fn file_appeal(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let form: HashMap<String, String> = pairs.iter().cloned().collect();
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let reg = data::registry(&st.db, &c.township.id)?;
        let village = village_of(&reg, form.get("village"))?;
        let facts = pairs
            .iter()
            .filter(|(k, _)| k == "fact")
            .map(|(_, v)| {
                v.parse::<InspectionId>()
                    .map_err(|_| bad("检查记录编号格式不对", "that is not an inspection id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let period = form.get("period").map(|p| p.trim()).unwrap_or_default();
        let a = ranking::office(&st, &c)?
            .file_appeal(
                village,
                period,
                &facts,
                form.get("reason").map(String::as_str).unwrap_or_default(),
                form.get("evidence").map(String::as_str).unwrap_or_default(),
                &by(&c),
            )
            .map_err(refused)?;
        Ok(href(
            &c,
            "/dashboard/appeals",
            &[
                ("village", village.to_string()),
                ("period", a.period),
                ("filed", "1".into()),
            ],
        ))
    })
    .await;
    finish(&ctx, res)
}

/// `POST /dashboard/appeals/{id}/decide` with `csrf`, `outcome` (`upheld` or `rejected`) and
/// `note`. An upheld appeal recomputes the period's stored rankings; the page names them.
pub(crate) async fn decide_appeal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let upheld = match form.get("outcome").map(String::as_str) {
            Some("upheld") => true,
            Some("rejected") => false,
            _ => {
                return Err(bad("请选择“采纳”或“维持”", "choose upheld or rejected"));
            }
        };
        let note = form.get("note").map(|n| n.trim()).unwrap_or_default();
        let redone = ranking::office(&st, &c)?
            .decide_appeal(id.trim(), upheld, note, &by(&c))
            .map_err(refused)?;
        let list: Vec<String> = redone
            .iter()
            .map(|r| format!("{} {} v{}", r.period, r.scheme_code, r.scheme_version))
            .collect();
        Ok(href(
            &c,
            "/dashboard/appeals",
            &[
                ("decided", if upheld { "upheld" } else { "rejected" }.into()),
                ("recomputed", list.join(",")),
            ],
        ))
    })
    .await;
    finish(&ctx, res)
}

// ---------------------------------------------------------------------------------------------
// Publishing a ranking.

/// `POST /dashboard/ranking/publish` with `csrf`, `period` and optional `scheme`.
pub(crate) async fn publish_ranking(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let period = form.get("period").map(|p| p.trim()).unwrap_or_default();
        let scheme = form
            .get("scheme")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        let r = ranking::office(&st, &c)?
            .publish_ranking(period, scheme, &by(&c))
            .map_err(refused)?;
        let mut q = vec![("period", r.period)];
        if let Some(s) = scheme {
            q.push(("scheme", s.to_owned()));
        }
        Ok(href(&c, "/dashboard/ranking", &q))
    })
    .await;
    finish(&ctx, res)
}

// ---------------------------------------------------------------------------------------------
// Scheme C inputs.

fn inputs_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let reg = data::registry(&st.db, &ctx.township.id)?;
    let period = period_or_this_month(st, ctx)?;
    let stored: HashMap<String, (i64, i64)> = st
        .db
        .tx(|tx| {
            tx.query(
                "SELECT village_id, tasks, satisfaction FROM village_input WHERE township_id = $1 AND period = $2",
                vals![&ctx.township.id, period.to_string()],
            )
        })?
        .iter()
        .map(|r| {
            Ok((
                text(r, 0, "village_id")?,
                (int(r, 1, "tasks")?, int(r, 2, "satisfaction")?),
            ))
        })
        .collect::<Result<_, crate::store::StorageError>>()?;
    let rows: Vec<Value> = reg
        .villages
        .iter()
        .map(|v| {
            let s = stored.get(&v.id.to_string());
            json!({
                "id": v.id.to_string(),
                "name": v.name,
                "tasks": s.map(|x| Amount(x.0).to_string()).unwrap_or_default(),
                "satisfaction": s.map(|x| Amount(x.1).to_string()).unwrap_or_default(),
                "entered": s.is_some(),
            })
        })
        .collect();
    Ok(json!({
        "period": period.to_string(),
        "rows": rows,
        "action": href(ctx, "/dashboard/inputs", &[]),
        "saved": ctx.query.get("saved").cloned().unwrap_or_default(),
    }))
}

/// `GET /dashboard/inputs?period=2026-11`: each village's 交办工作 and 群众满意度.
pub(crate) async fn inputs_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || inputs_data(&st, &c)).await;
    respond(&ctx, "/dashboard/inputs", "inputs.html", "nav_inputs", res)
}

/// `POST /dashboard/inputs` with `csrf`, `period`, `village`, `tasks`, `satisfaction`.
pub(crate) async fn save_input(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let reg = data::registry(&st.db, &c.township.id)?;
        let village = village_of(&reg, form.get("village"))?;
        let number = |k: &str| {
            form.get(k).and_then(|v| parse_amount(v)).ok_or_else(|| {
                bad(
                    "请输入0到100之间的分数（最多两位小数）",
                    "enter a score from 0 to 100 (two decimals at most)",
                )
            })
        };
        let (tasks, satisfaction) = (number("tasks")?, number("satisfaction")?);
        let period: PeriodKey = form
            .get("period")
            .map(|p| p.trim())
            .unwrap_or_default()
            .parse()
            .map_err(refused)?;
        ranking::office(&st, &c)?
            .set_village_input(village, &period.to_string(), tasks, satisfaction, &by(&c))
            .map_err(refused)?;
        Ok(href(
            &c,
            "/dashboard/inputs",
            &[
                ("period", period.to_string()),
                ("saved", village.to_string()),
            ],
        ))
    })
    .await;
    finish(&ctx, res)
}

// ---------------------------------------------------------------------------------------------
// Schemes.

fn schemes_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let office = ranking::office(st, ctx)?;
    let list: Vec<Value> = office
        .schemes()
        .map_err(refused)?
        .iter()
        .map(|s| {
            let yuan = match &s.kind {
                SchemeKind::Yuan(y) => Some(json!({
                    "base_subsidy": y.base_subsidy.to_string(),
                    "rules": y.rules.iter().map(|r| match &r.effect {
                        Effect::PerUnit { amount } => json!({
                            "code": r.code, "label": r.label_zh, "amount": amount.to_string(), "editable": true,
                        }),
                        Effect::ForfeitSubsidy { cadre_pay_cut_pct } => json!({
                            "code": r.code, "label": r.label_zh, "pct": cadre_pay_cut_pct, "editable": false,
                        }),
                    }).collect::<Vec<_>>(),
                })),
                SchemeKind::Points(_) => None,
            };
            json!({
                "code": s.code,
                "name": ctx.lang.pick(&s.name_zh, &s.name_en),
                "version": s.version,
                "yuan": yuan,
            })
        })
        .collect();
    Ok(json!({
        "schemes": list,
        "action": href(ctx, "/dashboard/schemes", &[]),
        "published": ctx.query.get("published").cloned().unwrap_or_default(),
        "version": ctx.query.get("version").cloned().unwrap_or_default(),
    }))
}

/// `GET /dashboard/schemes`: the latest version of each scheme and the yuan scheme's form.
pub(crate) async fn schemes_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || schemes_data(&st, &c)).await;
    respond(
        &ctx,
        "/dashboard/schemes",
        "schemes.html",
        "nav_schemes",
        res,
    )
}

/// `POST /dashboard/schemes` with `csrf`, `code`, `base_subsidy` and `rule_<CODE>` for each
/// per-unit rule: publishes the next version of that yuan scheme.
pub(crate) async fn publish_scheme(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let office = ranking::office(&st, &c)?;
        let code = form.get("code").map(|s| s.trim()).unwrap_or_default();
        let mut scheme = office
            .schemes()
            .map_err(refused)?
            .into_iter()
            .find(|s| s.code == code)
            .ok_or_else(|| refused(ScoringError::UnknownScheme(code.chars().take(64).collect())))?;
        let SchemeKind::Yuan(y) = &mut scheme.kind else {
            return Err(bad(
                "这里只能修改扣款制方案的金额",
                "only a yuan scheme's amounts are edited here",
            ));
        };
        let money = |k: &str, what: &str| {
            form.get(k).and_then(|v| parse_amount(v)).ok_or_else(|| {
                PageError::bad(
                    cunjie_protocol::v1::codes::BAD_REQUEST,
                    format!("{what}须是金额（元，最多两位小数）"),
                    format!("{what} must be an amount in yuan (two decimals at most)"),
                )
            })
        };
        let base = money("base_subsidy", "基本考核补助")?;
        if base < Amount::ZERO {
            return Err(bad(
                "基本考核补助不能为负数",
                "the base subsidy cannot be negative",
            ));
        }
        y.base_subsidy = base;
        for r in &mut y.rules {
            if let Effect::PerUnit { amount } = &mut r.effect {
                *amount = money(&format!("rule_{}", r.code), &r.label_zh)?;
            }
        }
        let version = office.publish_scheme(&scheme, &by(&c)).map_err(refused)?;
        Ok(href(
            &c,
            "/dashboard/schemes",
            &[
                ("published", scheme.code.clone()),
                ("version", version.to_string()),
            ],
        ))
    })
    .await;
    finish(&ctx, res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_as_typed() {
        assert_eq!(parse_amount("85"), Some(Amount::whole(85)), "whole");
        assert_eq!(parse_amount(" 85.5 "), Some(Amount(8550)), "one decimal");
        assert_eq!(parse_amount("-50.25"), Some(Amount(-5025)), "negative");
        for bad in ["", "abc", "1.234", "1e3", ".5", "--1", "1.2.3"] {
            assert_eq!(parse_amount(bad), None, "{bad:?} is refused");
        }
    }

    #[test]
    fn form_labels_exist_once_in_both_languages() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, zh, en) in FORM_LABELS {
            assert!(seen.insert(*k), "label {k} is defined once");
            assert!(!zh.is_empty() && !en.is_empty(), "label {k} has zh and en");
        }
        for (name, src) in render::TEMPLATES {
            let mut rest = *src;
            while let Some(i) = rest.find("F.") {
                rest = &rest[i + 2..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    seen.contains(key.as_str()),
                    "template {name} uses F.{key}, which has no label"
                );
            }
        }
    }

    #[test]
    fn repeated_form_keys_are_kept() {
        let p = form_pairs(b"fact=a&fact=b&reason=%E5%9E%83%E5%9C%BE+x");
        assert_eq!(
            p.iter().filter(|(k, _)| k == "fact").count(),
            2,
            "both checkboxes"
        );
        assert!(p.contains(&("reason".into(), "垃圾 x".into())), "decoded");
    }
}
