//! Page handlers: each reads on a blocking thread, builds the template's data, renders.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration};
use cunjie_domain::fact::{Outcome, PhotoHash, RectificationState};
use cunjie_domain::person::Role;
use cunjie_domain::place::{GeoPoint, ZoneGeometry};
use cunjie_domain::scoring::score_inspection;
use serde_json::{Value, json};

use super::cleaners::{PayRule, cleaner_months};
use super::data::{self, Month, cn_date, cn_day_start, cn_time};
use super::map::Projection;
use super::ranking::{self, Table, item_label};
use super::render;
use super::{
    Ctx, Lang, PageError, SESSION_COOKIE, blocking, check_csrf, form_map, query_map, request_lang,
};
use crate::AppState;
use crate::core::{audit, auth, photos, sha256_hex, ts};
use crate::store::vals;

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

/// A link inside the dashboard keeping county staff's `township=`.
fn href(ctx: &Ctx, path: &str, q: &[(&str, String)]) -> String {
    let mut keep: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let t = ctx.township_param();
    if !t.is_empty() {
        keep.push(("township".into(), ctx.township.code.clone()));
    }
    render::link(path, &keep)
}

fn state_label(s: RectificationState, lang: Lang) -> &'static str {
    match s {
        RectificationState::Open => lang.pick("待整改", "Open"),
        RectificationState::Submitted => lang.pick("待复查", "Awaiting re-check"),
        RectificationState::Verified => lang.pick("已销号", "Verified"),
        RectificationState::Overdue => lang.pick("已逾期", "Overdue"),
    }
}

fn state_code(s: RectificationState) -> &'static str {
    match s {
        RectificationState::Open => "open",
        RectificationState::Submitted => "submitted",
        RectificationState::Verified => "verified",
        RectificationState::Overdue => "overdue",
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

// ---------------------------------------------------------------------------------------------
// Login and logout.

/// `GET /dashboard/login` (straight to the overview with a valid session).
pub(crate) async fn login_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(token) = super::cookie(&headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
        let db = st.db.clone();
        let now = st.clock.now();
        let valid = blocking(move || {
            Ok(db.tx(|tx| {
                Ok::<_, crate::store::StorageError>(auth::staff_by_session(tx, &token, now).is_ok())
            })?)
        })
        .await
        .unwrap_or(false);
        if valid && uri.query().is_none_or(|q| !q.contains("lang=")) {
            return Redirect::to("/dashboard/").into_response();
        }
    }
    let q = query_map(uri.query());
    let (lang, set) = request_lang(&headers, &q);
    let mut r = render::login_page(lang, None, StatusCode::OK);
    if let Some(l) = set
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{}={}; Path=/dashboard; Max-Age=31536000; SameSite=Lax",
            super::LANG_COOKIE,
            l.code()
        ))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `POST /dashboard/login` with `username` and `password`.
pub(crate) async fn login_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (lang, _) = request_lang(&headers, &Default::default());
    let form = form_map(&body);
    let (Some(user), Some(pass)) = (
        form.get("username")
            .filter(|u| !u.trim().is_empty())
            .cloned(),
        form.get("password").filter(|p| !p.is_empty()).cloned(),
    ) else {
        let e = PageError::bad(
            "bad_request",
            "请填写用户名和密码",
            "Enter your user name and password",
        );
        return render::login_page(lang, Some(&e), StatusCode::BAD_REQUEST);
    };
    let now = st.clock.now();
    let db = st.db.clone();
    let res = blocking(move || {
        // A successful sign-in is recorded in the audit log in the same transaction.
        let login = db.tx(|tx| {
            let (token, township) = auth::staff_login(tx, user.trim(), &pass, now)?;
            audit::append(
                tx,
                &township.to_string(),
                &ts(now),
                &format!("staff:{}", user.trim()),
                "dashboard_login",
                "dashboard",
                &json!({}),
            )?;
            Ok::<_, auth::AuthError>(token)
        });
        match login {
            Ok(token) => Ok(Some(token)),
            Err(auth::AuthError::BadLogin) => Ok(None),
            Err(e) => Err(PageError::from(e)),
        }
    })
    .await;
    match res {
        Ok(Some(token)) => {
            let mut r = Redirect::to("/dashboard/").into_response();
            // Behind a TLS-terminating proxy the cookie is also `Secure`; on a plain-HTTP office
            // LAN it cannot be.
            let secure = headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200{}",
                if secure { "; Secure" } else { "" }
            )) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Ok(None) => {
            let e = PageError::new(
                StatusCode::UNAUTHORIZED,
                "bad_login",
                "用户名或密码错误，请重新输入",
                "Wrong user name or password",
            );
            render::login_page(lang, Some(&e), StatusCode::UNAUTHORIZED)
        }
        Err(e) => render::login_page(lang, Some(&e), e.status),
    }
}

