//! Templates (embedded in the binary) and the page frame every page shares.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Value, json};

use super::i18n::{Lang, labels};
use super::{Ctx, LANG_COOKIE, PageError};

/// `(name, source)` of every template, embedded at build time.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "overview.html",
        include_str!("../../templates/overview.html"),
    ),
    ("ranking.html", include_str!("../../templates/ranking.html")),
    (
        "_ranking_table.html",
        include_str!("../../templates/_ranking_table.html"),
    ),
    ("_boards.html", include_str!("../../templates/_boards.html")),
    ("_photos.html", include_str!("../../templates/_photos.html")),
    (
        "_rect_table.html",
        include_str!("../../templates/_rect_table.html"),
    ),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("plates.html", include_str!("../../templates/plates.html")),
    (
        "cleaners.html",
        include_str!("../../templates/cleaners.html"),
    ),
    (
        "households.html",
        include_str!("../../templates/households.html"),
    ),
    (
        "household.html",
        include_str!("../../templates/household.html"),
    ),
    (
        "rectifications.html",
        include_str!("../../templates/rectifications.html"),
    ),
    ("map.html", include_str!("../../templates/map.html")),
    (
        "evidence.html",
        include_str!("../../templates/evidence.html"),
    ),
    ("charts.html", include_str!("../../templates/charts.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("appeals.html", include_str!("../../templates/appeals.html")),
    ("inputs.html", include_str!("../../templates/inputs.html")),
    ("schemes.html", include_str!("../../templates/schemes.html")),
];

const STYLE: &str = include_str!("../../templates/style.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                // A broken template is a build mistake the unit test catches; at run time the
                // page that uses it answers an error page.
                tracing::error!(template = name, error = %e, "template does not parse");
            }
        }
        env
    })
}

/// `GET /dashboard/style.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// Pages in the navigation: `(path, label key, testid)`.
const NAV: &[(&str, &str)] = &[
    ("/dashboard/", "nav_overview"),
    ("/dashboard/ranking", "nav_ranking"),
    ("/dashboard/notice", "nav_notice"),
    ("/dashboard/cleaners", "nav_cleaners"),
    ("/dashboard/households", "nav_households"),
    ("/dashboard/rectifications", "nav_rectifications"),
    ("/dashboard/map", "nav_map"),
    ("/dashboard/charts", "nav_charts"),
    ("/dashboard/appeals", "nav_appeals"),
    ("/dashboard/inputs", "nav_inputs"),
    ("/dashboard/schemes", "nav_schemes"),
    ("/dashboard/audit", "nav_audit"),
];

fn render_str(name: &str, ctx: Value) -> Result<String, PageError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(PageError::internal)
}

