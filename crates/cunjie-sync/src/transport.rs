//! How the engine talks to the township server: enrollment, push, scopes and pull for records;
//! blob check and tus upload calls for photos; and errors that say whether trying again can help.

use std::future::Future;
use std::sync::Arc;

use cunjie_domain::fact::PhotoHash;
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, PullPage, PushRequest, PushResponse, ScopeList, codes,
};

/// The township server's v1 API as the phone uses it. [`crate::HttpTransport`] speaks HTTP;
/// tests use an in-memory fake. Every call is idempotent, so the engine may repeat any of them
/// after a lost answer.
pub trait Transport: Send + Sync {
    /// Redeems an enrollment code (`POST /api/v1/enroll`, no token).
    fn enroll(
        &self,
        req: &EnrollRequest,
    ) -> impl Future<Output = Result<EnrollResponse, TransportError>> + Send;

    /// Pushes a batch of mutations in seq order (`POST /api/v1/sync/push`).
    fn push(
        &self,
        token: &str,
        req: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, TransportError>> + Send;

    /// The scopes this device may pull, with epochs and heads (`GET /api/v1/sync/scopes`).
    fn scopes(&self, token: &str)
    -> impl Future<Output = Result<ScopeList, TransportError>> + Send;

    /// One page of a scope's changes after `after` in `epoch`
    /// (`GET /api/v1/sync/pull?scope=…&after=…&epoch=…&limit=…`).
    fn pull(
        &self,
        token: &str,
        scope: &str,
        after: u64,
        epoch: u64,
        limit: u32,
    ) -> impl Future<Output = Result<PullPage, TransportError>> + Send;

    /// Whether the server already holds the photo `sha256` (`HEAD /api/v1/blobs/{sha256}`):
    /// then nothing is sent.
    fn blob_exists(
        &self,
        token: &str,
        sha256: &PhotoHash,
    ) -> impl Future<Output = Result<bool, TransportError>> + Send;

    /// Creates a tus upload for the photo (`POST /api/v1/uploads`); returns its URL, which the
    /// phone persists before sending a byte.
    fn create_upload(
        &self,
        token: &str,
        sha256: &PhotoHash,
        length: u64,
    ) -> impl Future<Output = Result<String, TransportError>> + Send;

    /// The server's offset of an upload (`HEAD` on its URL). An upload the server no longer
    /// has is `Refused` with code `upload_gone` or `not_found`.
    fn upload_offset(
        &self,
        token: &str,
        url: &str,
    ) -> impl Future<Output = Result<u64, TransportError>> + Send;

    /// Sends one chunk at `offset` (`PATCH` on the upload URL); returns the server's new
    /// offset. With `checksum` the chunk carries its SHA-256 and the server keeps all of it or
    /// none; without, the server keeps whatever part arrives before the link drops.
    fn upload_chunk(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        chunk: Vec<u8>,
        checksum: bool,
    ) -> impl Future<Output = Result<u64, TransportError>> + Send;
}

impl<T: Transport> Transport for Arc<T> {
    fn enroll(
        &self,
        req: &EnrollRequest,
    ) -> impl Future<Output = Result<EnrollResponse, TransportError>> + Send {
        (**self).enroll(req)
    }