/// `POST /dashboard/logout`: ends the session (CSRF-checked).
pub(crate) async fn logout(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    if let Err(e) = check_csrf(&ctx, &form_map(&body)) {
        return render::error_page(ctx.lang, &e);
    }
    let db = st.db.clone();
    let hash = sha256_hex(&ctx.token);
    let township = ctx.township.id.clone();
    let user = ctx.username.clone();
    let now = st.clock.now();
    let res = blocking(move || {
        db.tx(|tx| {
            if tx.exec(
                "DELETE FROM staff_session WHERE token_hash = $1",
                vals![&hash],
            )? > 0
            {
                audit::append(
                    tx,
                    &township,
                    &ts(now),
                    &format!("staff:{user}"),
                    "dashboard_logout",
                    "dashboard",
                    &json!({}),
                )?;
            }
            Ok::<_, PageError>(())
        })
    })
    .await;
    if let Err(e) = res {
        return render::error_page(ctx.lang, &e);
    }
    let mut r = Redirect::to("/dashboard/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "cunjie_session=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// Overview.

/// `GET /dashboard/`.
pub(crate) async fn overview(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || overview_data(&st, &c)).await;
    respond(&ctx, "/dashboard/", "overview.html", "overview_title", res)
}

fn overview_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let tid = ctx.township.id.clone();
    let now = st.clock.now();
    let today = cn_date(now);
    let reg = data::registry(&st.db, &tid)?;
    let (ds, de) = (cn_day_start(today), cn_day_start(today + Duration::days(1)));
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let (rounds, week, rects, silent, pending) = st.db.tx(|tx| {
        Ok::<_, PageError>((
            data::rounds(tx, &tid, ds, de)?,
            data::inspections(tx, &tid, cn_day_start(monday), de)?,
            data::rectifications(tx, &tid, today)?,
            data::silent_devices(tx, &tid, now - Duration::days(3))?,
            data::photos_pending(tx, &tid)?,
        ))
    })?;
    let mut expected = 0usize;
    let mut done = 0usize;
    let mut cleaners = vec![];
    for p in reg.cleaners() {
        let zones = reg.zones_of(p, ds, de);
        let walked: BTreeSet<_> = rounds
            .iter()
            .filter(|r| r.cleaner == p.id)
            .map(|r| r.zone)
            .collect();
        let n_done = zones.iter().filter(|z| walked.contains(&z.id)).count();
        expected += zones.len();
        done += n_done;
        cleaners.push(json!({
            "name": p.name,
            "zones": zones.iter().map(|z| z.name.clone()).collect::<Vec<_>>().join("、"),
            "done": n_done,
            "expected": zones.len(),
        }));
    }
    let open = rects
        .iter()
        .filter(|o| o.state == RectificationState::Open)
        .count();
    let submitted = rects
        .iter()
        .filter(|o| o.state == RectificationState::Submitted)
        .count();
    let overdue = rects
        .iter()
        .filter(|o| o.state == RectificationState::Overdue)
        .count();
    let silent: Vec<Value> = silent
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "person": d.person,
                "role": role_label(&d.role, ctx.lang),
                "last_seen": d.last_seen.clone().unwrap_or_else(|| ctx.lang.pick("从未", "never").to_owned()),
            })
        })
        .collect();
    Ok(json!({
        "today": today.to_string(),
        "rounds_done": done,
        "rounds_expected": expected,
        "inspections_week": week.len(),
        "week_from": monday.to_string(),
        "rect_open": open,
        "rect_submitted": submitted,
        "rect_overdue": overdue,
        "devices_silent": silent.len(),
        "silent": silent,
        "photos_pending": pending,
        "cleaners": cleaners,
        "links": {
            "open": href(ctx, "/dashboard/rectifications", &[("state", "open".into())]),
            "overdue": href(ctx, "/dashboard/rectifications", &[("state", "overdue".into())]),
            "submitted": href(ctx, "/dashboard/rectifications", &[("state", "submitted".into())]),
            "ranking": href(ctx, "/dashboard/ranking", &[]),
        },
    }))
}

