//! The township dashboard: server-rendered pages for the 镇整治办 under `/dashboard`.
//!
//! Pages are minijinja templates embedded in the binary (`templates/`), Chinese first with
//! English on `?lang=en` (remembered in a `lang` cookie). No JavaScript framework and no CDN:
//! plain HTML, one small embedded stylesheet, inline SVG for maps and charts.
//!
//! Access is the staff login (argon2 passwords, sessions stored hashed): the session token
//! travels in an HttpOnly, SameSite=Strict cookie `cunjie_session`, and every POST form carries
//! a CSRF token derived from it ([`csrf_token`]). A staff member sees only their own township;
//! staff with the role `county` see every township and pick one with `?township=CODE`.
//!
//! Every handler reads the database on a blocking thread and answers an HTML page; an error
//! is a page too, in Chinese with a stable code (never a 500 for bad input).

mod cleaners;
mod data;
mod export;
mod i18n;
mod map;
mod office;
mod pages;
mod ranking;
mod render;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::core::{auth, sha256_hex};
use crate::store::{Db, opt_text, text, vals};

pub(crate) use i18n::Lang;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "cunjie_session";
/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "lang";
/// Fixed label mixed into the CSRF token.
const CSRF_LABEL: &str = "|cunjie-dashboard-csrf-v1";

/// The CSRF token of a session: hex SHA-256 of the session token and a fixed label. It is
/// secret because the session token is (HttpOnly cookie), and it changes with every login.
pub(crate) fn csrf_token(session: &str) -> String {
    sha256_hex(&format!("{session}{CSRF_LABEL}"))
}

/// A township as the dashboard shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TownshipRow {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) name: String,
}

/// The signed-in staff member and what they look at.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) token: String,
    pub(crate) username: String,
    pub(crate) role: String,
    /// The township shown.
    pub(crate) township: TownshipRow,
    /// Townships this person may switch between (more than one only for `county`).
    pub(crate) townships: Vec<TownshipRow>,
    pub(crate) lang: Lang,
    /// `Some(lang)` when `?lang=` asked for a change to remember in the cookie.
    pub(crate) set_lang: Option<Lang>,
    pub(crate) csrf: String,
    /// The query string, for keeping `township=` on links.
    pub(crate) query: HashMap<String, String>,
}

impl Ctx {
    /// The `township=` suffix county staff carry on links (empty for township staff).
    pub(crate) fn township_param(&self) -> String {
        if self.townships.len() > 1 {
            format!("township={}", self.township.code)
        } else {
            String::new()
        }
    }
}

/// Reads a cookie from the request headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The query string as a map (the last value of a repeated key wins; bad encoding is dropped).
pub(crate) fn query_map(q: Option<&str>) -> HashMap<String, String> {
    q.map(|q| {
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (pct_decode(k), pct_decode(v))
            })
            .collect()
    })
    .unwrap_or_default()
}

fn pct_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The language a request asks for: `?lang=`, then the cookie, then Chinese.
pub(crate) fn request_lang(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> (Lang, Option<Lang>) {
    if let Some(l) = query.get("lang").and_then(|l| Lang::parse(l)) {
        return (l, Some(l));
    }
    (
        cookie(headers, LANG_COOKIE)
            .and_then(|l| Lang::parse(&l))
            .unwrap_or(Lang::Zh),
        None,
    )
}

/// Why a request was not served: a page in the request's language with a stable code.
#[derive(Debug)]
pub(crate) struct PageError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) zh: String,
    pub(crate) en: String,
}

impl PageError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub(crate) fn bad(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, zh, en)
    }

    pub(crate) fn not_found(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", zh, en)
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "dashboard request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器出错，请稍后再试；数据没有丢失。",
            "The server failed; nothing was lost. Try again later.",
        )
    }
}

impl From<crate::store::StorageError> for PageError {
    fn from(e: crate::store::StorageError) -> Self {
        Self::internal(e)
    }
}

impl From<auth::AuthError> for PageError {
    fn from(e: auth::AuthError) -> Self {
        match e {
            auth::AuthError::Storage(s) => s.into(),
            other => Self::internal(other),
        }
    }
}