    fn push(
        &self,
        token: &str,
        req: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, TransportError>> + Send {
        (**self).push(token, req)
    }

    fn scopes(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<ScopeList, TransportError>> + Send {
        (**self).scopes(token)
    }

    fn pull(
        &self,
        token: &str,
        scope: &str,
        after: u64,
        epoch: u64,
        limit: u32,
    ) -> impl Future<Output = Result<PullPage, TransportError>> + Send {
        (**self).pull(token, scope, after, epoch, limit)
    }

    fn blob_exists(
        &self,
        token: &str,
        sha256: &PhotoHash,
    ) -> impl Future<Output = Result<bool, TransportError>> + Send {
        (**self).blob_exists(token, sha256)
    }

    fn create_upload(
        &self,
        token: &str,
        sha256: &PhotoHash,
        length: u64,
    ) -> impl Future<Output = Result<String, TransportError>> + Send {
        (**self).create_upload(token, sha256, length)
    }

    fn upload_offset(
        &self,
        token: &str,
        url: &str,
    ) -> impl Future<Output = Result<u64, TransportError>> + Send {
        (**self).upload_offset(token, url)
    }

    fn upload_chunk(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        chunk: Vec<u8>,
        checksum: bool,
    ) -> impl Future<Output = Result<u64, TransportError>> + Send {
        (**self).upload_chunk(token, url, offset, chunk, checksum)
    }
}

/// Why a call failed. [`TransportError::is_retryable`] says whether the same call may succeed
/// if repeated after a pause (no signal, a busy server) or not (a refused token, a bad request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made (no signal, DNS failure, server down). Retryable.
    #[error("could not reach the server: {0}")]
    Unreachable(String),
    /// The server did not answer in time (30 s by default). Retryable: the request may have
    /// been applied, and the server answers a repeat from its receipts.
    #[error("the server did not answer in time")]
    Timeout,
    /// The connection broke during the exchange. Retryable, as for a timeout.
    #[error("the connection broke during the exchange: {0}")]
    Interrupted(String),
    /// HTTP 5xx, 429 or 408: the server is failing or busy. Retryable.
    #[error("the server is busy or failing (HTTP {status}): {message}")]
    Busy {
        /// The HTTP status.
        status: u16,
        /// The server's stable code, if it sent an error body.
        code: Option<String>,
        /// The server's message, if any.
        message: String,
    },
    /// HTTP 401: the device token is unknown, expired or revoked. Keep every record and ask
    /// the person to enroll the phone again.
    #[error("the server refused this phone's token: {message}")]
    Unauthorised {
        /// The server's message.
        message: String,
    },
    /// HTTP 409 `seq_gap`: the server expects this device's pushes to continue at `expected`
    /// (it lost seqs it once acknowledged, e.g. restored from a backup).
    #[error("the server expects pushes to continue at seq {expected:?}: {message}")]
    SeqGap {
        /// The seq the server expects next, when it said so.
        expected: Option<u64>,
        /// The server's message.
        message: String,
    },
    /// Any other 4xx: the server refused the request for good; `code` is its stable code
    /// (see `cunjie_protocol::v1::codes`), or `http_<status>` without an error body.
    #[error("the server refused the request (HTTP {status}, {code}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's stable code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The answer could not be read (not the expected JSON, too large, a captive portal's
    /// login page …). Not retried at once; the next sync tries again.
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
    /// The request could not be built (a malformed server URL). Not retryable.
    #[error("the request could not be built: {0}")]
    Invalid(String),
}

impl TransportError {
    /// Whether repeating the same call after a pause may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable(_) | Self::Timeout | Self::Interrupted(_) | Self::Busy { .. }
        )
    }

    /// The server's stable error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Busy { code, .. } => code.as_deref(),
            Self::Unauthorised { .. } => Some(codes::UNAUTHORISED),
            Self::SeqGap { .. } => Some(codes::SEQ_GAP),
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// What went wrong, in words a cleaner understands, and what will happen next.
    pub fn message_zh(&self) -> &'static str {
        match self {
            Self::Unreachable(_) | Self::Timeout | Self::Interrupted(_) => {
                "网络中断，已保存在手机上，有信号时会自动上传"
            }
            Self::Busy { .. } => "服务器暂时忙，已保存在手机上，稍后会自动上传",
            Self::Unauthorised { .. } => {
                "这部手机需要重新登记：请向镇整治办索取新的登记码。手机上的记录和照片都还在，不会丢失"
            }
            Self::SeqGap { .. } => {
                "服务器上的记录和手机对不上，请联系镇整治办；手机上的记录都还在，不会丢失"
            }
            Self::Refused { code, .. } => match code.as_str() {
                codes::ENROLLMENT_INVALID => {
                    "登记码无效、已用过或已过期，请向镇整治办索取新的登记码"
                }
                codes::FORBIDDEN => "这部手机没有权限做这件事，请联系镇整治办；手机上的记录都还在",
                codes::TOO_LARGE => "这批记录太大，服务器没有收下；已保存在手机上，请联系镇整治办",
                codes::NOT_REFERENCED | codes::SIGNATURE_INVALID => {
                    "服务器不认这张照片的签名，请联系镇整治办；照片还在手机上，不会丢失"
                }
                codes::HASH_MISMATCH => "照片上传后校验不符，会重新上传；照片还在手机上",
                _ => "服务器没有收下这次同步，请联系镇整治办；手机上的记录都还在，不会丢失",
            },
            Self::BadResponse(_) => {
                "收到的回复看不懂（可能连上了需要登录的无线网），已保存在手机上，稍后会自动重试"
            }
            Self::Invalid(_) => "服务器地址不对，请重新扫描登记码",
        }
    }
}
