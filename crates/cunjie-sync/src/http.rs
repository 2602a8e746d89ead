//! [`Transport`] over HTTP with reqwest: JSON bodies, gzip both ways (with a decompression
//! limit), a bearer token, and a 30 s limit per request.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cunjie_domain::fact::PhotoHash;
use cunjie_protocol::body::{self, MAX_DECODED_BYTES};
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, PullPage, PushRequest, PushResponse, ScopeList, codes,
};
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, LOCATION,
};
use reqwest::{Method, RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::transport::{Transport, TransportError};

/// The time limit for one request, connect to last byte (sync.md §5.9).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs rustls' ring provider as the process default, once; later calls (or a provider
/// another part of the program installed first) change nothing. reqwest is built without a
/// provider of its own (aws-lc-rs does not cross-compile for Android), and building a client
/// without one aborts the app, so every [`HttpTransport`] calls this first.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The township server's v1 API over HTTP(S).
///
/// Paths: `POST /api/v1/enroll`, `POST /api/v1/sync/push`, `GET /api/v1/sync/scopes`,
/// `GET /api/v1/sync/pull?scope=S&after=N&epoch=E&limit=L`; for photos `HEAD
/// /api/v1/blobs/{sha256}` and tus 1.0 (`POST /api/v1/uploads`, then `HEAD` and `PATCH` on the
/// upload's URL, each chunk with an `Upload-Checksum: sha256 …`). Request bodies are gzipped (with
/// `Content-Encoding: gzip`) when that makes them smaller; answers are accepted gzipped and
/// inflated with the limit of [`cunjie_protocol::body`], never reqwest's unbounded decoder.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: Url,
    client: reqwest::Client,
}

/// An error body as the server sends it, read leniently: `message` may be missing, and a
/// `seq_gap` may carry `expected_seq` as a number or a string.
#[derive(Debug, Deserialize)]
struct WireError {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    expected_seq: Option<serde_json::Value>,
}

