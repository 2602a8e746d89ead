//! Photo bytes over HTTP: tus 1.0.0 resumable uploads (core plus the creation, checksum,
//! expiration and termination extensions) under `/api/v1/uploads`, `HEAD /api/v1/blobs/{sha256}`
//! for dedup, and the staff's view of a photo and of a fact's evidence.
//!
//! Every tus request except `OPTIONS` carries `Tus-Resumable: 1.0.0` and the device token.
//! A `PATCH` body is streamed to the partial file, never buffered whole: a standard client may
//! send the whole photo in one request. The DB offset is the truth: bytes are written and
//! fsynced before the offset moves, and a partial file found longer than the DB offset (a
//! crash between the two) is cut back to it on the next `HEAD` or `PATCH`.
//!
//! Requests on one upload run one at a time. A `PATCH` or `DELETE` asks a `PATCH` still running
//! on the same upload to stop: on 2G the phone gives up on a dead connection and comes back
//! long before the server notices, and the old request must not block the new one. A stopped
//! request is treated like a broken connection.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, options};
use chrono::{DateTime, Utc};
use cunjie_domain::fact::PhotoHash;
use cunjie_domain::ids::IdGen;
use cunjie_protocol::tus::{Algorithm, Checksum, parse_checksum, parse_metadata, parse_number};
use cunjie_protocol::v1::codes;
use http_body_util::BodyExt;
use sha1::Digest as _;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::{OwnedMutexGuard, mpsc, watch};
use tower_http::set_header::SetResponseHeaderLayer;
use uuid::Uuid;

use super::ApiError;
use super::routes::{device, run, staff};
use crate::AppState;
use crate::blobs::{UploadSlot, sync_dir};
use crate::core::photos::{
    self, Exif, MAX_PHOTO_BYTES, Refusal, Upload, UploadState, Verification,
};
use crate::core::{DeviceCtx, ts};

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,checksum,expiration,termination";
const TUS_CHECKSUMS: &str = "sha1,sha256";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

fn h(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

/// The tus routes and the blob routes (merged into the API router).
pub(crate) fn routes() -> Router<AppState> {
    let tus = Router::new()
        .route("/api/v1/uploads", options(discover).post(create))
        .route(
            "/api/v1/uploads/{id}",
            head(status)
                .patch(patch)
                .delete(terminate)
                .options(discover),
        )
        .layer(middleware::from_fn(require_tus_version))
        .layer(SetResponseHeaderLayer::overriding(
            h("tus-resumable"),
            HeaderValue::from_static(TUS_VERSION),
        ));
    Router::new()
        .merge(tus)
        .route("/api/v1/blobs/{sha256}", head(blob_head))
        .route("/api/v1/admin/blobs/{sha256}", get(blob_get))
        .route("/api/v1/admin/facts/{id}/evidence", get(evidence))
}

/// 412 unless the request speaks tus 1.0.0 (`OPTIONS` is discovery and needs no version).
async fn require_tus_version(req: Request, next: Next) -> Response {
    let ok = req.method() == Method::OPTIONS
        || req
            .headers()
            .get("tus-resumable")
            .is_some_and(|v| v.as_bytes() == TUS_VERSION.as_bytes());
    if ok {
        return next.run(req).await;
    }
    let mut resp = ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        codes::TUS_VERSION,
        "send Tus-Resumable: 1.0.0; this server speaks tus 1.0.0 only",
    )
    .into_response();
    resp.headers_mut()
        .insert(h("tus-version"), HeaderValue::from_static(TUS_VERSION));
    resp
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        "no such upload; create a new one with POST /api/v1/uploads",
    )
}

fn gone() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        codes::UPLOAD_GONE,
        "this upload expired or was terminated; create a new one with POST /api/v1/uploads",
    )
}

fn too_large(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE, message)
}

fn offset_mismatch(server: u64) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::OFFSET_MISMATCH,
        format!("the upload is at offset {server}; ask with HEAD and continue from there"),
    )
}

fn io_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// `Upload-Expires`: an RFC 7231 HTTP date.
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A non-negative decimal integer header (`Upload-Length`, `Upload-Offset`), once at most
/// (parsed by [`parse_number`]).
fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    parse_number(
        name,
        headers.get_all(name).iter().map(HeaderValue::as_bytes),
    )
    .map_err(bad)
}

