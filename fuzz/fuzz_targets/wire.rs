//! The wire decoders: bytes as the server reads a request body (`PushRequest`,
//! `EnrollRequest`) and as a phone reads an answer (`PushResponse`, `PullPage`, `ScopeList`,
//! `EnrollResponse`), through `cunjie_protocol::body::decode_json` (gzip when asked, with the
//! decompression limit). The first byte picks the message (low 3 bits) and gzip (bit 3); the
//! rest is the body. Whatever the bytes, decoding answers `Ok` or `Err`, never panics, and
//! stays within the limit; a decoded message encodes again and decodes to the same value.
#![no_main]

use cunjie_protocol::body::{BodyError, decode_json_limited};
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, PullPage, PushRequest, PushResponse, ScopeList,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Small enough that the fuzzer reaches it, the way the server's limit is reached by bombs.
const LIMIT: usize = 1 << 20;

fn check<T: DeserializeOwned + Serialize>(body: &[u8], gzip: bool) {
    match decode_json_limited::<T>(body, gzip, LIMIT) {
        Ok(msg) => {
            let value = serde_json::to_value(&msg).expect("a decoded message encodes");
            let again: T = serde_json::from_value(value.clone()).expect("and decodes again");
            assert_eq!(
                serde_json::to_value(&again).expect("encodes"),
                value,
                "the same message after a round trip"
            );
        }
        Err(BodyError::TooLarge { limit }) => assert_eq!(limit, LIMIT),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let gzip = selector & 0b1000 != 0;
    match selector & 0b111 {
        0 => check::<PushRequest>(body, gzip),
        1 => check::<PullPage>(body, gzip),
        2 => check::<PushResponse>(body, gzip),
        3 => check::<ScopeList>(body, gzip),
        4 => check::<EnrollRequest>(body, gzip),
        _ => check::<EnrollResponse>(body, gzip),
    }
});
