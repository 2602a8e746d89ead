//! Evidence EXIF: what we read from the camera's JPEG (time taken, GPS, orientation) and the
//! small Exif block we write on the derivative (the same time and GPS, copied field by field,
//! never invented, and Orientation = 1 because the pixels are already upright).

use std::io::Cursor;

use chrono::NaiveDateTime;
use exif::experimental::Writer;
use exif::{Exif, Field, In, Tag, Value};

use crate::MediaError;
use crate::jpeg::{self, Sniffed};

/// Evidence EXIF read from the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifInfo {
    /// DateTimeOriginal (or DateTime when there is no DateTimeOriginal), the camera's local
    /// time without a zone, as written.
    pub taken_at: Option<chrono::NaiveDateTime>,
    /// Latitude and longitude, WGS-84 decimal degrees, signed by the N/S and E/W references.
    pub gps: Option<(f64, f64)>,
    /// EXIF orientation 1..=8; 1 when absent or out of range.
    pub orientation: u16,
}

/// Reads the evidence EXIF of a JPEG. A JPEG without Exif, or with an unreadable Exif block,
/// gives the default (no time, no GPS, orientation 1); bytes that are not a JPEG are an error
/// with the same code [`crate::process`] would give.
pub fn read_exif(jpeg: &[u8]) -> Result<ExifInfo, MediaError> {
    check_is_jpeg(jpeg)?;
    let header = jpeg::read_header(jpeg)?;
    Ok(parse(jpeg, header.exif).map_or_else(ExifInfo::none, |e| info(&e)))
}

impl ExifInfo {
    fn none() -> Self {
        Self {
            orientation: 1,
            ..Self::default()
        }
    }
}

pub(crate) fn check_is_jpeg(bytes: &[u8]) -> Result<(), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    match jpeg::sniff(bytes) {
        Sniffed::Jpeg => Ok(()),
        Sniffed::Other(format) => Err(MediaError::UnsupportedFormat {
            format: format.to_owned(),
        }),
        Sniffed::Unknown => Err(MediaError::NotAnImage),
    }
}

/// Parses the TIFF bytes of the Exif segment, keeping what parses when some entries do not.
pub(crate) fn parse(bytes: &[u8], range: Option<std::ops::Range<usize>>) -> Option<Exif> {
    let tiff = bytes.get(range?)?.to_vec();
    exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff)
        .or_else(|e| e.distill_partial_result(|_ignored| {}))
        .ok()
}

pub(crate) fn info(exif: &Exif) -> ExifInfo {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1);
    ExifInfo {
        taken_at: time_field(exif, Tag::DateTimeOriginal)
            .or_else(|| time_field(exif, Tag::DateTime)),
        gps: gps(exif),
        orientation,
    }
}

fn ascii(field: &Field) -> Option<&[u8]> {
    match &field.value {
        Value::Ascii(v) => v.first().map(Vec::as_slice),
        _ => None,
    }
}

fn time_field(exif: &Exif, tag: Tag) -> Option<NaiveDateTime> {
    let raw = ascii(exif.get_field(tag, In::PRIMARY)?)?;
    let dt = exif::DateTime::from_ascii(raw).ok()?;
    chrono::NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day))?
        .and_hms_opt(
            u32::from(dt.hour),
            u32::from(dt.minute),
            u32::from(dt.second),
        )
}

fn degrees(exif: &Exif, tag: Tag) -> Option<f64> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Rational(v) if !v.is_empty() && v.len() <= 3 => {
            let mut total = 0.0;
            for (r, unit) in v.iter().zip([1.0, 60.0, 3600.0]) {
                if r.denom == 0 {
                    return None;
                }
                total += r.to_f64() / unit;
            }
            Some(total)
        }
        _ => None,
    }
}

