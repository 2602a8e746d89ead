//! Driving the dashboard in process: a response, a request with a session cookie and a form,
//! logging in, the CSRF token of a page, and form encoding. Shared by `dashboard.rs` and
//! `dashboard_forms.rs`.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::harness::Harness;

pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    /// The body, with the `/` minijinja escapes in attributes read back.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).replace("&#x2f;", "/")
    }

    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub(crate) fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// One request to the app, with a cookie (if not empty) and a urlencoded form (if any).
pub(crate) async fn send(
    h: &Harness,
    method: &str,
    uri: &str,
    cookie: &str,
    form: Option<&str>,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_owned())
        }
        None => Body::empty(),
    };
    let resp = h
        .router
        .clone()
        .oneshot(req.body(body).expect("request builds"))
        .await
        .expect("router answers");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// Logs in and returns the `cunjie_session=…` cookie pair.
pub(crate) async fn login(h: &Harness, user: &str, password: &str) -> String {
    let r = send(
        h,
        "POST",
        "/dashboard/login",
        "",
        Some(&format!(
            "username={}&password={}",
            enc(user),
            enc(password)
        )),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "login redirects: {}",
        r.text()
    );
    let c = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("cunjie_session="))
        .expect("a session cookie");
    c.split(';').next().expect("pair").to_owned()
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + 64].to_owned()
}

/// Percent-encodes a form value.
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
