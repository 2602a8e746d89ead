//! The tus 1.0 request headers a phone sends with a photo upload, parsed: pure functions on
//! the header text, called by the server's `/api/v1/uploads` handlers (and by the fuzz targets
//! in `fuzz/`). Every malformed value is an `Err` with a message for the `{code, message}`
//! body, never a panic.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// A non-negative decimal integer header (`Upload-Length`, `Upload-Offset`) from the raw
/// values of the header `name`, in the order they came: `None` when absent. Sent twice, it is
/// refused: two lengths or offsets leave the server guessing.
pub fn parse_number<'a>(
    name: &str,
    mut values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<u64>, String> {
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("send {name} once"));
    }
    let s = std::str::from_utf8(v).unwrap_or_default().trim();
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name} must be a non-negative integer"));
    }
    s.parse()
        .map(Some)
        .map_err(|_| format!("{name} must be a non-negative integer"))
}

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
pub fn parse_metadata(s: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ');
        let key = parts.next().unwrap_or_default();
        let value = parts.next();
        if parts.next().is_some() {
            return Err(format!("'{pair}' is not 'key base64value'"));
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(format!("'{key}' is not a metadata key"));
        }
        let bytes = match value {
            None => Vec::new(),
            Some(v) => STANDARD
                .decode(v)
                .or_else(|_| STANDARD_NO_PAD.decode(v))
                .map_err(|_| format!("the value of '{key}' is not base64"))?,
        };
        if out.insert(key.to_owned(), bytes).is_some() {
            return Err(format!("'{key}' appears twice"));
        }
    }
    Ok(out)
}

/// A digest algorithm of `Upload-Checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// `Upload-Checksum: <algorithm> <base64 of the raw digest of this request's body>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The raw digest: 20 bytes for SHA-1, 32 for SHA-256.
    pub digest: Vec<u8>,
}

/// Parses `Upload-Checksum`.
pub fn parse_checksum(s: &str) -> Result<Checksum, String> {
    let (name, value) = s
        .trim()
        .split_once(' ')
        .ok_or("Upload-Checksum must be '<algorithm> <base64 digest>'")?;
    let (algorithm, len) = match name {
        "sha1" => (Algorithm::Sha1, 20),
        "sha256" => (Algorithm::Sha256, 32),
        other => {
            return Err(format!(
                "checksum algorithm '{}' is not supported; use sha1 or sha256",
                other.chars().take(20).collect::<String>()
            ));
        }
    };
    let digest = STANDARD
        .decode(value.trim())
        .map_err(|_| "the Upload-Checksum digest is not base64".to_owned())?;
    if digest.len() != len {
        return Err(format!("a {name} digest has {len} bytes"));
    }
    Ok(Checksum { algorithm, digest })
}