/// A running digest of one request's body.
enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    fn new(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// `OPTIONS`: what this server supports.
async fn discover() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let hs = r.headers_mut();
    hs.insert(h("tus-version"), HeaderValue::from_static(TUS_VERSION));
    hs.insert(h("tus-extension"), HeaderValue::from_static(TUS_EXTENSIONS));
    hs.insert(
        h("tus-checksum-algorithm"),
        HeaderValue::from_static(TUS_CHECKSUMS),
    );
    hs.insert(h("tus-max-size"), HeaderValue::from(MAX_PHOTO_BYTES));
    r
}

/// `POST`: creates an upload for a photo this device attested.
async fn create(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let dev = device(&state, &headers).await?;
    if headers.contains_key("upload-defer-length") {
        return Err(bad(
            "Upload-Defer-Length is not supported; send Upload-Length",
        ));
    }
    let length = number(&headers, "upload-length")?.ok_or_else(|| bad("send Upload-Length"))?;
    if length > MAX_PHOTO_BYTES {
        return Err(too_large(format!(
            "a photo may have at most {MAX_PHOTO_BYTES} bytes (Tus-Max-Size)"
        )));
    }
    let raw = headers
        .get("upload-metadata")
        .map(|v| v.to_str().map_err(|_| bad("Upload-Metadata is not ASCII")))
        .transpose()?
        .unwrap_or_default()
        .to_owned();
    let meta = parse_metadata(&raw).map_err(|e| bad(format!("Upload-Metadata: {e}")))?;
    let sha256: PhotoHash = meta
        .get("sha256")
        .and_then(|v| std::str::from_utf8(v).ok())
        .ok_or_else(|| {
            bad("Upload-Metadata needs sha256 (the photo's SHA-256 in hex, base64-encoded)")
        })?
        .parse()
        .map_err(|e| bad(format!("Upload-Metadata sha256: {e}")))?;
    let now = state.clock.now();
    let id = IdGen::new(state.clock.clone()).next_uuid();
    let created = run(&state, move |tx| {
        Ok(photos::create_upload(
            tx, &dev, id, &sha256, length, &raw, now,
        )?)
    })
    .await?;
    let up = match created {
        Ok(up) => up,
        Err(Refusal::NotReferenced) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::NOT_REFERENCED,
                "this phone has not attested that photo; push its records first, then upload",
            ));
        }
        Err(Refusal::SizeDiffers { attested }) => {
            return Err(bad(format!(
                "Upload-Length {length} differs from the attested size {attested}; re-hash the photo and attest it again"
            )));
        }
    };
    let mut r = StatusCode::CREATED.into_response();
    let hs = r.headers_mut();
    hs.insert(
        header::LOCATION,
        header_value(&format!("/api/v1/uploads/{}", up.id)),
    );
    hs.insert(h("upload-expires"), header_value(&http_date(up.expires_at)));
    Ok(r)
}

/// The device's upload by id, or 404 (unknown, malformed or another device's).
async fn own_upload(state: &AppState, dev: &DeviceCtx, id: &str) -> Result<Upload, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let up = run(state, move |tx| Ok(photos::upload(tx, id)?))
        .await?
        .ok_or_else(not_found)?;
    if up.device_id != dev.id.to_string() {
        return Err(not_found());
    }
    Ok(up)
}

/// Brings an open upload's partial file in line with the DB offset (the caller holds its
/// lock): a longer file (a crash between the write and the offset update) is cut back; a
/// shorter one (lost bytes) moves the offset back, and the phone resends from there.
async fn reconcile(state: &AppState, up: &mut Upload) -> Result<(), ApiError> {
    if up.state != UploadState::Open {
        return Ok(());
    }
    let path = state.blobs.part_path(up.id);
    let len = match tokio::fs::metadata(&path).await {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(io_error(e)),
    };
    if len > up.offset {
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await
            .map_err(io_error)?;
        f.set_len(up.offset).await.map_err(io_error)?;
        f.sync_all().await.map_err(io_error)?;
    } else if len < up.offset {
        tracing::warn!(upload = %up.id, file = len, db = up.offset, "partial upload shorter than its offset; moving the offset back");
        let (id, offset) = (up.id, len);
        run(state, move |tx| Ok(photos::set_offset(tx, id, offset)?)).await?;
        up.offset = len;
    }
    Ok(())
}