impl HttpTransport {
    /// A transport for the server at `base_url` (e.g. `https://tongmu.example.cn`, with or
    /// without a trailing slash or a path prefix), with the default 30 s limit per request.
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        Self::with_timeout(base_url, DEFAULT_TIMEOUT)
    }

    /// As [`HttpTransport::new`] with another time limit per request.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, TransportError> {
        let mut base = Url::parse(base_url.trim())
            .map_err(|e| TransportError::Invalid(format!("server URL {base_url:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(TransportError::Invalid(format!(
                "server URL {base_url:?} is not an http(s) address"
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        ensure_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // Answers are inflated by `body::decode_json`, which has a size limit.
            .no_gzip()
            .build()
            .map_err(|e| TransportError::Invalid(error_chain(&e)))?;
        Ok(Self { base, client })
    }

    /// The server's base URL, always ending in `/`.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str) -> Result<Url, TransportError> {
        self.base
            .join(path)
            .map_err(|e| TransportError::Invalid(format!("{path}: {e}")))
    }

    fn post_json<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<RequestBuilder, TransportError> {
        let enc = body::encode_json(body).map_err(|e| TransportError::Invalid(e.to_string()))?;
        let mut rb = self
            .client
            .post(self.url(path)?)
            .header(CONTENT_TYPE, "application/json")
            .body(enc.bytes);
        if enc.gzip {
            rb = rb.header(CONTENT_ENCODING, "gzip");
        }
        Ok(rb)
    }

    async fn exchange<R: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<R, TransportError> {
        let mut resp = rb
            .header(ACCEPT, "application/json")
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .map_err(|e| from_reqwest(&e))?;
        let status = resp.status().as_u16();
        let gzip = resp
            .headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| from_reqwest(&e))? {
            if bytes.len() + chunk.len() > MAX_DECODED_BYTES {
                return Err(TransportError::BadResponse(format!(
                    "the answer is over {MAX_DECODED_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) {
            return body::decode_json(&bytes, gzip)
                .map_err(|e| TransportError::BadResponse(format!("HTTP {status}: {e}")));
        }
        Err(classify(
            status,
            body::decode_json::<WireError>(&bytes, gzip).ok(),
        ))
    }
}

/// The tus protocol version every upload request names.
const TUS_RESUMABLE: &str = "1.0.0";

impl HttpTransport {
    fn tus(&self, method: Method, url: Url, token: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("Tus-Resumable", TUS_RESUMABLE)
    }

    /// Sends a request whose success carries no body (tus, blob checks); returns the status and
    /// headers of a 2xx, or the error the status and body say.
    async fn bodiless(&self, rb: RequestBuilder) -> Result<(u16, HeaderMap), TransportError> {
        let resp = rb.send().await.map_err(|e| from_reqwest(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if (200..300).contains(&status) {
            return Ok((status, headers));
        }
        let gzip = headers
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let mut bytes = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(|e| from_reqwest(&e))? {
            if bytes.len() + chunk.len() > 64 * 1024 {
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = body::decode_json::<WireError>(&bytes, gzip).ok();
        Err(match (status, body) {
            // A HEAD answer has no body: name the tus outcomes by their status.
            (404, None) => TransportError::Refused {
                status,
                code: codes::NOT_FOUND.to_owned(),
                message: String::new(),
            },
            (410, None) => TransportError::Refused {
                status,
                code: codes::UPLOAD_GONE.to_owned(),
                message: String::new(),
            },
            (status, body) => classify(status, body),
        })
    }
}

fn upload_offset_of(headers: &HeaderMap) -> Result<u64, TransportError> {
    headers
        .get("Upload-Offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| TransportError::BadResponse("no Upload-Offset in the answer".into()))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

fn from_reqwest(e: &reqwest::Error) -> TransportError {
    let detail = error_chain(e);
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_builder() {
        TransportError::Invalid(detail)
    } else if e.is_connect() {
        TransportError::Unreachable(detail)
    } else if e.is_redirect() {
        TransportError::BadResponse(detail)
    } else {
        TransportError::Interrupted(detail)
    }
}

/// Finds `expected <n>` (also `expected seq <n>`, `expected: <n>`) in a message.
fn expected_in(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("expected")? + "expected".len();
    let rest = lower[at..].trim_start_matches([' ', ':', '=']);
    let rest = rest.strip_prefix("seq").unwrap_or(rest);
    let rest = rest.trim_start_matches([' ', ':', '=']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn lenient_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Sorts an error status (and its body, if it was a v1 error body) into a [`TransportError`].
fn classify(status: u16, body: Option<WireError>) -> TransportError {
    let (code, message, expected_seq) = match body {
        Some(b) => (Some(b.code), b.message, b.expected_seq),
        None => (None, String::new(), None),
    };
    if status == 401 || code.as_deref() == Some(codes::UNAUTHORISED) {
        return TransportError::Unauthorised { message };
    }
    if code.as_deref() == Some(codes::SEQ_GAP) {
        let expected = expected_seq
            .as_ref()
            .and_then(lenient_u64)
            .or_else(|| expected_in(&message));
        return TransportError::SeqGap { expected, message };
    }
    match status {
        408 | 429 | 500..=599 => TransportError::Busy {
            status,
            code,
            message,
        },
        400..=499 => TransportError::Refused {
            status,
            code: code.unwrap_or_else(|| format!("http_{status}")),
            message,
        },
        _ => TransportError::BadResponse(format!("unexpected HTTP {status}")),
    }
}

impl Transport for HttpTransport {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, TransportError> {
        let rb = self.post_json("api/v1/enroll", req)?;
        self.exchange(rb).await
    }

    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let rb = self
            .post_json("api/v1/sync/push", req)?
            .header(AUTHORIZATION, format!("Bearer {token}"));
        self.exchange(rb).await
    }

    async fn scopes(&self, token: &str) -> Result<ScopeList, TransportError> {
        let rb = self
            .client
            .get(self.url("api/v1/sync/scopes")?)
            .header(AUTHORIZATION, format!("Bearer {token}"));
        self.exchange(rb).await
    }

    async fn pull(
        &self,
        token: &str,
        scope: &str,
        after: u64,
        epoch: u64,
        limit: u32,
    ) -> Result<PullPage, TransportError> {
        let mut url = self.url("api/v1/sync/pull")?;
        url.query_pairs_mut()
            .append_pair("scope", scope)
            .append_pair("after", &after.to_string())
            .append_pair("epoch", &epoch.to_string())
            .append_pair("limit", &limit.to_string())
            .append_pair("with", &cunjie_protocol::v1::optional_entities_param());
        let rb = self
            .client
            .get(url)
            .header(AUTHORIZATION, format!("Bearer {token}"));
        self.exchange(rb).await
    }

    async fn blob_exists(&self, token: &str, sha256: &PhotoHash) -> Result<bool, TransportError> {
        let url = self.url(&format!("api/v1/blobs/{sha256}"))?;
        match self.bodiless(self.tus(Method::HEAD, url, token)).await {
            Ok(_) => Ok(true),
            Err(TransportError::Refused { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn create_upload(
        &self,
        token: &str,
        sha256: &PhotoHash,
        length: u64,
    ) -> Result<String, TransportError> {
        let metadata = format!(
            "sha256 {},filetype {}",
            B64.encode(sha256.as_str()),
            B64.encode("image/jpeg")
        );
        let rb = self
            .tus(Method::POST, self.url("api/v1/uploads")?, token)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", metadata);
        let (_, headers) = self.bodiless(rb).await?;
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| TransportError::BadResponse("no Location for the new upload".into()))?;
        // The server's Location may be a path; resolve it against the server's address.
        self.base
            .join(location)
            .map(String::from)
            .map_err(|e| TransportError::BadResponse(format!("upload Location {location:?}: {e}")))
    }

    async fn upload_offset(&self, token: &str, url: &str) -> Result<u64, TransportError> {
        let url = Url::parse(url).map_err(|e| TransportError::Invalid(format!("{url}: {e}")))?;
        let (_, headers) = self.bodiless(self.tus(Method::HEAD, url, token)).await?;
        upload_offset_of(&headers)
    }

    async fn upload_chunk(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        chunk: Vec<u8>,
        checksum: bool,
    ) -> Result<u64, TransportError> {
        let url = Url::parse(url).map_err(|e| TransportError::Invalid(format!("{url}: {e}")))?;
        let mut rb = self
            .tus(Method::PATCH, url, token)
            .header(CONTENT_TYPE, "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string());
        if checksum {
            let digest = format!("sha256 {}", B64.encode(Sha256::digest(&chunk)));
            rb = rb.header("Upload-Checksum", digest);
        }
        let rb = rb.body(chunk);
        let (_, headers) = self.bodiless(rb).await?;
        upload_offset_of(&headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_seq_is_found_in_the_message() {
        let cases = [
            (
                "this device must continue at seq 41: expected 41, got 44",
                Some(41),
            ),
            ("Expected seq 7", Some(7)),
            ("expected: 12", Some(12)),
            ("gap", None),
            ("expected nothing", None),
        ];
        for (message, want) in cases {
            assert_eq!(expected_in(message), want, "{message}");
        }
    }

    #[test]
    fn statuses_and_codes_are_classified() {
        let body = |code: &str, message: &str, seq: Option<serde_json::Value>| {
            Some(WireError {
                code: code.into(),
                message: message.into(),
                expected_seq: seq,
            })
        };
        let cases: Vec<(u16, Option<WireError>, TransportError, bool, &str)> = vec![
            (
                401,
                body("unauthorised", "revoked", None),
                TransportError::Unauthorised {
                    message: "revoked".into(),
                },
                false,
                "401 is an auth failure",
            ),
            (
                409,
                body("seq_gap", "expected 5", None),
                TransportError::SeqGap {
                    expected: Some(5),
                    message: "expected 5".into(),
                },
                false,
                "seq gap from the message",
            ),
            (
                409,
                body("seq_gap", "gap", Some(serde_json::json!("9"))),
                TransportError::SeqGap {
                    expected: Some(9),
                    message: "gap".into(),
                },
                false,
                "seq gap from expected_seq, even as a string",
            ),
            (
                503,
                None,
                TransportError::Busy {
                    status: 503,
                    code: None,
                    message: String::new(),
                },
                true,
                "a proxy's 503 without a body is retryable",
            ),
            (
                429,
                body("too_many", "slow down", None),
                TransportError::Busy {
                    status: 429,
                    code: Some("too_many".into()),
                    message: "slow down".into(),
                },
                true,
                "429 is retryable",
            ),
            (
                400,
                body("bad_request", "no", None),
                TransportError::Refused {
                    status: 400,
                    code: "bad_request".into(),
                    message: "no".into(),
                },
                false,
                "a 4xx keeps the server's code",
            ),
            (
                404,
                None,
                TransportError::Refused {
                    status: 404,
                    code: "http_404".into(),
                    message: String::new(),
                },
                false,
                "a 4xx without a body gets a code from its status",
            ),
        ];
        for (status, body, want, retryable, why) in cases {
            let got = classify(status, body);
            assert_eq!(got, want, "{why}");
            assert_eq!(got.is_retryable(), retryable, "{why}: retryable");
        }
    }

    #[test]
    fn a_base_url_keeps_its_path_prefix_and_refuses_other_schemes() {
        let t = HttpTransport::new("https://example.cn/cunjie").expect("valid");
        assert_eq!(
            t.url("api/v1/sync/scopes").expect("url").as_str(),
            "https://example.cn/cunjie/api/v1/sync/scopes",
            "paths are joined under the prefix"
        );
        assert!(
            matches!(
                HttpTransport::new("ftp://example.cn"),
                Err(TransportError::Invalid(_))
            ),
            "only http(s)"
        );
        assert!(
            matches!(
                HttpTransport::new("not a url"),
                Err(TransportError::Invalid(_))
            ),
            "garbage refused"
        );
    }
}
