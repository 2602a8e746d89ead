//! Routes and handlers. Handlers are thin: authenticate, then run one storage transaction on
//! a blocking thread.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use cunjie_domain::ids::{DeviceId, PersonId};
use cunjie_domain::person::Role;
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, PullPage, PushRequest, PushResponse, ScopeList, codes,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

use super::ApiError;
use crate::AppState;
use crate::core::{DeviceCtx, auth, pull, push};
use crate::store::Tx;

/// JSON body extractor whose rejections are `ErrorBody`s with stable codes.
pub(crate) struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::TOO_LARGE,
                    "the request body is too large; send smaller batches",
                ))
            }
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                format!("the request body is not valid: {}", e.body_text()),
            )),
        }
    }
}

fn query<T: DeserializeOwned>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            format!("the query is not valid: {}", e.body_text()),
        )
    })
}

/// Runs one storage transaction on a blocking thread.
pub(super) async fn run<R, F>(state: &AppState, f: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<R, ApiError> + Send + 'static,
{
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || db.tx(f))
        .await
        .map_err(ApiError::internal)?
}

fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORISED,
                "missing device token; enroll this phone first",
            )
        })
}

pub(super) async fn device(state: &AppState, headers: &HeaderMap) -> Result<DeviceCtx, ApiError> {
    let token = bearer(headers)?;
    let now = state.clock.now();
    run(state, move |tx| Ok(auth::device_by_token(tx, &token, now)?)).await
}

async fn enroll(
    State(state): State<AppState>,
    Body(req): Body<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    if req.device_name.chars().count() > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "the device name may have at most 100 characters",
        ));
    }
    let now = state.clock.now();
    Ok(Json(
        run(&state, move |tx| Ok(auth::redeem(tx, &req, now)?)).await?,
    ))
}

async fn push_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let dev = device(&state, &headers).await?;
    if req.mutations.len() > 1_000 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::TOO_LARGE,
            "at most 1,000 mutations per push",
        ));
    }
    let now = state.clock.now();
    let answer = run(&state, move |tx| Ok(push::push(tx, &dev, &req, now)?)).await?;
    failpoint!("server::push_committed");
    Ok(Json(answer))
}

async fn scopes(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ScopeList>, ApiError> {
    let dev = device(&state, &headers).await?;
    let now = state.clock.now();
    Ok(Json(
        run(&state, move |tx| Ok(pull::scopes(tx, &dev, now)?)).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    scope: String,
    #[serde(default)]
    after: u64,
    epoch: Option<u64>,
    limit: Option<u32>,
    /// Optional entity kinds the phone reads, comma-separated (`sample,review`).
    #[serde(default)]
    with: Option<String>,
}

async fn pull_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullPage>, ApiError> {
    let q = query(q)?;
    let dev = device(&state, &headers).await?;
    let now = state.clock.now();
    Ok(Json(
        run(&state, move |tx| {
            let page = pull::pull(
                tx,
                &dev,
                &q.scope,
                q.after,
                q.epoch,
                q.limit.unwrap_or(500),
                &pull::optional_kinds(q.with.as_deref()),
                now,
            )?;
            failpoint!("server::pull_mid");
            Ok(page)
        })
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct Session {
    token: String,
    township_id: String,
}

async fn login(
    State(state): State<AppState>,
    Body(l): Body<Login>,
) -> Result<Json<Session>, ApiError> {
    let now = state.clock.now();
    let (token, township) = run(&state, move |tx| {
        Ok(auth::staff_login(tx, &l.username, &l.password, now)?)
    })
    .await?;
    Ok(Json(Session {
        token,
        township_id: township.to_string(),
    }))
}

#[derive(Debug, Deserialize)]
struct NewEnrollment {
    person_id: PersonId,
    role: Role,
}

#[derive(Debug, Serialize)]
struct EnrollmentCode {
    code: String,
}

pub(super) async fn staff(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<cunjie_domain::ids::TownshipId, ApiError> {
    let token = bearer(headers)?;
    let now = state.clock.now();
    run(state, move |tx| {
        Ok(auth::staff_by_session(tx, &token, now)?)
    })
    .await
}

async fn create_enrollment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(n): Body<NewEnrollment>,
) -> Result<Json<EnrollmentCode>, ApiError> {
    let township = staff(&state, &headers).await?;
    let now = state.clock.now();
    let code = run(&state, move |tx| {
        let p = auth::person(tx, &n.person_id.to_string())?.ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such person")
        })?;
        if p.township != township {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::FORBIDDEN,
                "that person belongs to another township",
            ));
        }
        Ok(auth::create_enrollment(
            tx,
            n.person_id,
            n.role,
            now,
            chrono::Duration::days(7),
        )?)
    })
    .await?;
    Ok(Json(EnrollmentCode {
        code: auth::display_code(&code),
    }))
}

async fn revoke_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    let township = staff(&state, &headers).await?;
    let id: DeviceId = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "not a device id",
        )
    })?;
    let now = state.clock.now();
    let found = run(&state, move |tx| {
        let owner = crate::core::scalar(
            tx,
            "SELECT township_id FROM device WHERE id = $1",
            crate::store::vals![id.to_string()],
        )?;
        if owner.as_ref().and_then(|v| v.text()) != Some(township.to_string().as_str()) {
            return Ok(false);
        }
        Ok(auth::revoke(tx, id, now)?)
    })
    .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no such active device in your township",
        ))
    }
}

async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

async fn health() -> &'static str {
    "ok"
}

/// Every API error without a JSON body (the router's 405, an extractor's plain-text rejection
/// such as a path that is not UTF-8, the decompression layer's 415 for an unknown encoding)
/// becomes an `ErrorBody` with a stable code; the answer's other headers are kept.
async fn json_errors(resp: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let encoded = parts.headers.contains_key(header::CONTENT_ENCODING);
    let detail = match axum::body::to_bytes(body, 4096).await {
        Ok(b) if !encoded && !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    let code = match status {
        StatusCode::UNAUTHORIZED => codes::UNAUTHORISED,
        StatusCode::FORBIDDEN => codes::FORBIDDEN,
        StatusCode::NOT_FOUND => codes::NOT_FOUND,
        StatusCode::PAYLOAD_TOO_LARGE => codes::TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
        s if s.is_server_error() => codes::INTERNAL,
        _ => codes::BAD_REQUEST,
    };
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "this endpoint does not take that method; see /api/v1/openapi.json".to_owned()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE if detail == "Unsupported Media Type" => {
            "unsupported Content-Encoding; send the body plain or gzip-compressed".to_owned()
        }
        _ => format!("the request is not valid: {detail}"),
    };
    let mut r = ApiError::new(status, code, message).into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH && k != header::CONTENT_ENCODING
        {
            r.headers_mut().append(k.clone(), v.clone());
        }
    }
    r
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

pub(crate) fn router(state: AppState) -> Router {
    let r = Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/sync/push", post(push_batch))
        .route("/api/v1/sync/scopes", get(scopes))
        .route("/api/v1/sync/pull", get(pull_page))
        .route("/api/v1/admin/login", post(login))
        .route("/api/v1/admin/enrollments", post(create_enrollment))
        .route("/api/v1/admin/devices/{id}/revoke", post(revoke_device))
        .merge(super::uploads::routes())
        .fallback(not_found);
    super::security_headers(r, "default-src 'none'; frame-ancestors 'none'; sandbox")
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(state)
}