fn offset_headers(r: &mut Response, up: &Upload, offset: u64) {
    let hs = r.headers_mut();
    hs.insert(h("upload-offset"), HeaderValue::from(offset));
    if up.state == UploadState::Open {
        hs.insert(h("upload-expires"), header_value(&http_date(up.expires_at)));
    }
}

/// `HEAD`: where the upload stands.
async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let dev = device(&state, &headers).await?;
    let mut up = own_upload(&state, &dev, &id).await?;
    if !up.live(state.clock.now()) {
        return Err(gone());
    }
    // Reconcile only if no PATCH is running (it owns the file and will reconcile itself).
    let slot = state.blobs.slot(up.id);
    if let Ok(_guard) = slot.lock.clone().try_lock_owned() {
        let id = up.id;
        if let Some(fresh) = run(&state, move |tx| Ok(photos::upload(tx, id)?)).await? {
            up = fresh;
        }
        reconcile(&state, &mut up).await?;
    }
    let offset = if up.state == UploadState::Done {
        up.length
    } else {
        up.offset
    };
    let mut r = StatusCode::OK.into_response();
    offset_headers(&mut r, &up, offset);
    let hs = r.headers_mut();
    hs.insert(h("upload-length"), HeaderValue::from(up.length));
    hs.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Takes an upload's lock, asking a request still running on it to stop. `None` if an even
/// newer request arrived while this one waited (it goes first).
async fn take_lock(state: &AppState, id: Uuid) -> (Option<Held>, watch::Receiver<u64>, u64) {
    let slot = state.blobs.slot(id);
    let mut generation = 0;
    slot.newest.send_modify(|g| {
        *g += 1;
        generation = *g;
    });
    let guard = slot.lock.clone().lock_owned().await;
    let mut newest = slot.newest.subscribe();
    let current = *newest.borrow_and_update();
    let held = Held {
        _guard: guard,
        _slot: slot,
    };
    ((current == generation).then_some(held), newest, generation)
}

/// An upload's lock, held (with its slot, so the slot outlives the request).
struct Held {
    _guard: OwnedMutexGuard<()>,
    _slot: Arc<UploadSlot>,
}

/// One piece of a PATCH body, from the handler to the writer task.
enum Piece {
    Data(Bytes),
    End,
    Broken,
}

/// `PATCH`: appends this request's body at the upload's offset.
async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let dev = device(&state, &headers).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some(OFFSET_OCTET_STREAM) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send the bytes as Content-Type: application/offset+octet-stream",
        ));
    }
    let offset = number(&headers, "upload-offset")?.ok_or_else(|| bad("send Upload-Offset"))?;
    let checksum = headers
        .get("upload-checksum")
        .map(|v| parse_checksum(v.to_str().unwrap_or_default()).map_err(bad))
        .transpose()?;
    let up = own_upload(&state, &dev, &id).await?;
    if !up.live(state.clock.now()) {
        return Err(gone());
    }
    let declared = number(&headers, "content-length")?;
    if declared.is_some_and(|n| n > up.length.saturating_sub(offset)) {
        return Err(too_large(format!(
            "the body is longer than what is left of the upload ({} bytes)",
            up.length.saturating_sub(offset)
        )));
    }
    let (guard, newest, generation) = take_lock(&state, up.id).await;
    let Some(guard) = guard else {
        return Err(offset_mismatch(up.offset));
    };
    let uid = up.id;
    let mut up = run(&state, move |tx| Ok(photos::upload(tx, uid)?))
        .await?
        .ok_or_else(not_found)?;
    if !up.live(state.clock.now()) {
        return Err(gone());
    }
    reconcile(&state, &mut up).await?;
    let server_offset = if up.state == UploadState::Done {
        up.length
    } else {
        up.offset
    };
    if offset != server_offset {
        return Err(offset_mismatch(server_offset));
    }
    if up.state == UploadState::Done {
        // The last PATCH's answer was lost and the client asks again: it is complete.
        let mut r = StatusCode::NO_CONTENT.into_response();
        offset_headers(&mut r, &up, up.length);
        return Ok(r);
    }
    // The writer runs as its own task: if the connection drops, hyper drops this handler, the
    // channel closes, and the writer still settles the bytes (and releases the lock).
    let (tx, rx) = mpsc::channel::<Piece>(8);
    let writer = Writer {
        state: state.clone(),
        up,
        checksum,
        newest,
        generation,
        _held: guard,
    };
    let mut job = tokio::spawn(writer.run(rx));
    let mut body = body;
    let outcome = loop {
        tokio::select! {
            done = &mut job => break done,
            frame = body.frame() => {
                let piece = match frame {
                    None => Piece::End,
                    Some(Ok(f)) => match f.into_data() {
                        Ok(data) => Piece::Data(data),
                        Err(_) => continue, // trailers
                    },
                    Some(Err(_)) => Piece::Broken,
                };
                let last = !matches!(piece, Piece::Data(_));
                if tx.send(piece).await.is_err() || last {
                    break (&mut job).await;
                }
            }
        }
    };
    drop(tx);
    outcome.map_err(ApiError::internal)?
}