fn gps(exif: &Exif) -> Option<(f64, f64)> {
    let sign = |tag, negative: u8| {
        let r = ascii(exif.get_field(tag, In::PRIMARY)?)?;
        Some(if r.first()?.eq_ignore_ascii_case(&negative) {
            -1.0
        } else {
            1.0
        })
    };
    let lat = degrees(exif, Tag::GPSLatitude)? * sign(Tag::GPSLatitudeRef, b'S')?;
    let lon = degrees(exif, Tag::GPSLongitude)? * sign(Tag::GPSLongitudeRef, b'W')?;
    (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
        .then_some((lat, lon))
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

/// The TIFF bytes of the derivative's Exif: Orientation = 1, DateTimeOriginal and DateTime
/// (and OffsetTimeOriginal) when the input had them, and the input's GPS position fields when
/// they gave a valid position. Values are copied as they were, rationals included.
pub(crate) fn derivative_exif(
    input: Option<&Exif>,
    read: &ExifInfo,
) -> Result<Vec<u8>, MediaError> {
    let mut fields = vec![
        field(Tag::Orientation, Value::Short(vec![1])),
        field(Tag::ExifVersion, Value::Undefined(b"0232".to_vec(), 0)),
    ];
    if let Some(exif) = input {
        let copy_ascii = |tag: Tag| {
            exif.get_field(tag, In::PRIMARY)
                .filter(|f| matches!(f.value, Value::Ascii(_)))
                .map(|f| field(tag, f.value.clone()))
        };
        let original = read
            .taken_at
            .and(copy_ascii(Tag::DateTimeOriginal).or_else(|| copy_ascii(Tag::DateTime)));
        if let Some(original) = original {
            let written = copy_ascii(Tag::DateTime).unwrap_or_else(|| Field {
                tag: Tag::DateTime,
                ..original.clone()
            });
            fields.push(field(Tag::DateTimeOriginal, original.value));
            fields.push(written);
            fields.extend(copy_ascii(Tag::OffsetTimeOriginal));
        }
        if read.gps.is_some() {
            fields.push(field(Tag::GPSVersionID, Value::Byte(vec![2, 3, 0, 0])));
            for tag in [Tag::GPSLatitudeRef, Tag::GPSLongitudeRef] {
                fields.extend(copy_ascii(tag));
            }
            for tag in [Tag::GPSLatitude, Tag::GPSLongitude] {
                if let Some(f) = exif.get_field(tag, In::PRIMARY) {
                    fields.push(field(tag, f.value.clone()));
                }
            }
        }
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    writer
        .write(&mut out, true)
        .map_err(|e| MediaError::Encode(format!("Exif: {e}")))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rational(num: u32, denom: u32) -> exif::Rational {
        exif::Rational { num, denom }
    }

    fn sample(lat_ref: &str, lon_ref: &str) -> Exif {
        let fields = [
            field(Tag::Orientation, Value::Short(vec![6])),
            field(
                Tag::DateTimeOriginal,
                Value::Ascii(vec![b"2026:11:29 14:05:09".to_vec()]),
            ),
            field(
                Tag::GPSLatitudeRef,
                Value::Ascii(vec![lat_ref.as_bytes().to_vec()]),
            ),
            field(
                Tag::GPSLatitude,
                Value::Rational(vec![rational(28, 1), rational(7, 1), rational(2_445, 100)]),
            ),
            field(
                Tag::GPSLongitudeRef,
                Value::Ascii(vec![lon_ref.as_bytes().to_vec()]),
            ),
            field(
                Tag::GPSLongitude,
                Value::Rational(vec![rational(115, 1), rational(30, 1), rational(0, 1)]),
            ),
        ];
        let mut w = Writer::new();
        for f in &fields {
            w.push_field(f);
        }
        let mut out = Cursor::new(Vec::new());
        w.write(&mut out, false).expect("write sample");
        exif::Reader::new()
            .read_raw(out.into_inner())
            .expect("read sample")
    }

    #[test]
    fn reads_time_gps_and_orientation() {
        let i = info(&sample("N", "E"));
        assert_eq!(i.orientation, 6, "orientation from IFD0");
        assert_eq!(
            i.taken_at.map(|t| t.to_string()).as_deref(),
            Some("2026-11-29 14:05:09"),
            "DateTimeOriginal"
        );
        let (lat, lon) = i.gps.expect("gps");
        assert!(
            (lat - (28.0 + 7.0 / 60.0 + 24.45 / 3600.0)).abs() < 1e-9,
            "lat {lat}"
        );
        assert!((lon - 115.5).abs() < 1e-9, "lon {lon}");
    }

    #[test]
    fn south_and_west_are_negative() {
        let (lat, lon) = info(&sample("S", "W")).gps.expect("gps");
        assert!(
            lat < 0.0 && lon < 0.0,
            "S and W give negative degrees: {lat}, {lon}"
        );
    }

    #[test]
    fn derivative_exif_copies_and_sets_orientation_1() {
        let input = sample("N", "E");
        let read = info(&input);
        let tiff = derivative_exif(Some(&input), &read).expect("write");
        let back = exif::Reader::new().read_raw(tiff).expect("read back");
        let again = info(&back);
        assert_eq!(again.orientation, 1, "the derivative is upright");
        assert_eq!(again.taken_at, read.taken_at, "time copied");
        assert_eq!(again.gps, read.gps, "GPS copied exactly (same rationals)");
        assert_eq!(
            back.get_field(Tag::DateTime, In::PRIMARY).and_then(ascii),
            Some(&b"2026:11:29 14:05:09"[..]),
            "DateTime takes DateTimeOriginal when the input had none"
        );
    }

    #[test]
    fn nothing_is_invented_without_input_exif() {
        let tiff = derivative_exif(None, &ExifInfo::none()).expect("write");
        let back = exif::Reader::new().read_raw(tiff).expect("read back");
        assert_eq!(
            info(&back),
            ExifInfo::none(),
            "no time, no GPS, orientation 1"
        );
    }
}