/// A link to `path` keeping the query `keep` with `key=value` set.
pub(crate) fn link(path: &str, keep: &[(String, String)]) -> String {
    let q: Vec<String> = keep
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// Percent-encodes a query component.
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a page inside the frame: `data` is merged with the common context (labels `L`,
/// language, township, staff, CSRF token, navigation).
pub(crate) fn page(ctx: &Ctx, path: &str, name: &str, title_key: &str, data: Value) -> Response {
    match page_html(ctx, path, name, title_key, data) {
        Ok(html) => with_lang_cookie(ctx, Html(html).into_response()),
        Err(e) => with_lang_cookie(ctx, error_page(ctx.lang, &e)),
    }
}

fn page_html(
    ctx: &Ctx,
    path: &str,
    name: &str,
    title_key: &str,
    data: Value,
) -> Result<String, PageError> {
    let l = labels(ctx.lang);
    let tparam = ctx.township_param();
    let nav: Vec<Value> = NAV
        .iter()
        .map(|(p, k)| {
            let href = if tparam.is_empty() {
                (*p).to_owned()
            } else {
                format!("{p}?{tparam}")
            };
            json!({"href": href, "label": l.get(k).copied().unwrap_or(k), "active": *p == path})
        })
        .collect();
    let mut keep: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| k.as_str() != "lang")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    keep.sort();
    let other = match ctx.lang {
        Lang::Zh => "en",
        Lang::En => "zh",
    };
    keep.push(("lang".into(), other.into()));
    let mut base = json!({
        "L": l,
        "F": super::office::labels(ctx.lang),
        "lang": ctx.lang.code(),
        "html_lang": ctx.lang.pick("zh-CN", "en"),
        "title": l.get(title_key).copied().unwrap_or(title_key),
        "township": ctx.township,
        "townships": ctx.townships,
        "county": ctx.townships.len() > 1,
        "username": ctx.username,
        "role": ctx.role,
        "csrf": ctx.csrf,
        "nav": nav,
        "path": path,
        "tparam": tparam,
        "lang_link": link(path, &keep),
    });
    if let (Some(b), Value::Object(d)) = (base.as_object_mut(), data) {
        b.extend(d);
    }
    render_str(name, base)
}

fn with_lang_cookie(ctx: &Ctx, mut resp: Response) -> Response {
    if let Some(l) = ctx.set_lang
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/dashboard; Max-Age=31536000; SameSite=Lax",
            l.code()
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// An error page (no navigation: the session may be missing).
pub(crate) fn error_page(lang: Lang, e: &PageError) -> Response {
    let l = labels(lang);
    let ctx = json!({
        "L": l,
        "lang": lang.code(),
        "html_lang": lang.pick("zh-CN", "en"),
        "title": l.get("error_title").copied().unwrap_or_default(),
        "code": e.code,
        "message": lang.pick(&e.zh, &e.en),
        "message_zh": e.zh,
        "status": e.status.as_u16(),
    });
    let html = render_str("error.html", ctx).unwrap_or_else(|_| {
        format!(
            "<!doctype html><meta charset=utf-8><title>出错了</title><p data-testid=\"error\">{} ({})</p>",
            e.code, e.status
        )
    });
    (e.status, Html(html)).into_response()
}

/// Renders the login page (no session yet).
pub(crate) fn login_page(lang: Lang, error: Option<&PageError>, status: StatusCode) -> Response {
    let l = labels(lang);
    let ctx = json!({
        "L": l,
        "lang": lang.code(),
        "html_lang": lang.pick("zh-CN", "en"),
        "title": l.get("login_title").copied().unwrap_or_default(),
        "error": error.map(|e| json!({"code": e.code, "message": lang.pick(&e.zh, &e.en)})),
        "lang_link": format!("/dashboard/login?lang={}", match lang { Lang::Zh => "en", Lang::En => "zh" }),
    });
    match render_str("login.html", ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name} parses: {e:#}"));
        }
    }

    #[test]
    fn testids_md_is_true() {
        let md = include_str!("../../templates/TESTIDS.md");
        let listed: std::collections::BTreeSet<String> = md
            .lines()
            .filter(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('|').nth(1))
            .flat_map(|cell| {
                cell.split('`')
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 1)
                    .map(|(_, s)| s.to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut used = std::collections::BTreeSet::new();
        for (name, src) in TEMPLATES {
            for part in src.split("data-testid=\"").skip(1) {
                let id = part.split('"').next().unwrap_or_default();
                if let Some(prefix) = id.strip_suffix("{{ t.state }}") {
                    for s in ["open", "overdue", "submitted", "verified", "all"] {
                        used.insert(format!("{prefix}{s}"));
                    }
                } else {
                    assert!(
                        !id.contains("{{"),
                        "{name}: a computed test id {id} is not listed"
                    );
                    used.insert(id.to_owned());
                }
            }
        }
        for id in &used {
            assert!(
                listed.contains(id),
                "{id} is used by a template but not in TESTIDS.md"
            );
        }
        for id in &listed {
            assert!(
                used.contains(id),
                "{id} is in TESTIDS.md but no template uses it"
            );
        }
    }

    #[test]
    fn links_encode_their_query() {
        assert_eq!(
            link("/dashboard/households", &[("q".into(), "王 1号".into())]),
            "/dashboard/households?q=%E7%8E%8B%201%E5%8F%B7",
            "Chinese and spaces are encoded"
        );
        assert_eq!(
            link("/x", &[("a".into(), String::new())]),
            "/x",
            "empty values dropped"
        );
    }
}
