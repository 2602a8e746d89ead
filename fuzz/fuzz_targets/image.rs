//! Image decoding as the phone's photo pipeline does it (`cunjie_media::process`: byte limit,
//! JPEG magic, header walk with dimension and pixel limits before any pixel is allocated,
//! end-of-image check, decode under `image`'s limits, downscale, watermark, encode) and the
//! EXIF reader the server runs on every uploaded photo (`cunjie_media::read_exif`). Whatever
//! the bytes: `Ok` or an error with a stable code, never a panic, never more pixels than the
//! limits allow.
#![no_main]

use chrono::{FixedOffset, TimeZone};
use cunjie_media::{Limits, Policy, Watermark, process, read_exif};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_exif(data);
    // Small limits: the fuzzer explores the checks, not the decoding of big pictures.
    let limits = Limits {
        max_input_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_dimension: 2048,
    };
    let policy = Policy {
        long_edge: 256,
        quality: 70,
        thumb_edge: 64,
    };
    let watermark = Watermark {
        taken_at: FixedOffset::east_opt(8 * 3600)
            .expect("+08:00")
            .with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
            .single()
            .expect("a time"),
        place: "太平村 · 3组 · 18号".into(),
        person: "检查员".into(),
        fix: Some((28.1, 115.2, 6.0)),
    };
    match process(data, &policy, &watermark, &limits) {
        Ok(p) => {
            assert!(
                p.width.max(p.height) <= policy.long_edge,
                "never larger than the policy"
            );
            assert!(!p.derivative.is_empty() && !p.thumbnail.is_empty());
        }
        Err(e) => assert!(!e.code().is_empty(), "a stable code"),
    }
});