/// Writes one PATCH body to the partial file, then settles: offset update, checksum discard,
/// or finalisation when the upload is complete. Holds the upload's lock throughout.
struct Writer {
    state: AppState,
    up: Upload,
    checksum: Option<Checksum>,
    newest: watch::Receiver<u64>,
    generation: u64,
    _held: Held,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Piece>) -> Result<Response, ApiError> {
        let path = self.state.blobs.part_path(self.up.id);
        let start = self.up.offset;
        let room = self.up.length - start;
        let existed = tokio::fs::try_exists(&path).await.unwrap_or(false);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .await
            .map_err(io_error)?;
        if !existed {
            let dir = self.state.blobs.uploads_dir().to_owned();
            tokio::task::spawn_blocking(move || sync_dir(&dir))
                .await
                .map_err(io_error)?
                .map_err(io_error)?;
        }
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(io_error)?;
        let mut hasher = self.checksum.as_ref().map(|c| Hasher::new(c.algorithm));
        let mut written = 0u64;
        let generation = self.generation;
        let ended = loop {
            let piece = tokio::select! {
                p = rx.recv() => p.unwrap_or(Piece::Broken),
                _ = self.newest.wait_for(|g| *g != generation) => Piece::Broken,
            };
            match piece {
                Piece::Data(data) => {
                    let n = data.len() as u64;
                    if written + n > room {
                        file.set_len(start).await.map_err(io_error)?;
                        file.sync_all().await.map_err(io_error)?;
                        return Err(too_large(format!(
                            "the body is longer than what is left of the upload ({room} bytes); nothing of it was kept"
                        )));
                    }
                    file.write_all(&data).await.map_err(io_error)?;
                    failpoint!("server::chunk_append");
                    if let Some(h) = hasher.as_mut() {
                        h.update(&data);
                    }
                    written += n;
                }
                Piece::End => break true,
                Piece::Broken => break false,
            }
        };
        file.flush().await.map_err(io_error)?;
        let checksum_ok = match (hasher, &self.checksum) {
            (Some(h), Some(c)) => Some(h.finish() == c.digest),
            _ => None,
        };
        if checksum_ok == Some(false) || (!ended && checksum_ok.is_some()) {
            // A checksummed request is kept whole or not at all.
            file.set_len(start).await.map_err(io_error)?;
            file.sync_all().await.map_err(io_error)?;
            return Err(if ended {
                ApiError::new(
                    StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                    codes::CHECKSUM_MISMATCH,
                    "the bytes do not match Upload-Checksum; they were discarded, send them again",
                )
            } else {
                interrupted()
            });
        }
        file.sync_all().await.map_err(io_error)?;
        drop(file);
        let offset = start + written;
        if offset == self.up.length {
            return self.finalise().await;
        }
        if written > 0 {
            let id = self.up.id;
            run(&self.state, move |tx| {
                Ok(photos::set_offset(tx, id, offset)?)
            })
            .await?;
        }
        if !ended {
            return Err(interrupted());
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        offset_headers(&mut r, &self.up, offset);
        Ok(r)
    }

    /// The last byte arrived: check the whole file, store the blob durably, then mark the photo
    /// stored with its verification in one transaction.
    async fn finalise(self) -> Result<Response, ApiError> {
        let state = &self.state;
        let up = &self.up;
        let path = state.blobs.part_path(up.id);
        let bytes = tokio::fs::read(&path).await.map_err(io_error)?;
        let claimed = up.sha256.clone();
        let (bytes, hash_ok, exif) = tokio::task::spawn_blocking(move || {
            let hash_ok = cunjie_media::sha256_hex(&bytes) == claimed;
            let exif = if hash_ok {
                cunjie_media::read_exif(&bytes)
                    .map(|e| Exif {
                        taken_at: e.taken_at,
                        gps: e.gps,
                    })
                    .unwrap_or_default()
            } else {
                Exif::default()
            };
            (bytes, hash_ok, exif)
        })
        .await
        .map_err(io_error)?;
        let now = state.clock.now();
        if !hash_ok {
            let id = up.id;
            run(state, move |tx| {
                Ok(photos::mark_gone(tx, id, "hash_mismatch", now)?)
            })
            .await?;
            remove_part(state, up.id).await;
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::HASH_MISMATCH,
                "the uploaded file does not hash to the attested SHA-256; it was discarded: re-hash the photo on the phone and upload it again",
            ));
        }
        let sha = up.sha256.clone();
        let record = run(state, move |tx| Ok(photos::photo_record(tx, &sha)?))
            .await?
            .ok_or_else(|| ApiError::internal("an upload without its photo row"))?;
        let signature_ok = record.public_key.as_deref().is_some_and(|k| {
            cunjie_media::verify_attestation(k, &record.attestation, &record.signature).is_ok()
        });
        let verification: Verification = photos::verify(
            &record.attestation,
            record.received_at,
            exif,
            record.place.as_ref(),
            hash_ok,
            signature_ok,
        );
        if !record.stored {
            state
                .blobs
                .put(&up.sha256, Bytes::from(bytes))
                .await
                .map_err(ApiError::internal)?;
        }
        failpoint!("server::blob_finalised");
        let done = up.clone();
        run(state, move |tx| {
            Ok(photos::finish_upload(tx, &done, &verification, now)?)
        })
        .await?;
        remove_part(state, up.id).await;
        tracing::info!(upload = %up.id, sha256 = %up.sha256, "photo stored");
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut()
            .insert(h("upload-offset"), HeaderValue::from(up.length));
        Ok(r)
    }
}

