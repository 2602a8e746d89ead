//! Real JPEGs for the tests (camera pictures the capture pipeline takes in), and an
//! independent SHA-256 to check what the phone and the server name them by.

use std::io::Cursor;

use cunjie_domain::fact::PhotoHash;
use image::{ImageFormat, Rgb, RgbImage};
use sha2::{Digest, Sha256};

/// Renders a small JPEG (a courtyard-coloured gradient with a marker whose place depends on
/// `seed`), so every seed gives different bytes.
pub fn render_jpeg(seed: u32, width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        let mx = seed.wrapping_mul(37) % width.max(1);
        let my = seed.wrapping_mul(53) % height.max(1);
        if x.abs_diff(mx) < 12 && y.abs_diff(my) < 12 {
            Rgb([200, 30, 30])
        } else {
            Rgb([
                (90 + x * 100 / width.max(1)) as u8,
                (120 + y * 80 / height.max(1)) as u8,
                70,
            ])
        }
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg)
        .expect("encoding an in-memory RGB image cannot fail");
    out.into_inner()
}

/// Hex SHA-256 of some bytes, computed here independently of the code under test.
pub fn sha256_hex(bytes: &[u8]) -> PhotoHash {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.parse().expect("64 lower-case hex digits")
}

/// A camera-like JPEG: smooth light plus per-pixel sensor noise, which compresses like a real
/// photo of a lane (a flat gradient would compress unrealistically well). Quality 90, as
/// phone cameras write.
pub fn render_camera_jpeg(seed: u32, width: u32, height: u32) -> Vec<u8> {
    let mut x = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let img = RgbImage::from_fn(width, height, |px, py| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = (x & 0x3f) as i32 - 32;
        let base = [
            70 + (px * 120 / width.max(1)) as i32,
            90 + (py * 100 / height.max(1)) as i32,
            60 + ((px + py) * 60 / (width + height).max(1)) as i32,
        ];
        Rgb(base.map(|c| (c + n).clamp(0, 255) as u8))
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("encoding an in-memory RGB image cannot fail");
    out.into_inner()
}
