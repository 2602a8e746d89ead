//! Inputs that must be refused with their own code: never a panic, never a huge allocation.

use cunjie_media::{Limits, Policy, process};

use crate::common::{Camera, jpeg, picture, refused, run, watermark};

/// Replaces the width and height in the first SOF0 frame header.
fn claim_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("the encoder writes SOF0");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

#[test]
fn zero_length_is_empty() {
    assert_eq!(refused(&[]), "empty", "0 bytes");
}

#[test]
fn a_cut_file_is_truncated_at_every_length() {
    let whole = jpeg(&picture(800, 600), 85, Some(&Camera::full(1)));
    assert!(run(&whole).is_ok(), "the whole file is fine");
    for cut in [whole.len() / 2, whole.len() - 2, 600, 4] {
        assert_eq!(
            refused(&whole[..cut]),
            "truncated",
            "cut at {cut} of {}",
            whole.len()
        );
    }
    // Every short prefix: a clear code each time, never a panic.
    for cut in 1..400 {
        let code = refused(&whole[..cut]);
        assert!(
            ["truncated", "not_an_image", "corrupt"].contains(&code),
            "cut at {cut} gave {code}"
        );
    }
}

#[test]
fn wrong_magic_is_not_an_image() {
    let mut bytes = jpeg(&picture(64, 64), 85, None);
    bytes[0] = 0x00;
    assert_eq!(refused(&bytes), "not_an_image", "first byte changed");
    assert_eq!(refused(b"just some text"), "not_an_image", "text");
}

#[test]
fn a_text_file_named_heic_is_not_an_image() {
    // Only bytes reach the pipeline: a .heic name with text inside is just text.
    let named_heic = "IMG_0001.heic: this is not a photo\n".as_bytes();
    assert_eq!(refused(named_heic), "not_an_image", "text named .heic");
}

#[test]
fn a_real_heic_header_is_unsupported() {
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.resize(200, 0);
    assert_eq!(refused(&heic), "unsupported_format", "HEIC is not a JPEG");
    let err = run(&heic).expect_err("refused");
    assert!(
        err.to_string().contains("HEIF/HEIC"),
        "the error names it: {err}"
    );
}

#[test]
fn a_png_is_unsupported_and_says_only_jpeg() {
    let mut png = Vec::new();
    picture(64, 48)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode PNG");
    let err = run(&png).expect_err("a PNG is refused");
    assert_eq!(err.code(), "unsupported_format", "PNG");
    assert!(err.to_string().contains("PNG"), "names the format: {err}");
    assert!(
        err.message_zh().contains("JPG"),
        "says only JPG: {}",
        err.message_zh()
    );
}

#[test]
fn a_30000_square_header_is_refused_before_decoding() {
    // A minimal JPEG: SOI, SOF0 claiming 30,000 × 30,000 (900 megapixels), SOS, EOI.
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
    j.extend_from_slice(&30_000u16.to_be_bytes());
    j.extend_from_slice(&30_000u16.to_be_bytes());
    j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    j.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    j.extend_from_slice(&[0x00, 0xFF, 0xD9]);
    assert_eq!(refused(&j), "too_many_pixels", "30,000 × 30,000");
}

#[test]
fn a_decompression_bomb_is_refused() {
    // A real 1000×1000 JPEG of 20 kB whose header claims 12,000 × 12,000 (144 megapixels).
    let small = jpeg(&image::RgbImage::new(1000, 1000), 50, None);
    assert!(
        small.len() < 40_000,
        "flat colour compresses to almost nothing"
    );
    assert_eq!(
        refused(&claim_size(&small, 12_000, 12_000)),
        "too_many_pixels",
        "144 MP claim"
    );
    // A 16-megapixel claim against a phone set to 10 megapixels.
    let flat = claim_size(&small, 4000, 4000);
    let limits = Limits {
        max_pixels: 10_000_000,
        ..Limits::default()
    };
    let err = process(&flat, &Policy::default(), &watermark(), &limits).expect_err("refused");
    assert_eq!(err.code(), "too_many_pixels", "16 MP over a 10 MP limit");
}

#[test]
fn too_many_bytes_is_too_large() {
    let input = jpeg(&picture(400, 300), 85, None);
    let limits = Limits {
        max_input_bytes: input.len() - 1,
        ..Limits::default()
    };
    let err = process(&input, &Policy::default(), &watermark(), &limits).expect_err("refused");
    assert_eq!(err.code(), "too_large", "one byte over");
}

#[test]
fn a_damaged_header_is_corrupt() {
    let good = jpeg(&picture(64, 64), 85, None);
    let mut zero = claim_size(&good, 0, 64);
    assert_eq!(refused(&zero), "corrupt", "a 0-wide frame");
    // A segment length of 1 (less than its own two bytes).
    zero = good.clone();
    zero[4..6].copy_from_slice(&[0, 1]);
    assert_eq!(refused(&zero), "corrupt", "impossible segment length");
    // No quantisation table: the decoder's own error.
    let mut no_dqt = good.clone();
    let dqt = segment(&no_dqt, 0xDB);
    let len = usize::from(u16::from_be_bytes([no_dqt[dqt + 2], no_dqt[dqt + 3]]));
    no_dqt.drain(dqt..dqt + 2 + len);
    assert_eq!(refused(&no_dqt), "corrupt", "no quantisation table");
    // The scan names a component the frame does not have.
    let mut bad_scan = good;
    let sos = segment(&bad_scan, 0xDA);
    bad_scan[sos + 5] = 9;
    assert_eq!(refused(&bad_scan), "corrupt", "scan of component 9");
}

fn segment(jpeg: &[u8], marker: u8) -> usize {
    jpeg.windows(2)
        .position(|w| w == [0xFF, marker])
        .expect("the encoder writes this segment")
}

#[test]
fn read_exif_refuses_what_process_refuses() {
    assert_eq!(
        cunjie_media::read_exif(b"").expect_err("empty").code(),
        "empty",
        "0 bytes"
    );
    assert_eq!(
        cunjie_media::read_exif(b"plain text")
            .expect_err("text")
            .code(),
        "not_an_image",
        "text"
    );
}