fn interrupted() -> ApiError {
    bad(
        "the request body ended early (connection broken or superseded by a newer request); ask with HEAD and continue",
    )
}

/// Deletes an upload's partial file and forgets its lock.
async fn remove_part(state: &AppState, id: Uuid) {
    let path = state.blobs.part_path(id);
    if let Err(e) = tokio::fs::remove_file(&path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(upload = %id, error = %e, "could not remove a partial upload; the sweep will");
    }
    state.blobs.forget_slot(id);
}

/// `DELETE`: terminates an upload and removes its partial file.
async fn terminate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let dev = device(&state, &headers).await?;
    let up = own_upload(&state, &dev, &id).await?;
    if up.state == UploadState::Gone {
        return Err(gone());
    }
    let (guard, _, _) = take_lock(&state, up.id).await;
    let now = state.clock.now();
    let id = up.id;
    run(&state, move |tx| Ok(photos::terminate_upload(tx, id, now)?)).await?;
    drop(guard);
    remove_part(&state, up.id).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn photo_hash(s: &str) -> Result<PhotoHash, ApiError> {
    s.parse()
        .map_err(|_| bad("not a SHA-256: send 64 lower-case hex digits"))
}

/// `HEAD /api/v1/blobs/{sha256}`: 200 if the server already has the photo (skip the upload).
async fn blob_head(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sha): Path<String>,
) -> Result<StatusCode, ApiError> {
    let dev = device(&state, &headers).await?;
    let sha = photo_hash(&sha)?;
    let township = dev.township.to_string();
    let st = run(&state, move |tx| {
        Ok(photos::photo_state(tx, &sha, &township)?)
    })
    .await?;
    if st.as_deref() == Some("stored") {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "the server does not have this photo yet; upload it",
        ))
    }
}

/// `GET /api/v1/admin/blobs/{sha256}`: a stored photo's bytes, for township staff.
async fn blob_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sha): Path<String>,
) -> Result<Response, ApiError> {
    let township = staff(&state, &headers).await?.to_string();
    let sha = photo_hash(&sha)?;
    let key = sha.clone();
    let st = run(&state, move |tx| {
        Ok(photos::photo_state(tx, &key, &township)?)
    })
    .await?;
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no stored photo with this SHA-256 in your township",
        )
    };
    if st.as_deref() != Some("stored") {
        return Err(missing());
    }
    let got = state
        .blobs
        .get(&sha)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(missing)?;
    let size = got.meta.size;
    let mut r = Body::from_stream(got.into_stream()).into_response();
    let hs = r.headers_mut();
    hs.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    hs.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    Ok(r)
}

