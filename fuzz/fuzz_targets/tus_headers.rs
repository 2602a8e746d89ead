//! The tus header parsers of `/api/v1/uploads` (`cunjie_protocol::tus`): `Upload-Metadata`,
//! `Upload-Checksum`, and `Upload-Length` / `Upload-Offset` sent once or several times. The
//! input is header values separated by newlines; the first byte picks the parser. Whatever the
//! text, each answers `Ok` or `Err`, never panics, and what it accepts is well formed.
#![no_main]

use cunjie_protocol::tus::{Algorithm, parse_checksum, parse_metadata, parse_number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            if let Ok(meta) = parse_metadata(&text) {
                for key in meta.keys() {
                    assert!(
                        !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic() && b != b','),
                        "a metadata key is visible ASCII without commas: {key:?}"
                    );
                }
            }
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            if let Ok(c) = parse_checksum(&text) {
                let len = match c.algorithm {
                    Algorithm::Sha1 => 20,
                    Algorithm::Sha256 => 32,
                };
                assert_eq!(c.digest.len(), len, "a digest of the algorithm's length");
            }
        }
        _ => {
            let values: Vec<&[u8]> = rest.split(|b| *b == b'\n').collect();
            match parse_number("Upload-Offset", values.iter().copied()) {
                Ok(Some(n)) => {
                    assert_eq!(values.len(), 1, "accepted only when sent once");
                    let text = String::from_utf8_lossy(values[0]);
                    assert_eq!(
                        text.trim().parse::<u64>().ok(),
                        Some(n),
                        "the decimal value"
                    );
                }
                Ok(None) => assert!(values.is_empty(), "absent only when not sent"),
                Err(_) => {}
            }
        }
    }
});
