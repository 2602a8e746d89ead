//! Message bodies on the wire: JSON, gzipped when that makes them smaller.
//!
//! A 2G uplink moves a few kilobytes a second, so a push of a week's inspections is worth
//! compressing; a tiny `GET` answer is not (gzip adds ~20 bytes of header and trailer). The
//! sender asks [`encode_json`], which gzips only a body over [`GZIP_THRESHOLD`] bytes and only
//! when the result is smaller, and sends `Content-Encoding: gzip` when [`Encoded::gzip`] says so.
//!
//! The receiver calls [`decode_json`], which never inflates more than [`MAX_DECODED_BYTES`]: a
//! gzip bomb (a few kilobytes that inflate to gigabytes) is an error, not an out-of-memory kill.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bodies up to this many bytes are sent as plain JSON: compressing them saves nothing worth
/// the CPU and the header.
pub const GZIP_THRESHOLD: usize = 512;

/// The most a body may decompress to (16 MiB). A push batch is at most ~256 KB and a pull page
/// of 500 changes a few MB, so a legitimate message is far below this.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// A body ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// `true` when `bytes` is gzip: send `Content-Encoding: gzip`.
    pub gzip: bool,
}

/// A body that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The value could not be written as JSON (a map with non-string keys, say).
    #[error("the message could not be written as JSON: {0}; this is a bug, report it")]
    Encode(#[source] serde_json::Error),
    /// The body is not JSON of the expected shape.
    #[error("the body is not JSON of the expected shape: {0}")]
    Json(#[source] serde_json::Error),
    /// The body says gzip but is not a valid gzip stream.
    #[error("the body is not valid gzip: {0}")]
    Gzip(#[source] std::io::Error),
    /// The body is (or inflates to) more than the limit.
    #[error("the body is over {limit} bytes once decompressed; it was refused")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Writes `value` as JSON and gzips it when it is over [`GZIP_THRESHOLD`] bytes and gzip makes
/// it smaller.
pub fn encode_json<T: Serialize + ?Sized>(value: &T) -> Result<Encoded, BodyError> {
    let json = serde_json::to_vec(value).map_err(BodyError::Encode)?;
    Ok(gzip_if_smaller(json))
}

/// Gzips an already-written JSON body when it is over [`GZIP_THRESHOLD`] bytes and gzip makes
/// it smaller; otherwise returns it unchanged.
pub fn gzip_if_smaller(json: Vec<u8>) -> Encoded {
    if json.len() <= GZIP_THRESHOLD {
        return Encoded {
            bytes: json,
            gzip: false,
        };
    }
    let mut enc = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    let compressed = enc
        .write_all(&json)
        .and_then(|()| enc.finish())
        .expect("writing gzip into a Vec cannot fail: Vec's io::Write is infallible");
    if compressed.len() < json.len() {
        Encoded {
            bytes: compressed,
            gzip: true,
        }
    } else {
        Encoded {
            bytes: json,
            gzip: false,
        }
    }
}

/// Reads a JSON body, inflating it first when `gzip` is set, refusing anything that is over
/// [`MAX_DECODED_BYTES`] once decompressed.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8], gzip: bool) -> Result<T, BodyError> {
    decode_json_limited(bytes, gzip, MAX_DECODED_BYTES)
}

/// [`decode_json`] with an explicit limit on the decompressed size, in bytes.
pub fn decode_json_limited<T: DeserializeOwned>(
    bytes: &[u8],
    gzip: bool,
    limit: usize,
) -> Result<T, BodyError> {
    if gzip {
        let plain = gunzip_limited(bytes, limit)?;
        serde_json::from_slice(&plain).map_err(BodyError::Json)
    } else if bytes.len() > limit {
        Err(BodyError::TooLarge { limit })
    } else {
        serde_json::from_slice(bytes).map_err(BodyError::Json)
    }
}

/// Inflates a gzip stream, stopping with [`BodyError::TooLarge`] as soon as the output would
/// pass `limit` bytes: memory use is bounded by the limit, whatever the input claims.
pub fn gunzip_limited(bytes: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit));
    MultiGzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(BodyError::Gzip)?;
    if out.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_stay_plain_and_round_trip() {
        let value = serde_json::json!({"code": "seq_gap", "message": "expected 4"});
        let enc = encode_json(&value).expect("encodes");
        assert!(!enc.gzip, "a body under the threshold is not gzipped");
        let back: serde_json::Value = decode_json(&enc.bytes, enc.gzip).expect("decodes");
        assert_eq!(back, value, "round trip");
    }

    #[test]
    fn large_repetitive_bodies_are_gzipped_and_round_trip() {
        let value: Vec<String> = (0..200)
            .map(|i| format!("太平村{}组{i:03}号", i % 3))
            .collect();
        let enc = encode_json(&value).expect("encodes");
        let plain = serde_json::to_vec(&value).expect("json");
        assert!(enc.gzip, "a large repetitive body is gzipped");
        assert!(
            enc.bytes.len() < plain.len() / 2,
            "gzip pays off: {} vs {}",
            enc.bytes.len(),
            plain.len()
        );
        let back: Vec<String> = decode_json(&enc.bytes, true).expect("decodes");
        assert_eq!(back, value, "round trip");
    }

    #[test]
    fn a_body_gzip_would_grow_is_sent_plain() {
        // Bytes with no redundancy (xorshift output), over the threshold.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let noise: Vec<u8> = (0..2048)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[3]
            })
            .collect();
        let enc = gzip_if_smaller(noise.clone());
        assert!(!enc.gzip, "noise does not shrink, so it stays plain");
        assert_eq!(enc.bytes, noise, "sent unchanged");
    }

    #[test]
    fn a_plain_body_over_the_limit_is_refused() {
        let err = decode_json_limited::<serde_json::Value>(b"[1,2,3,4,5,6]", false, 8)
            .expect_err("over the limit");
        assert!(matches!(err, BodyError::TooLarge { limit: 8 }), "{err}");
    }

    #[test]
    fn garbage_that_claims_gzip_is_an_error() {
        let err =
            decode_json::<serde_json::Value>(b"{\"not\": \"gzip\"}", true).expect_err("not gzip");
        assert!(matches!(err, BodyError::Gzip(_)), "{err}");
    }
}