/// `GET /api/v1/admin/facts/{id}/evidence`: a fact's photos and how many are still pending.
async fn evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let township = staff(&state, &headers).await?.to_string();
    let id = Uuid::parse_str(&id)
        .map_err(|_| bad("not a fact id"))?
        .to_string();
    let ev = run(&state, move |tx| Ok(photos::evidence(tx, &township, &id)?))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
                "no such inspection, round or rectification in your township",
            )
        })?;
    Ok(axum::Json(ev).into_response())
}

// ---------------------------------------------------------------------------------------------
// The sweep.

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Open uploads past `Upload-Expires`, now gone.
    pub expired: u64,
    /// Partial files removed (of expired, finished or unknown uploads).
    pub files_removed: u64,
}

/// Expires unfinished uploads older than 7 days and removes partial files no open upload
/// owns. An upload with a request running is left for the next sweep.
pub async fn sweep_uploads(state: &AppState) -> Result<SweepReport, ApiError> {
    let now = state.clock.now();
    let mut report = SweepReport::default();
    let expired = run(state, move |tx| {
        Ok(tx
            .query(
                "SELECT id FROM upload WHERE state = 'open' AND expires_at <= $1",
                crate::store::vals![ts(now)],
            )?
            .iter()
            .filter_map(|r| crate::store::opt_text(r, 0).and_then(|s| Uuid::parse_str(&s).ok()))
            .collect::<Vec<_>>())
    })
    .await?;
    for id in expired {
        let slot = state.blobs.slot(id);
        let Ok(guard) = slot.lock.clone().try_lock_owned() else {
            continue;
        };
        run(state, move |tx| {
            Ok(photos::mark_gone(tx, id, "expired", now)?)
        })
        .await?;
        drop(guard);
        report.expired += 1;
    }
    let dir = state.blobs.uploads_dir().to_owned();
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(io_error(e)),
    };
    while let Some(entry) = entries.next_entry().await.map_err(io_error)? {
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".part"))
            .and_then(|n| Uuid::parse_str(n).ok())
        else {
            continue;
        };
        if run(state, move |tx| Ok(photos::upload_is_open(tx, id)?)).await? {
            continue;
        }
        let slot = state.blobs.slot(id);
        let Ok(guard) = slot.lock.clone().try_lock_owned() else {
            continue;
        };
        if tokio::fs::remove_file(entry.path()).await.is_ok() {
            report.files_removed += 1;
        }
        drop(guard);
        state.blobs.forget_slot(id);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn metadata_is_comma_separated_key_and_base64() {
        let m = parse_metadata("sha256 YWJj,filename cGhvdG8uanBn, flag").expect("parses");
        assert_eq!(m["sha256"], b"abc", "base64 decoded");
        assert_eq!(m["filename"], b"photo.jpg", "spaces after commas are fine");
        assert_eq!(m["flag"], b"", "a key without a value");
        assert!(parse_metadata("sha256 !!!").is_err(), "not base64");
        assert!(parse_metadata("a YQ==,a YQ==").is_err(), "a key twice");
        assert!(parse_metadata("a b c").is_err(), "three parts");
        assert!(
            parse_metadata("").expect("empty").is_empty(),
            "empty is fine"
        );
    }

    #[test]
    fn checksums_name_their_algorithm() {
        let c = parse_checksum(&format!("sha256 {}", STANDARD.encode([7u8; 32]))).expect("ok");
        assert_eq!(
            (c.algorithm, c.digest.len()),
            (Algorithm::Sha256, 32),
            "sha256"
        );
        let c = parse_checksum(&format!("sha1 {}", STANDARD.encode([7u8; 20]))).expect("ok");
        assert_eq!(c.algorithm, Algorithm::Sha1, "sha1");
        assert!(parse_checksum("md5 AAAA").is_err(), "md5 is not offered");
        assert!(
            parse_checksum(&format!("sha256 {}", STANDARD.encode([7u8; 20]))).is_err(),
            "a sha256 digest has 32 bytes"
        );
        assert!(parse_checksum("sha256").is_err(), "no digest");
    }

    #[test]
    fn expiry_is_an_http_date() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            http_date(t),
            "Tue, 24 Nov 2026 09:00:00 GMT",
            "RFC 7231 IMF-fixdate"
        );
    }
}