/// Why the session extractor refused: go and log in, or a plain error page.
#[derive(Debug)]
pub(crate) enum Refusal {
    Login,
    Page(Lang, PageError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Login => Redirect::to("/dashboard/login").into_response(),
            Self::Page(lang, e) => render::error_page(lang, &e),
        }
    }
}

/// The staff behind a session token, with their township and role.
fn session_staff(
    db: &Db,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(String, String, String)>, PageError> {
    db.tx(|tx| {
        match auth::staff_by_session(tx, token, now) {
            Ok(_) => {}
            Err(auth::AuthError::Unauthorised) => return Ok(None),
            Err(e) => return Err(PageError::from(e)),
        }
        let rows = tx.query(
            "SELECT s.username, s.role, s.township_id FROM staff_session x JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = $1",
            vals![sha256_hex(token.trim())],
        )?;
        rows.first()
            .map(|r| -> Result<_, PageError> {
                Ok((
                    text(r, 0, "username")?,
                    text(r, 1, "role")?,
                    text(r, 2, "township_id")?,
                ))
            })
            .transpose()
    })
}

fn townships(db: &Db) -> Result<Vec<TownshipRow>, PageError> {
    db.tx(|tx| {
        tx.query("SELECT id, code, name FROM township ORDER BY code", &[])?
            .iter()
            .map(|r| {
                Ok(TownshipRow {
                    id: text(r, 0, "id")?,
                    code: text(r, 1, "code")?,
                    name: opt_text(r, 2).unwrap_or_default(),
                })
            })
            .collect()
    })
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let query = query_map(parts.uri.query());
        let (lang, set_lang) = request_lang(&parts.headers, &query);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
            return Err(Refusal::Login);
        };
        let db = state.db.clone();
        let now = state.clock.now();
        let wanted = query.get("township").cloned();
        let tok = token.clone();
        let found = tokio::task::spawn_blocking(move || {
            let staff = session_staff(&db, &tok, now)?;
            let all = townships(&db)?;
            Ok::<_, PageError>((staff, all))
        })
        .await
        .map_err(|e| Refusal::Page(lang, PageError::internal(e)))?
        .map_err(|e| Refusal::Page(lang, e))?;
        let (Some((username, role, township_id)), all) = found else {
            return Err(Refusal::Login);
        };
        let county = role == "county";
        let visible: Vec<TownshipRow> = if county {
            all
        } else {
            all.into_iter().filter(|t| t.id == township_id).collect()
        };
        let township = match wanted.filter(|w| !w.is_empty()) {
            Some(code) => visible
                .iter()
                .find(|t| t.code == code || t.id == code)
                .cloned()
                .ok_or_else(|| {
                    Refusal::Page(
                        lang,
                        PageError::new(
                            StatusCode::FORBIDDEN,
                            "forbidden",
                            format!("乡镇 {code} 不存在或不在您的权限内"),
                            format!("township {code} does not exist or is not yours"),
                        ),
                    )
                })?,
            None => visible
                .iter()
                .find(|t| t.id == township_id)
                .or(visible.first())
                .cloned()
                .ok_or(Refusal::Login)?,
        };
        Ok(Ctx {
            csrf: csrf_token(&token),
            token,
            username,
            role,
            township,
            townships: visible,
            lang,
            set_lang,
            query,
        })
    }
}

/// Checks a POST form's CSRF token against the session's.
pub(crate) fn check_csrf(ctx: &Ctx, form: &HashMap<String, String>) -> Result<(), PageError> {
    match form.get("csrf") {
        Some(t) if !t.is_empty() && constant_eq(t.as_bytes(), ctx.csrf.as_bytes()) => Ok(()),
        _ => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "表单已失效（缺少或错误的安全令牌），请刷新页面后重试",
            "The form's security token is missing or wrong; reload the page and try again",
        )),
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses an `application/x-www-form-urlencoded` body.
pub(crate) fn form_map(body: &[u8]) -> HashMap<String, String> {
    query_map(std::str::from_utf8(body).ok())
}

/// Runs blocking work (database reads, rendering) off the async runtime.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, PageError> + Send + 'static,
) -> Result<R, PageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(PageError::internal)?
}

async fn root_redirect() -> Redirect {
    Redirect::permanent("/dashboard/")
}

