//! All eight EXIF orientations: a coloured block in each corner of the stored picture must end
//! up in the corner where the upright view puts it.

use image::{Rgb, RgbImage};

use crate::common::{Camera, jpeg, run};

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 30];
const BLUE: [u8; 3] = [30, 30, 220];
const YELLOW: [u8; 3] = [220, 220, 30];

/// 800×600 stored pixels: red top-left, green top-right, blue bottom-right, yellow bottom-left.
fn stored() -> RgbImage {
    let (w, h, b) = (800, 600, 150);
    RgbImage::from_fn(w, h, |x, y| {
        Rgb(match (x < b, x >= w - b, y < b, y >= h - b) {
            (true, _, true, _) => RED,
            (_, true, true, _) => GREEN,
            (_, true, _, true) => BLUE,
            (true, _, _, true) => YELLOW,
            _ => [120, 120, 120],
        })
    })
}

fn name(p: [u8; 3]) -> &'static str {
    let [r, g, b] = p.map(|c| c > 150);
    match (r, g, b) {
        (true, false, false) => "red",
        (false, true, false) => "green",
        (false, false, true) => "blue",
        (true, true, false) => "yellow",
        _ => "other",
    }
}

#[test]
fn every_orientation_puts_the_corners_where_the_viewer_sees_them() {
    // (orientation, upright size, colours seen at top-left, top-right, bottom-right)
    let cases = [
        (1, (800, 600), ["red", "green", "blue"]),
        (2, (800, 600), ["green", "red", "yellow"]),
        (3, (800, 600), ["blue", "yellow", "red"]),
        (4, (800, 600), ["yellow", "blue", "green"]),
        (5, (600, 800), ["red", "yellow", "blue"]),
        (6, (600, 800), ["yellow", "red", "green"]),
        (7, (600, 800), ["blue", "green", "red"]),
        (8, (600, 800), ["green", "blue", "yellow"]),
    ];
    let picture = stored();
    for (orientation, size, [tl, tr, br]) in cases {
        let p = run(&jpeg(&picture, 92, Some(&Camera::full(orientation)))).expect("processed");
        assert_eq!(p.exif.orientation, orientation, "orientation read");
        let out = image::load_from_memory(&p.derivative)
            .expect("decode")
            .into_rgb8();
        assert_eq!(
            out.dimensions(),
            size,
            "orientation {orientation}: upright size"
        );
        let (w, h) = out.dimensions();
        // The bottom-left corner is under the watermark band, so it is not sampled.
        let seen = [
            name(out.get_pixel(40, 40).0),
            name(out.get_pixel(w - 40, 40).0),
            name(out.get_pixel(w - 40, h - 40).0),
        ];
        assert_eq!(
            seen,
            [tl, tr, br],
            "orientation {orientation}: top-left, top-right, bottom-right"
        );
    }
}

#[test]
fn an_out_of_range_orientation_is_treated_as_upright() {
    let p = run(&jpeg(&stored(), 92, Some(&Camera::full(9)))).expect("processed");
    assert_eq!(p.exif.orientation, 1, "9 is not an EXIF orientation");
    assert_eq!((p.width, p.height), (800, 600), "not rotated");
}