fn role_label(role: &str, lang: Lang) -> String {
    serde_json::from_value::<Role>(Value::String(role.to_owned()))
        .map(|r| match lang {
            Lang::Zh => r.label_zh().to_owned(),
            Lang::En => role.to_lowercase().replace('_', " "),
        })
        .unwrap_or_else(|_| role.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Ranking, recompute, notice.

fn period_links(
    ctx: &Ctx,
    period: crate::core::scoring::PeriodKey,
    scheme: &Option<String>,
) -> Value {
    let (y, m) = period.months().last().copied().unwrap_or((2026, 1));
    let mk = |p: String| {
        let mut q = vec![("period", p)];
        if let Some(s) = scheme {
            q.push(("scheme", s.clone()));
        }
        href(ctx, "/dashboard/ranking", &q)
    };
    let kind = match period {
        crate::core::scoring::PeriodKey::Month { .. } => "month",
        crate::core::scoring::PeriodKey::Quarter { .. } => "quarter",
        crate::core::scoring::PeriodKey::Half { .. } => "half",
    };
    json!({
        "kind": kind,
        "month": mk(format!("{y:04}-{m:02}")),
        "quarter": mk(format!("{y:04}-Q{}", (m - 1) / 3 + 1)),
        "half": mk(format!("{y:04}-H{}", (m - 1) / 6 + 1)),
        "prev": mk(period.prev().to_string()),
    })
}

fn board(rb: Option<&crate::core::scoring::RedBlack>) -> Value {
    let Some(rb) = rb else {
        return json!({"red_villages": [], "black_villages": [], "red_households": [], "black_households": []});
    };
    let v = |list: &[crate::core::scoring::VillageRank]| -> Vec<Value> {
        list.iter()
            .map(|x| json!({"name": x.village_name, "score": x.score.to_string(), "rank": x.rank}))
            .collect()
    };
    let h = |list: &[crate::core::scoring::BoardHousehold]| -> Vec<Value> {
        list.iter()
            .map(|x| {
                json!({
                    "id": x.household.to_string(),
                    "head": x.head_name,
                    "plate": x.door_plate,
                    "village": x.village_name,
                    "score": x.score.to_string(),
                    "reason": x.reason,
                })
            })
            .collect()
    };
    json!({
        "month": rb.month,
        "red_villages": v(&rb.red_villages),
        "black_villages": v(&rb.black_villages),
        "red_households": h(&rb.red_households),
        "black_households": h(&rb.black_households),
    })
}

fn ranking_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let today = cn_date(st.clock.now());
    let period = ranking::period_param(ctx, today)?;
    let scheme = ranking::scheme_param(ctx);
    let office = ranking::office(st, ctx)?;
    let r = office.ranking(&period.to_string(), scheme.as_deref())?;
    let table = Table::from_ranking(&r, ctx.lang);
    // The 红黑榜 is monthly and ranks by the monthly scheme: a failure there leaves it empty
    // rather than failing the page.
    let rb = office
        .red_black(&ranking::last_month(period), scheme.as_deref())
        .ok();
    let schemes: Vec<Value> = office
        .schemes()
        .map(|all| {
            all.iter()
                .map(|s| {
                    json!({
                        "code": s.code,
                        "name": ctx.lang.pick(&s.name_zh, &s.name_en),
                        "selected": s.code == table.scheme_code,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut q = vec![("period", period.to_string())];
    if let Some(s) = &scheme {
        q.push(("scheme", s.clone()));
    }
    Ok(json!({
        "t": table,
        "board": board(rb.as_ref()),
        "schemes": schemes,
        "scheme_param": scheme.clone().unwrap_or_default(),
        "periods": period_links(ctx, period, &scheme),
        "done": ctx.query.get("done").is_some_and(|d| d == "1"),
        "export": {
            "xlsx": href(ctx, "/dashboard/export/ranking.xlsx", &q),
            "csv": href(ctx, "/dashboard/export/ranking.csv", &q),
            "notice": href(ctx, "/dashboard/notice", &[("period", period.to_string())]),
        },
    }))
}

/// `GET /dashboard/ranking?period=2026-11&scheme=CODE`.
pub(crate) async fn ranking_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || ranking_data(&st, &c)).await;
    respond(
        &ctx,
        "/dashboard/ranking",
        "ranking.html",
        "ranking_title",
        res,
    )
}

/// `POST /dashboard/ranking/recompute` with `csrf`, `period` and optional `scheme`.
pub(crate) async fn recompute(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form_map(&body);
    if let Err(e) = check_csrf(&ctx, &form) {
        return render::error_page(ctx.lang, &e);
    }
    let c = ctx.clone();
    let res = blocking(move || {
        let period: crate::core::scoring::PeriodKey =
            form.get("period").cloned().unwrap_or_default().parse()?;
        let scheme = form.get("scheme").filter(|s| !s.is_empty()).cloned();
        let office = ranking::office(&st, &c)?;
        let r = office.recompute(
            &period.to_string(),
            scheme.as_deref(),
            &format!("staff:{}", c.username),
        )?;
        let mut q = vec![("period", r.period.clone())];
        if let Some(s) = scheme {
            q.push(("scheme", s));
        }
        q.push(("done", "1".into()));
        Ok(href(&c, "/dashboard/ranking", &q))
    })
    .await;
    match res {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

/// `GET /dashboard/notice?period=2026-11`: the print-ready monthly 通报.
pub(crate) async fn notice(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let mut v = ranking_data(&st, &c)?;
        let today = cn_date(st.clock.now());
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "issued".into(),
                json!(format!(
                    "{}年{}月{}日",
                    today.year(),
                    today.month(),
                    today.day()
                )),
            );
        }
        Ok(v)
    })
    .await;
    respond(
        &ctx,
        "/dashboard/notice",
        "notice.html",
        "notice_title",
        res,
    )
}

// ---------------------------------------------------------------------------------------------
// Cleaners.

/// `GET /dashboard/cleaners?month=2026-11`.
pub(crate) async fn cleaners_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || cleaners_data(&st, &c)).await;
    respond(
        &ctx,
        "/dashboard/cleaners",
        "cleaners.html",
        "cleaners_title",
        res,
    )
}

pub(crate) fn month_param(ctx: &Ctx, today: chrono::NaiveDate) -> Result<Month, PageError> {
    match ctx.query.get("month").filter(|m| !m.is_empty()) {
        None => Ok(Month::of(today)),
        Some(m) => Month::parse(m).ok_or_else(|| {
            PageError::bad(
                "bad_month",
                format!(
                    "月份 '{}' 无法识别，请用 2026-11 这样的格式",
                    m.chars().take(20).collect::<String>()
                ),
                "the month is not understood; use the form 2026-11",
            )
        }),
    }
}

/// Every cleaner's months `months` (oldest first), computed from the facts.
pub(crate) fn cleaner_history(
    st: &AppState,
    tid: &str,
    reg: &data::Registry,
    months: &[Month],
    rule: &PayRule,
) -> Result<Vec<(Month, Vec<super::cleaners::CleanerMonth>)>, PageError> {
    let today = cn_date(st.clock.now());
    months
        .iter()
        .map(|m| {
            let (from, to) = m.range();
            let (rounds, insps) = st.db.tx(|tx| {
                Ok::<_, PageError>((
                    data::rounds(tx, tid, from, to)?,
                    data::inspections(tx, tid, from, to)?,
                ))
            })?;
            let last = if Month::of(today) == *m {
                today
            } else {
                m.next().first() - Duration::days(1)
            };
            Ok((*m, cleaner_months(reg, *m, last, &rounds, &insps, rule)))
        })
        .collect()
}

fn cleaners_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let today = cn_date(st.clock.now());
    let month = month_param(ctx, today)?;
    let reg = data::registry(&st.db, &ctx.township.id)?;
    let rule = PayRule::default();
    let months = [month.prev().prev(), month.prev(), month];
    let hist = cleaner_history(st, &ctx.township.id, &reg, &months, &rule)?;
    let current = hist.last().map(|(_, v)| v.clone()).unwrap_or_default();
    let rows: Vec<Value> = current
        .iter()
        .map(|c| {
            // A month in which nobody in the township recorded a round has no data, not a
            // floor coefficient for everyone.
            let history: Vec<String> = hist
                .iter()
                .map(|(_, list)| {
                    let any = list.iter().any(|x| x.rounds > 0);
                    list.iter()
                        .find(|x| x.person_id == c.person_id)
                        .filter(|_| any)
                        .map_or_else(|| "—".to_owned(), |x| format!("{:.2}", x.coefficient))
                })
                .collect();
            json!({
                "name": c.name,
                "zones": c.zones.join("、"),
                "attendance": format!("{}/{}", c.days_with_round, c.working_days),
                "attendance_pct": pct(c.attendance),
                "rounds": c.rounds,
                "coverage": c.coverage.map_or_else(|| "—".to_owned(), pct),
                "on_time": format!("{}/{}", c.checkpoints_cleared, c.checkpoints_expected),
                "on_time_pct": pct(c.on_time),
                "problems": c.problems,
                "coefficient": format!("{:.2}", c.coefficient),
                "history": history,
            })
        })
        .collect();
    Ok(json!({
        "month": month.to_string(),
        "months": months.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "prev": href(ctx, "/dashboard/cleaners", &[("month", month.prev().to_string())]),
        "next": href(ctx, "/dashboard/cleaners", &[("month", month.next().to_string())]),
        "rows": rows,
        "rule": rule,
    }))
}

