//! EXIF read from the input and written on the derivative.

use cunjie_media::{ExifInfo, read_exif};

use crate::common::{Camera, jpeg, picture, run};

#[test]
fn read_exif_gives_time_signed_gps_and_orientation() {
    let input = jpeg(&picture(320, 240), 85, Some(&Camera::full(3)));
    let info = read_exif(&input).expect("read");
    assert_eq!(
        info.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-29 14:05:09"),
        "DateTimeOriginal"
    );
    let (lat, lon) = info.gps.expect("GPS");
    assert!(
        (lat - (28.0 + 7.0 / 60.0 + 24.45 / 3600.0)).abs() < 1e-9,
        "lat {lat}"
    );
    assert!(
        (lon - (115.0 + 7.0 / 60.0 + 24.44 / 3600.0)).abs() < 1e-9,
        "lon {lon}"
    );
    assert_eq!(info.orientation, 3, "orientation");

    let mut west = Camera::full(1);
    west.gps = Some((("S", 33, 52, 0), ("W", 70, 40, 0)));
    let (lat, lon) = read_exif(&jpeg(&picture(64, 64), 85, Some(&west)))
        .expect("read")
        .gps
        .expect("GPS");
    assert!(
        lat < -33.0 && lon < -70.0,
        "S and W are negative: {lat}, {lon}"
    );
}

#[test]
fn no_exif_is_the_default_with_orientation_1() {
    let info = read_exif(&jpeg(&picture(64, 64), 85, None)).expect("read");
    assert_eq!(
        info,
        ExifInfo {
            orientation: 1,
            ..ExifInfo::default()
        },
        "nothing read, upright"
    );
}

#[test]
fn the_derivative_keeps_time_and_gps_with_orientation_1() {
    let input = jpeg(&picture(1800, 1200), 85, Some(&Camera::full(8)));
    let before = read_exif(&input).expect("input EXIF");
    let p = run(&input).expect("processed");
    assert_eq!(p.exif, before, "process reports what it read");
    assert_eq!(
        &p.derivative[..4],
        &[0xFF, 0xD8, 0xFF, 0xE1],
        "the Exif APP1 segment comes right after SOI"
    );
    let after = read_exif(&p.derivative).expect("derivative EXIF");
    assert_eq!(after.taken_at, before.taken_at, "time copied");
    assert_eq!(after.gps, before.gps, "GPS copied exactly");
    assert_eq!(
        after.orientation, 1,
        "pixels are upright, so orientation is 1"
    );
    let raw = String::from_utf8_lossy(&p.derivative[..600]).into_owned();
    assert!(!raw.contains("TestCam"), "camera make is not copied");
}

#[test]
fn time_and_gps_are_never_invented() {
    let input = jpeg(
        &picture(400, 300),
        85,
        Some(&Camera {
            orientation: Some(1),
            ..Camera::default()
        }),
    );
    let p = run(&input).expect("processed");
    let after = read_exif(&p.derivative).expect("derivative EXIF");
    assert_eq!(after.taken_at, None, "no time in, no time out");
    assert_eq!(after.gps, None, "no GPS in, no GPS out");
}
