//! Sizes, thumbnail, hash, watermark and determinism of `process`.

use cunjie_media::{Limits, Policy, process, sha256_hex};

use crate::common::{Camera, jpeg, picture, run, watermark};

fn dims(jpeg: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(jpeg).expect("the output is a readable JPEG");
    (img.width(), img.height())
}

/// A 12-megapixel camera photo (4000×3000) and smaller ones. Portrait is checked at 1500×2000
/// to keep the debug-build test time down; it runs the same code path.
#[test]
fn derivatives_fit_1600_and_thumbnails_320_without_upscaling() {
    let cases = [
        ((4000, 3000), (1600, 1200), (320, 240)),
        ((1500, 2000), (1200, 1600), (240, 320)),
        ((1200, 900), (1200, 900), (320, 240)),
        ((800, 600), (800, 600), (320, 240)),
    ];
    for ((w, h), derivative, thumb) in cases {
        let input = jpeg(&picture(w, h), 85, Some(&Camera::full(1)));
        let p = run(&input).expect("a camera JPEG is processed");
        assert_eq!((p.width, p.height), derivative, "{w}×{h}: reported size");
        assert_eq!(dims(&p.derivative), derivative, "{w}×{h}: derivative size");
        assert_eq!(dims(&p.thumbnail), thumb, "{w}×{h}: thumbnail size");
        assert_eq!(
            p.sha256,
            sha256_hex(&p.derivative),
            "hash is of the derivative"
        );
        assert!(
            p.derivative.len() < input.len() || w <= 1600,
            "a downscaled derivative is smaller than the camera file"
        );
    }
}

#[test]
fn the_long_edge_is_a_township_setting() {
    let input = jpeg(&picture(1200, 900), 85, None);
    let policy = Policy {
        long_edge: 1024,
        ..Policy::default()
    };
    let p = process(&input, &policy, &watermark(), &Limits::default()).expect("processed");
    assert_eq!(
        (p.width, p.height),
        (1024, 768),
        "long edge from the policy"
    );
}

#[test]
fn a_bad_policy_is_refused_with_its_code() {
    let input = jpeg(&picture(200, 150), 85, None);
    for policy in [
        Policy {
            long_edge: 0,
            ..Policy::default()
        },
        Policy {
            quality: 0,
            ..Policy::default()
        },
        Policy {
            thumb_edge: 4000,
            ..Policy::default()
        },
    ] {
        let err = process(&input, &policy, &watermark(), &Limits::default())
            .expect_err("an out-of-range policy is refused");
        assert_eq!(err.code(), "bad_policy", "{policy:?}");
    }
}

#[test]
fn same_input_and_watermark_give_the_same_bytes() {
    let input = jpeg(&picture(1200, 900), 90, Some(&Camera::full(6)));
    let policy = Policy {
        long_edge: 1000,
        ..Policy::default()
    };
    let run = |wm: &cunjie_media::Watermark| {
        process(&input, &policy, wm, &Limits::default()).expect("processed")
    };
    let a = run(&watermark());
    let b = run(&watermark());
    assert_eq!(a.sha256, b.sha256, "the derivative is deterministic");
    assert_eq!(a.thumbnail, b.thumbnail, "the thumbnail is deterministic");
    let mut other = watermark();
    other.person = "检查员 李红梅".into();
    let c = run(&other);
    assert_ne!(
        a.sha256, c.sha256,
        "the watermark is part of the hashed bytes"
    );
}

#[test]
fn the_watermark_band_is_drawn_bottom_left() {
    let grey = image::RgbImage::from_pixel(1600, 1200, image::Rgb([150, 150, 150]));
    // 1600 px wide: no resize, so the band's size is the 1600-px one.
    let p = run(&jpeg(&grey, 95, None)).expect("processed");
    let out = image::load_from_memory(&p.derivative)
        .expect("decode")
        .into_rgb8();
    let top_right = out.get_pixel(1590, 10).0[0];
    let bottom_left = out.get_pixel(3, 1196).0[0];
    assert!(
        top_right.abs_diff(150) <= 3,
        "away from the band the photo is unchanged ({top_right})"
    );
    assert!(
        bottom_left < 80,
        "the band darkens the bottom-left corner ({bottom_left})"
    );
    let white = (1050..1200)
        .flat_map(|y| (0..700).map(move |x| (x, y)))
        .filter(|&(x, y)| out.get_pixel(x, y).0.iter().all(|&c| c > 220))
        .count();
    assert!(white > 1500, "white text in the band ({white} px)");
}

#[test]
fn a_grey_camera_jpeg_is_accepted() {
    let grey = image::GrayImage::from_fn(640, 480, |x, _| image::Luma([(x % 256) as u8]));
    let mut input = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut input, 85)
        .encode_image(&grey)
        .expect("encode grey");
    let p = run(&input).expect("a greyscale JPEG is processed");
    assert_eq!((p.width, p.height), (640, 480), "same size");
}