// ---------------------------------------------------------------------------------------------
// Households.

/// `GET /dashboard/households?q=`.
/// The QR code of `text` as an inline SVG (dark modules as one path), for printing.
fn qr_svg(text: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|_| {
        PageError::bad(
            "bad_qr",
            "二维码内容太长",
            "the text is too long for a QR code",
        )
    })?;
    let n = code.width();
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % n + 4, i / n + 4));
        }
    }
    let side = n + 8;
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" role="img"><rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

/// `GET /dashboard/plates?village=TP`: a printable sheet of door-plate QR codes
/// (`cunjie://household/ID`, `cunjie://business/ID`) that the phone's 拍二维码 opens.
pub(crate) async fn plates(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let reg = data::registry(&st.db, &c.township.id)?;
        let wanted = c.query.get("village").map(|v| v.trim().to_owned());
        let village = match &wanted {
            Some(code) => reg
                .villages
                .iter()
                .find(|v| &v.code == code)
                .ok_or_else(|| {
                    PageError::bad(
                        "unknown_village",
                        "本镇没有这个村",
                        "no such village in this township",
                    )
                })?,
            None => reg.villages.first().ok_or_else(|| {
                PageError::bad(
                    "no_village",
                    "本镇还没有登记村",
                    "no village registered yet",
                )
            })?,
        };
        let mut plates = Vec::new();
        for h in reg.households.iter().filter(|h| h.village == village.id) {
            plates.push(json!({
                "plate": h.door_plate,
                "name": h.head_name,
                "group": reg.group_name(&h.group.to_string()),
                "svg": qr_svg(&format!("cunjie://household/{}", h.id))?,
            }));
        }
        for b in reg.businesses.iter().filter(|b| b.village == village.id) {
            plates.push(json!({
                "plate": b.door_plate,
                "name": b.name,
                "group": c.lang.pick(b.kind.label_zh(), b.kind.label_en()),
                "svg": qr_svg(&format!("cunjie://business/{}", b.id))?,
            }));
        }
        let villages: Vec<Value> = reg
            .villages
            .iter()
            .map(|v| json!({"code": v.code, "name": v.name, "selected": v.id == village.id}))
            .collect();
        Ok(json!({"village": village.name, "villages": villages, "plates": plates}))
    })
    .await;
    respond(
        &ctx,
        "/dashboard/plates",
        "plates.html",
        "plates_title",
        res,
    )
}

pub(crate) async fn households(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let q = c
            .query
            .get("q")
            .map(|q| q.trim().to_owned())
            .unwrap_or_default();
        if q.chars().count() > 50 {
            return Err(PageError::bad(
                "bad_query",
                "搜索词太长（最多50字）",
                "the search is too long (50 characters at most)",
            ));
        }
        let reg = data::registry(&st.db, &c.township.id)?;
        let all: Vec<_> = reg
            .households
            .iter()
            .filter(|h| q.is_empty() || h.head_name.contains(&q) || h.door_plate.contains(&q))
            .collect();
        let total = all.len();
        let found: Vec<_> = all.into_iter().take(100).collect();
        // Every listed household's latest score, in one read transaction.
        let ids: Vec<String> = found.iter().map(|h| h.id.to_string()).collect();
        let scores: Vec<Option<String>> = st.db.tx(|tx| {
            let mut tpls = data::Templates::default();
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                let list = data::inspections_of(tx, &c.township.id, id)?;
                out.push(match list.first() {
                    Some(s) => tpls
                        .get(tx, &s.insp.template.id.to_string(), s.insp.template.version)?
                        .map(|t| score_inspection(t, &s.insp).score.to_string()),
                    None => None,
                });
            }
            Ok::<_, PageError>(out)
        })?;
        let rows: Vec<Value> = found
            .iter()
            .zip(scores)
            .map(|(h, last)| {
                let id = h.id.to_string();
                json!({
                    "id": id,
                    "head": h.head_name,
                    "plate": h.door_plate,
                    "village": reg.village_name(&h.village.to_string()),
                    "group": reg.group_name(&h.group.to_string()),
                    "last_score": last.unwrap_or_else(|| "—".to_owned()),
                    "href": href(&c, &format!("/dashboard/households/{id}"), &[]),
                })
            })
            .collect();
        Ok(json!({
            "q": q,
            "rows": rows,
            "total": total,
            "shown": found.len(),
            "plates_href": href(&c, "/dashboard/plates", &[]),
        }))
    })
    .await;
    respond(
        &ctx,
        "/dashboard/households",
        "households.html",
        "households_title",
        res,
    )
}

fn photo_list(
    hashes: &[PhotoHash],
    known: &BTreeMap<String, data::PhotoRow>,
    ctx: &Ctx,
) -> Vec<Value> {
    hashes
        .iter()
        .map(|h| {
            let row = known.get(h.as_str());
            json!({
                "sha256": h.as_str(),
                "short": &h.as_str()[..12],
                "stored": row.is_some_and(|r| r.state == "stored"),
                "src": href(ctx, &format!("/dashboard/photos/{h}"), &[]),
                "taken_at": row.map(|r| r.taken_at.clone()).unwrap_or_default(),
            })
        })
        .collect()
}

