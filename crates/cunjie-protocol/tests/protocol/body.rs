//! Bodies on the wire: gzip only when it pays, and a decompression limit that stops a bomb.

use std::io::Write;
use std::time::Instant;

use cunjie_protocol::body::{
    BodyError, GZIP_THRESHOLD, MAX_DECODED_BYTES, decode_json, decode_json_limited, encode_json,
    gunzip_limited,
};
use cunjie_protocol::v1::{ErrorBody, ScopeInfo, ScopeList};
use flate2::Compression;
use flate2::write::GzEncoder;

/// `n` bytes of zeros, gzipped in one member: a few bytes per KiB.
fn zeros_gz(n: usize) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len());
        enc.write_all(&chunk[..k]).expect("write into Vec");
        left -= k;
    }
    enc.finish().expect("finish")
}

#[test]
fn a_gzip_bomb_is_refused_without_inflating_it() {
    // One member of 1 MiB of zeros, repeated: 2 × the limit of output from a few hundred KB.
    let member = zeros_gz(1 << 20);
    let copies = 2 * MAX_DECODED_BYTES / (1 << 20);
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * copies)
        .collect();
    assert!(
        bomb.len() < MAX_DECODED_BYTES / 100,
        "the bomb is small on the wire ({} bytes)",
        bomb.len()
    );
    let start = Instant::now();
    let err = decode_json::<serde_json::Value>(&bomb, true).expect_err("a bomb is refused");
    assert!(
        matches!(err, BodyError::TooLarge { limit } if limit == MAX_DECODED_BYTES),
        "refused as too large: {err}"
    );
    assert!(
        start.elapsed().as_secs() < 30,
        "refused promptly, not after inflating everything"
    );
}

#[test]
fn a_single_member_bomb_stops_at_the_limit() {
    let bomb = zeros_gz(8 << 20);
    assert!(bomb.len() < 64 << 10, "8 MiB of zeros is tiny gzipped");
    let err = gunzip_limited(&bomb, 1 << 20).expect_err("over the limit");
    assert!(
        matches!(err, BodyError::TooLarge { limit } if limit == 1 << 20),
        "{err}"
    );
    let exact = gunzip_limited(&zeros_gz(1 << 20), 1 << 20).expect("exactly at the limit");
    assert_eq!(
        exact.len(),
        1 << 20,
        "a body exactly at the limit is accepted"
    );
}

#[test]
fn a_scope_list_round_trips_through_gzip() {
    let list = ScopeList {
        scopes: (0..40)
            .map(|i| ScopeInfo {
                scope: format!("village:01935000-0000-7000-8000-{i:012x}"),
                epoch: 1,
                head: i * 10,
            })
            .collect(),
        server_time_ms: 1_795_396_352_900,
    };
    let enc = encode_json(&list).expect("encodes");
    assert!(enc.gzip, "a 40-scope list is worth compressing");
    let plain = serde_json::to_vec(&list).expect("json");
    assert!(enc.bytes.len() < plain.len(), "gzip made it smaller");
    let back: ScopeList = decode_json(&enc.bytes, enc.gzip).expect("decodes");
    assert_eq!(back, list, "same list after the round trip");
}

#[test]
fn an_error_body_stays_plain_and_a_wrong_shape_is_a_json_error() {
    let body = ErrorBody {
        code: "unauthorised".into(),
        message: "this phone's token was revoked; enroll it again".into(),
    };
    let enc = encode_json(&body).expect("encodes");
    assert!(
        enc.bytes.len() <= GZIP_THRESHOLD && !enc.gzip,
        "small bodies are sent as plain JSON"
    );
    let err = decode_json::<ScopeList>(&enc.bytes, false).expect_err("wrong shape");
    assert!(matches!(err, BodyError::Json(_)), "{err}");
    let err = decode_json_limited::<ErrorBody>(&enc.bytes, false, 10).expect_err("limit");
    assert!(matches!(err, BodyError::TooLarge { limit: 10 }), "{err}");
}