async fn unknown_page(headers: HeaderMap, State(_): State<AppState>) -> Response {
    let (lang, _) = request_lang(&headers, &HashMap::new());
    render::error_page(lang, &PageError::not_found("没有这个页面", "No such page"))
}

/// A refusal from beneath the handlers (the router's 405, a path that is not UTF-8, a form body
/// over the limit) comes as plain text: it becomes the error page with a stable code.
async fn page_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (lang, _) = request_lang(req.headers(), &query_map(req.uri().query()));
    let resp = next.run(req).await;
    let status = resp.status();
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html || !status.is_client_error() {
        return resp;
    }
    let (code, zh, en) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("too_large", "提交的内容太大", "What was sent is too large")
        }
        StatusCode::METHOD_NOT_ALLOWED => (
            "bad_request",
            "这个页面不接受这种请求",
            "This page does not take that request",
        ),
        StatusCode::NOT_FOUND => ("not_found", "没有这个页面", "No such page"),
        _ => ("bad_request", "请求无效", "The request is not valid"),
    };
    render::error_page(lang, &PageError::new(status, code, zh, en))
}

/// The dashboard's routes, with their own security headers.
pub(crate) fn router(state: AppState) -> Router {
    let r = Router::new()
        .route("/dashboard", get(root_redirect))
        .route("/dashboard/", get(pages::overview))
        .route(
            "/dashboard/login",
            get(pages::login_form).post(pages::login_submit),
        )
        .route("/dashboard/logout", post(pages::logout))
        .route("/dashboard/style.css", get(render::stylesheet))
        .route("/dashboard/ranking", get(pages::ranking_page))
        .route("/dashboard/ranking/recompute", post(pages::recompute))
        .route("/dashboard/notice", get(pages::notice))
        .route("/dashboard/cleaners", get(pages::cleaners_page))
        .route("/dashboard/households", get(pages::households))
        .route("/dashboard/households/{id}", get(pages::household))
        .route("/dashboard/plates", get(pages::plates))
        .route("/dashboard/rectifications", get(pages::rectifications))
        .route("/dashboard/map", get(pages::map_page))
        .route("/dashboard/facts/{id}/evidence", get(pages::evidence))
        .route("/dashboard/charts", get(pages::charts))
        .route("/dashboard/audit", get(pages::audit))
        .route("/dashboard/photos/{sha256}", get(pages::photo))
        .route("/dashboard/export/ranking.xlsx", get(export::ranking_xlsx))
        .route("/dashboard/export/ranking.csv", get(export::ranking_csv))
        .route(
            "/dashboard/export/findings.geojson",
            get(export::findings_geojson),
        )
        .route(
            "/dashboard/export/zones.geojson",
            get(export::zones_geojson),
        )
        .route("/dashboard/facts/{id}/review", post(office::mark_review))
        .route(
            "/dashboard/appeals",
            get(office::appeals_page).post(office::file_appeal),
        )
        .route(
            "/dashboard/appeals/{id}/decide",
            post(office::decide_appeal),
        )
        .route("/dashboard/ranking/publish", post(office::publish_ranking))
        .route(
            "/dashboard/inputs",
            get(office::inputs_page).post(office::save_input),
        )
        .route(
            "/dashboard/schemes",
            get(office::schemes_page).post(office::publish_scheme),
        )
        .route("/dashboard/{*rest}", get(unknown_page))
        .layer(axum::middleware::from_fn(page_errors));
    crate::api::security_headers(
        r,
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_chinese_and_plus() {
        let q = query_map(Some("q=%E7%8E%8B+%E5%BB%BA&month=2026-11&x"));
        assert_eq!(q.get("q").map(String::as_str), Some("王 建"), "UTF-8 and +");
        assert_eq!(q.get("month").map(String::as_str), Some("2026-11"), "plain");
        assert_eq!(q.get("x").map(String::as_str), Some(""), "bare key");
        let bad = query_map(Some("q=%E7%8"));
        assert!(bad.contains_key("q"), "broken escapes do not panic");
    }

    #[test]
    fn csrf_tokens_depend_on_the_session() {
        assert_ne!(csrf_token("a"), csrf_token("b"), "per session");
        assert_eq!(csrf_token("a").len(), 64, "hex SHA-256");
        assert!(constant_eq(b"abc", b"abc") && !constant_eq(b"abc", b"abd"));
    }
}