/// `GET /dashboard/households/{id}`.
pub(crate) async fn household(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Response {
    let c = ctx.clone();
    let res = blocking(move || household_data(&st, &c, &id)).await;
    respond(
        &ctx,
        "/dashboard/households",
        "household.html",
        "household_title",
        res,
    )
}

fn household_data(st: &AppState, ctx: &Ctx, id: &str) -> Result<Value, PageError> {
    let hid: cunjie_domain::ids::HouseholdId = id
        .parse()
        .map_err(|_| PageError::bad("bad_id", "农户编号格式不对", "that is not a household id"))?;
    let tid = ctx.township.id.clone();
    let reg = data::registry(&st.db, &tid)?;
    let h = reg.household(&hid.to_string()).cloned().ok_or_else(|| {
        PageError::not_found("本镇没有这个农户", "no such household in this township")
    })?;
    let today = cn_date(st.clock.now());
    let lang = ctx.lang;
    let (insps, rects, known) = st.db.tx(|tx| {
        let insps = data::inspections_of(tx, &tid, &hid.to_string())?;
        let rects: Vec<_> = data::rectifications(tx, &tid, today)?
            .into_iter()
            .filter(|o| o.subject.id == *hid.as_uuid())
            .collect();
        let mut hashes: Vec<String> = insps
            .iter()
            .flat_map(|s| s.insp.photos())
            .chain(
                rects
                    .iter()
                    .flat_map(|o| o.before_photos.iter().chain(&o.after_photos).cloned()),
            )
            .map(|h| h.to_string())
            .collect();
        hashes.sort();
        hashes.dedup();
        let known = data::photos(tx, &tid, &hashes)?;
        let mut tpls = data::Templates::default();
        let mut scored = vec![];
        for s in insps {
            let score = tpls
                .get(tx, &s.insp.template.id.to_string(), s.insp.template.version)?
                .map(|t| (score_inspection(t, &s.insp), t.name_zh.clone()));
            scored.push((s, score));
        }
        Ok::<_, PageError>((scored, rects, known))
    })?;
    let inspections: Vec<Value> = insps
        .iter()
        .map(|(s, score)| {
            let failed: Vec<Value> = s
                .insp
                .results
                .iter()
                .filter(|r| r.outcome == Outcome::Fail)
                .map(|r| {
                    let ded = score.as_ref().and_then(|(sc, _)| {
                        sc.deductions
                            .iter()
                            .find(|d| d.item_code == r.item_code)
                            .map(|d| d.amount.to_string())
                    });
                    json!({
                        "code": r.item_code,
                        "label": item_label(&r.item_code, lang),
                        "count": r.count,
                        "note": r.note,
                        "deduction": ded.unwrap_or_default(),
                        "photos": photo_list(&r.photos, &known, ctx),
                    })
                })
                .collect();
            json!({
                "id": s.insp.id.to_string(),
                "time": cn_time(s.insp.started_at),
                "inspector": reg.person_name(&s.insp.inspector.to_string()),
                "kind": inspection_kind(s.insp.kind, lang),
                "template": score.as_ref().map(|(_, n)| n.clone()).unwrap_or_default(),
                "score": score.as_ref().map_or_else(|| "—".to_owned(), |(sc, _)| sc.score.to_string()),
                "full": score.as_ref().map(|(sc, _)| sc.full.to_string()).unwrap_or_default(),
                "vetoed": score.as_ref().is_some_and(|(sc, _)| sc.vetoed),
                "passed": s.insp.results.iter().filter(|r| r.outcome == Outcome::Pass).count(),
                "failed": failed,
                "flags": s.flags,
                "evidence": href(ctx, &format!("/dashboard/facts/{}/evidence", s.insp.id), &[]),
            })
        })
        .collect();
    let rectifications: Vec<Value> = rects
        .iter()
        .map(|o| rect_json(o, &reg, &known, ctx, today))
        .collect();
    Ok(json!({
        "h": {
            "id": hid.to_string(),
            "head": h.head_name,
            "plate": h.door_plate,
            "village": reg.village_name(&h.village.to_string()),
            "group": reg.group_name(&h.group.to_string()),
            "members": h.members,
            "roadside": h.roadside,
            "demo": h.is_demo_household,
            "location": h.location.map(|p| format!("{:.5}, {:.5}", p.lat, p.lon)),
        },
        "inspections": inspections,
        "rectifications": rectifications,
        "back": href(ctx, "/dashboard/households", &[]),
    }))
}

fn rect_json(
    o: &cunjie_domain::fact::RectificationOrder,
    reg: &data::Registry,
    known: &BTreeMap<String, data::PhotoRow>,
    ctx: &Ctx,
    today: chrono::NaiveDate,
) -> Value {
    json!({
        "id": o.id.to_string(),
        "item": item_label(&o.item_code, ctx.lang),
        "subject": reg.subject_name(&o.subject.id.to_string()),
        "village": reg.village_name(&o.village.to_string()),
        "assignee": reg.person_name(&o.assignee.to_string()),
        "issued": cn_time(o.issued_at),
        "due": o.due.to_string(),
        "ageing": (today - cn_date(o.issued_at)).num_days(),
        "overdue_days": matches!(o.state, RectificationState::Open | RectificationState::Overdue)
            .then(|| (today - o.due).num_days())
            .filter(|d| *d > 0),
        "state": state_code(o.state),
        "state_label": state_label(o.state, ctx.lang),
        "note": o.note,
        "before": photo_list(&o.before_photos, known, ctx),
        "after": photo_list(&o.after_photos, known, ctx),
        "evidence": href(ctx, &format!("/dashboard/facts/{}/evidence", o.id), &[]),
    })
}

// ---------------------------------------------------------------------------------------------
// Rectifications.

/// `GET /dashboard/rectifications?state=open|overdue|verified|submitted|all`.
pub(crate) async fn rectifications(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let state = c
            .query
            .get("state")
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| "open".into());
        if !["open", "overdue", "verified", "submitted", "all"].contains(&state.as_str()) {
            return Err(PageError::bad(
                "bad_state",
                "状态只能是 open、overdue、verified、submitted 或 all",
                "state must be open, overdue, verified, submitted or all",
            ));
        }
        let tid = c.township.id.clone();
        let today = cn_date(st.clock.now());
        let reg = data::registry(&st.db, &tid)?;
        let (rects, known) = st.db.tx(|tx| {
            let rects: Vec<_> = data::rectifications(tx, &tid, today)?
                .into_iter()
                .filter(|o| state == "all" || state_code(o.state) == state)
                .collect();
            let hashes: Vec<String> = rects
                .iter()
                .flat_map(|o| o.before_photos.iter().chain(&o.after_photos))
                .map(ToString::to_string)
                .collect();
            let known = data::photos(tx, &tid, &hashes)?;
            Ok::<_, PageError>((rects, known))
        })?;
        let mut rows: Vec<Value> = rects
            .iter()
            .map(|o| rect_json(o, &reg, &known, &c, today))
            .collect();
        rows.sort_by_key(|r| -r["ageing"].as_i64().unwrap_or(0));
        let tabs: Vec<Value> = ["open", "overdue", "submitted", "verified", "all"]
            .iter()
            .map(|s| {
                json!({
                    "state": s,
                    "label": match *s {
                        "open" => c.lang.pick("待整改", "Open"),
                        "overdue" => c.lang.pick("已逾期", "Overdue"),
                        "submitted" => c.lang.pick("待复查", "Awaiting re-check"),
                        "verified" => c.lang.pick("已销号", "Verified"),
                        _ => c.lang.pick("全部", "All"),
                    },
                    "href": href(&c, "/dashboard/rectifications", &[("state", (*s).to_owned())]),
                    "active": *s == state,
                })
            })
            .collect();
        Ok(json!({"state": state, "rows": rows, "tabs": tabs}))
    })
    .await;
    respond(
        &ctx,
        "/dashboard/rectifications",
        "rectifications.html",
        "rectifications_title",
        res,
    )
}

// ---------------------------------------------------------------------------------------------
// Map.

/// `GET /dashboard/map?basemap=wgs84|gcj02`.
pub(crate) async fn map_page(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || map_data(&st, &c)).await;
    respond(&ctx, "/dashboard/map", "map.html", "map_title", res)
}

/// Where a subject is, if the registry knows.
pub(crate) fn subject_point(reg: &data::Registry, id: &str) -> Option<GeoPoint> {
    if let Some(h) = reg.household(id) {
        return h.location;
    }
    if let Some(f) = reg.facilities.iter().find(|f| f.id.to_string() == id) {
        return Some(f.location);
    }
    if let Some(z) = reg.zones.iter().find(|z| z.id.to_string() == id) {
        let (ZoneGeometry::Line(p) | ZoneGeometry::Polygon(p)) = &z.geometry;
        return p.first().copied();
    }
    reg.villages
        .iter()
        .find(|v| v.id.to_string() == id)
        .and_then(|v| v.centroid)
}

fn map_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let basemap = ctx
        .query
        .get("basemap")
        .filter(|b| !b.is_empty())
        .cloned()
        .unwrap_or_else(|| "wgs84".into());
    let gcj = match basemap.as_str() {
        "wgs84" => false,
        "gcj02" => true,
        _ => {
            return Err(PageError::bad(
                "bad_basemap",
                "底图坐标只能是 wgs84 或 gcj02",
                "basemap must be wgs84 or gcj02",
            ));
        }
    };
    let tid = ctx.township.id.clone();
    let now = st.clock.now();
    let today = cn_date(now);
    let reg = data::registry(&st.db, &tid)?;
    let (insps, rects) = st.db.tx(|tx| {
        Ok::<_, PageError>((
            data::inspections(tx, &tid, now - Duration::days(366), now + Duration::days(1))?,
            data::rectifications(tx, &tid, today)?,
        ))
    })?;
    let mut all: Vec<GeoPoint> = reg.households.iter().filter_map(|h| h.location).collect();
    for z in &reg.zones {
        let (ZoneGeometry::Line(p) | ZoneGeometry::Polygon(p)) = &z.geometry;
        all.extend(p.iter().copied());
    }
    all.extend(reg.facilities.iter().map(|f| f.location));
    let proj = Projection::fit(&all, 1000.0, gcj);
    // The latest inspection of each household decides its colour.
    let mut last: BTreeMap<uuid::Uuid, bool> = BTreeMap::new();
    for s in &insps {
        last.insert(s.insp.subject.id, s.insp.failures().next().is_some());
    }
    let zones: Vec<Value> = reg
        .zones
        .iter()
        .filter(|z| {
            let (ZoneGeometry::Line(p) | ZoneGeometry::Polygon(p)) = &z.geometry;
            p.iter().all(GeoPoint::is_valid)
        })
        .map(|z| {
            let (kind, pts) = match &z.geometry {
                ZoneGeometry::Line(p) => ("line", p),
                ZoneGeometry::Polygon(p) => ("polygon", p),
            };
            json!({"name": z.name, "kind": kind, "points": proj.points(pts)})
        })
        .collect();
    let households: Vec<Value> = reg
        .households
        .iter()
        .filter_map(|h| {
            let (x, y) = proj.xy(h.location.filter(GeoPoint::is_valid)?);
            let state = match last.get(h.id.as_uuid()) {
                Some(true) => "fail",
                Some(false) => "ok",
                None => "none",
            };
            Some(json!({
                "x": x, "y": y, "state": state,
                "title": format!("{} {}", h.head_name, h.door_plate),
                "href": href(ctx, &format!("/dashboard/households/{}", h.id), &[]),
            }))
        })
        .collect();
    let findings: Vec<Value> = rects
        .iter()
        .filter_map(|o| {
            let (x, y) =
                proj.xy(subject_point(&reg, &o.subject.id.to_string()).filter(GeoPoint::is_valid)?);
            Some(json!({
                "x": x, "y": y, "state": state_code(o.state),
                "title": format!("{} · {} · {}", item_label(&o.item_code, ctx.lang), reg.subject_name(&o.subject.id.to_string()), state_label(o.state, ctx.lang)),
                "href": href(ctx, &format!("/dashboard/facts/{}/evidence", o.id), &[]),
            }))
        })
        .collect();
    let facilities: Vec<Value> = reg
        .facilities
        .iter()
        .filter(|f| f.location.is_valid())
        .map(|f| {
            let (x, y) = proj.xy(f.location);
            json!({"x": x, "y": y, "title": format!("{} {}", f.kind.label_zh(), f.number)})
        })
        .collect();
    let villages: Vec<Value> = reg
        .villages
        .iter()
        .filter_map(|v| {
            // The label sits above the village's northernmost house (or at its centre point).
            let top = reg
                .households
                .iter()
                .filter(|h| h.village == v.id)
                .filter_map(|h| h.location)
                .max_by(|a, b| a.lat.total_cmp(&b.lat))
                .or(v.centroid)?;
            let (x, y) = proj.xy(top);
            Some(json!({"name": v.name, "x": x, "y": (y - 10.0).max(14.0)}))
        })
        .collect();
    Ok(json!({
        "villages": villages,
        "width": proj.width,
        "height": proj.height.round(),
        "zones": zones,
        "households": households,
        "findings": findings,
        "facilities": facilities,
        "basemap": basemap,
        "wgs_link": href(ctx, "/dashboard/map", &[("basemap", "wgs84".into())]),
        "gcj_link": href(ctx, "/dashboard/map", &[("basemap", "gcj02".into())]),
        "geojson_findings": href(ctx, "/dashboard/export/findings.geojson", &[]),
        "geojson_zones": href(ctx, "/dashboard/export/zones.geojson", &[]),
    }))
}

// ---------------------------------------------------------------------------------------------
// Evidence and photos.

/// `GET /dashboard/facts/{id}/evidence`.
pub(crate) async fn evidence(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let id = uuid::Uuid::parse_str(&id)
            .map_err(|_| PageError::bad("bad_id", "记录编号格式不对", "that is not a record id"))?
            .to_string();
        let office = ranking::office(&st, &c)?;
        let ev = office.evidence(&id)?.ok_or_else(|| {
            PageError::not_found("本镇没有这条记录", "no such record in this township")
        })?;
        let reg = data::registry(&st.db, &c.township.id)?;
        let hashes: Vec<String> = ev["photos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["sha256"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let known = st.db.tx(|tx| data::photos(tx, &c.township.id, &hashes))?;
        let ok = |b: &Value| match b.as_bool() {
            Some(true) => c.lang.pick("通过", "ok"),
            Some(false) => c.lang.pick("不通过", "failed"),
            None => "—",
        };
        let photos: Vec<Value> = ev["photos"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let sha = p["sha256"].as_str().unwrap_or_default().to_owned();
                let row = known.get(&sha);
                let v = &p["verification"];
                json!({
                    "sha256": sha,
                    "stored": p["state"] == "stored",
                    "state": p["state"],
                    "src": href(&c, &format!("/dashboard/photos/{sha}"), &[]),
                    "taken_at": row.map(|r| r.taken_at.clone()).unwrap_or_default(),
                    "person": row.map(|r| reg.person_name(&r.person)).unwrap_or_default(),
                    "signature": row.map(|r| r.signature.chars().take(24).collect::<String>()).unwrap_or_default(),
                    "fix": row.and_then(|r| r.fix.clone()).unwrap_or_default(),
                    "hash_ok": ok(&v["hash_ok"]),
                    "signature_ok": ok(&v["signature_ok"]),
                    "time_check": check_label(v["time_check"].as_str(), c.lang),
                    "place_check": check_label(v["place_check"].as_str(), c.lang),
                    "time_code": v["time_check"],
                    "place_code": v["place_check"],
                    "distance_m": v["distance_m"],
                    "verified": !v.is_null(),
                })
            })
            .collect();
        let kind = ev["kind"].as_str().unwrap_or_default();
        Ok(json!({
            "fact_id": id,
            "kind": match kind {
                "inspection" => c.lang.pick("检查记录", "inspection"),
                "round" => c.lang.pick("保洁巡回", "cleaner's round"),
                "rectification" => c.lang.pick("整改单", "rectification order"),
                other => other,
            },
            "pending": ev["photos_pending"],
            "photos": photos,
            "review": super::office::evidence_reviews(&st, &c, &id)?,
        }))
    })
    .await;
    respond(
        &ctx,
        "/dashboard/evidence",
        "evidence.html",
        "evidence_title",
        res,
    )
}

/// Why an inspection was made, for people.
fn inspection_kind(k: cunjie_domain::fact::InspectionType, lang: Lang) -> &'static str {
    use cunjie_domain::fact::InspectionType as T;
    match k {
        T::HouseholdMonthly => lang.pick("月度检查", "monthly check"),
        T::Weekly => lang.pick("每周检查", "weekly check"),
        T::VillageSelfEval => lang.pick("村自评", "village self-evaluation"),
        T::TownshipRecheck => lang.pick("镇复查", "township re-check"),
        T::RectificationRecheck => lang.pick("整改复查", "rectification re-check"),
        T::AdHoc => lang.pick("抽查", "ad-hoc check"),
    }
}

/// A verification check's code in words (`ok`, `exif_mismatch`, `after_receipt`, `no_exif`,
/// `far`, `no_fix`, `no_place`); `—` before the bytes arrived.
fn check_label(code: Option<&str>, lang: Lang) -> String {
    let (zh, en) = match code {
        None => return "—".to_owned(),
        Some("ok") => ("一致", "consistent"),
        Some("exif_mismatch") => ("与照片EXIF时间不符", "differs from the photo's EXIF time"),
        Some("after_receipt") => ("晚于服务器收到时间", "after the server received it"),
        Some("no_exif") => ("照片无EXIF时间", "no EXIF time in the photo"),
        Some("far") => ("离对象过远", "too far from the subject"),
        Some("no_fix") => ("拍摄时无定位", "no position fix"),
        Some("no_place") => ("对象无坐标", "the subject has no position"),
        Some(other) => return other.to_owned(),
    };
    lang.pick(zh, en).to_owned()
}

/// `GET /dashboard/photos/{sha256}`: a stored photo of the session's township.
pub(crate) async fn photo(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(sha): Path<String>,
) -> Response {
    let Ok(hash) = sha.parse::<PhotoHash>() else {
        return render::error_page(
            ctx.lang,
            &PageError::bad("bad_hash", "照片编号格式不对", "that is not a photo hash"),
        );
    };
    let tid = ctx.township.id.clone();
    let key = hash.clone();
    let db = st.db.clone();
    let state = blocking(move || Ok(db.tx(|tx| photos::photo_state(tx, &key, &tid))?)).await;
    let missing = || {
        PageError::not_found(
            "没有这张照片（或尚未上传）",
            "no such photo (or not uploaded yet)",
        )
    };
    match state {
        Ok(Some(s)) if s == "stored" => {}
        Ok(_) => return render::error_page(ctx.lang, &missing()),
        Err(e) => return render::error_page(ctx.lang, &e),
    }
    match st.blobs.get(&hash).await {
        Ok(Some(got)) => {
            let mut r = Body::from_stream(got.into_stream()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400, immutable"),
            );
            r
        }
        Ok(None) => render::error_page(ctx.lang, &missing()),
        Err(e) => render::error_page(ctx.lang, &PageError::internal(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Charts and audit.

/// `GET /dashboard/charts?month=2026-11`.
pub(crate) async fn charts(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || charts_data(&st, &c)).await;
    respond(
        &ctx,
        "/dashboard/charts",
        "charts.html",
        "charts_title",
        res,
    )
}

fn charts_data(st: &AppState, ctx: &Ctx) -> Result<Value, PageError> {
    let today = cn_date(st.clock.now());
    let month = month_param(ctx, today)?;
    let office = ranking::office(st, ctx)?;
    // Rank trend over six months.
    let mut months = vec![month];
    for _ in 0..5 {
        let m = months[months.len() - 1].prev();
        months.push(m);
    }
    months.reverse();
    let mut series: BTreeMap<String, Vec<Option<u32>>> = BTreeMap::new();
    let mut last_table = None;
    for (i, m) in months.iter().enumerate() {
        let r = office.ranking(&m.to_string(), None)?;
        for row in &r.rows {
            let entry = series
                .entry(row.village_name.clone())
                .or_insert_with(|| vec![None; months.len()]);
            if row.counted + row.ad_hoc > 0 {
                entry[i] = Some(row.rank);
            }
        }
        last_table = Some(r);
    }
    let n_villages = series.len().max(1) as f64;
    let (w, h, pad) = (640.0, 260.0, 40.0);
    let step = (w - 2.0 * pad) / (months.len().max(2) - 1) as f64;
    let y_of =
        |rank: u32| pad + (f64::from(rank) - 1.0) / (n_villages - 1.0).max(1.0) * (h - 2.0 * pad);
    const COLOURS: [&str; 8] = [
        "#c0392b", "#2471a3", "#229954", "#b9770e", "#7d3c98", "#117a65", "#a04000", "#566573",
    ];
    let lines: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(i, (name, ranks))| {
            let xy: Vec<(f64, f64)> = ranks
                .iter()
                .enumerate()
                .filter_map(|(j, r)| r.map(|r| (pad + step * j as f64, y_of(r))))
                .collect();
            let pts: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let dots: Vec<Value> = xy.iter().map(|(x, y)| json!({"x": x, "y": y})).collect();
            json!({
                "name": name,
                "colour": COLOURS[i % COLOURS.len()],
                "points": pts.join(" "),
                "dots": dots,
                "legend_y": 20 + i * 18,
            })
        })
        .collect();
    let x_labels: Vec<Value> = months
        .iter()
        .enumerate()
        .map(|(j, m)| json!({"x": pad + step * j as f64, "label": m.to_string()}))
        .collect();
    let y_labels: Vec<Value> = (1..=series.len() as u32)
        .map(|r| json!({"y": y_of(r), "label": r}))
        .collect();
    // Deductions by item, this month, all villages.
    let mut by_item: BTreeMap<String, i64> = BTreeMap::new();
    if let Some(r) = &last_table {
        for row in &r.rows {
            for (code, a) in &row.by_item {
                *by_item.entry(code.clone()).or_default() += a.cents().abs();
            }
        }
    }
    let mut items: Vec<(String, i64)> = by_item.into_iter().filter(|(_, v)| *v > 0).collect();
    items.sort_by_key(|(_, v)| -v);
    let max_item = items.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let item_bars: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, (code, v))| {
            json!({
                "label": item_label(code, ctx.lang),
                "y": 10 + i * 26,
                "w": (*v as f64 / max_item * 380.0).max(1.0).round(),
                "value": cunjie_domain::Amount(*v).to_string(),
            })
        })
        .collect();
    // Coverage by cleaner, this month.
    let reg = data::registry(&st.db, &ctx.township.id)?;
    let hist = cleaner_history(st, &ctx.township.id, &reg, &[month], &PayRule::default())?;
    let cov_bars: Vec<Value> = hist
        .last()
        .map(|(_, list)| list.clone())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = c.coverage.unwrap_or(0.0);
            json!({
                "label": c.name,
                "y": 10 + i * 26,
                "w": (v * 380.0).round(),
                "value": c.coverage.map_or_else(|| "—".to_owned(), pct),
            })
        })
        .collect();
    Ok(json!({
        "month": month.to_string(),
        "trend": {"w": w, "h": h, "lines": lines, "x_labels": x_labels, "y_labels": y_labels},
        "items": item_bars,
        "items_h": 20 + items.len() * 26,
        "coverage": cov_bars,
        "coverage_h": 20 + hist.last().map_or(0, |(_, l)| l.len()) * 26,
    }))
}

/// `GET /dashboard/audit`.
pub(crate) async fn audit(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let office = ranking::office(&st, &c)?;
        let entries = office.audit_log(200)?;
        let report = office.audit_verify()?;
        let rows: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "at": e.at.parse::<chrono::DateTime<chrono::Utc>>().map(cn_time).unwrap_or_else(|_| e.at.clone()),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "detail": e.detail.chars().take(300).collect::<String>(),
                    "hash": e.hash.chars().take(16).collect::<String>(),
                })
            })
            .collect();
        Ok(json!({
            "rows": rows,
            "ok": report.ok(),
            "entries": report.entries,
            "first_broken": report.first_broken,
            "reason": report.reason,
        }))
    })
    .await;
    respond(&ctx, "/dashboard/audit", "audit.html", "audit_title", res)
}
