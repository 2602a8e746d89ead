//! The 水印: time, place, person and position, drawn bottom-left in white on a translucent dark
//! band, with the embedded Noto Sans CJK SC Bold subset (`fonts/`, OFL-1.1).
//!
//! Lines are sized to the image (2.2 % of the long edge per line, shrunk if the widest line
//! would not fit the width). A character the font lacks draws the font's box (.notdef), never
//! panics; [`Watermark::missing_glyphs`] lists such characters so a caller can warn.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use chrono::{DateTime, FixedOffset};
use image::RgbImage;

/// The embedded font: Noto Sans CJK SC Bold, subset to ASCII, GB2312 and the demo's names.
static FONT_BYTES: &[u8] = include_bytes!("../fonts/NotoSansSC-subset.otf");

/// Line height as a fraction of the image's long edge (35 px on a 1600-px derivative).
const LINE_FRACTION: f32 = 0.022;
/// Smallest line height drawn, in pixels, however small or narrow the image.
const MIN_LINE_PX: f32 = 10.0;
/// Padding around the text inside the band, as a fraction of the line height.
const PAD_FRACTION: f32 = 0.45;
/// How much the band darkens what is behind it (0 = not at all, 255 = black).
const BAND_ALPHA: u32 = 140;

/// The watermark (水印) lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    /// When the photo was taken, shown in its own offset (the caller gives +08:00).
    pub taken_at: DateTime<FixedOffset>,
    /// Where: "太平村 · 3组 · 18号 李建国", "责任区 太平村东片".
    pub place: String,
    /// Who: "检查员 王芳".
    pub person: String,
    /// Latitude, longitude and accuracy in metres; `None` is drawn as 无定位.
    pub fix: Option<(f64, f64, f64)>,
}

impl Watermark {
    /// The text lines drawn, top to bottom: time, place, person, position. Empty place or
    /// person lines are left out; line breaks and tabs inside a field become spaces.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.taken_at.format("%Y-%m-%d %H:%M").to_string()];
        for text in [&self.place, &self.person] {
            let clean: String = text
                .trim()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if !clean.is_empty() {
                lines.push(clean);
            }
        }
        lines.push(match self.fix {
            Some((lat, lon, acc)) if acc.is_finite() && acc >= 0.0 => {
                format!("GPS {lat:.7}, {lon:.7} ±{acc:.0}m")
            }
            Some((lat, lon, _)) => format!("GPS {lat:.7}, {lon:.7}"),
            None => "无定位".to_owned(),
        });
        lines
    }

    /// Characters of [`Watermark::lines`] that the embedded font lacks; they are drawn as the
    /// font's box. Empty for every GB2312 character and the demo township's names.
    pub fn missing_glyphs(&self) -> Vec<char> {
        let mut missing: Vec<char> = self
            .lines()
            .iter()
            .flat_map(|l| l.chars())
            .filter(|&c| !has_glyph(c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }
}

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(FONT_BYTES)
            .expect("the embedded font parses (checked by the font_parses test)")
    })
}

/// Whether the embedded font has a real glyph for `c` (whitespace counts as covered).
pub(crate) fn has_glyph(c: char) -> bool {
    c.is_whitespace() || font().glyph_id(c) != GlyphId(0)
}

fn line_width(scale: PxScale, line: &str) -> f32 {
    let sf = font().as_scaled(scale);
    let mut prev: Option<GlyphId> = None;
    let mut x = 0.0;
    for c in line.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        x += sf.h_advance(id);
        prev = Some(id);
    }
    x
}

/// Draws `lines` bottom-left on `img`: a dark band, then white text blended by coverage.
pub(crate) fn draw(img: &mut RgbImage, lines: &[String]) {
    let (w, h) = img.dimensions();
    if lines.is_empty() || w == 0 || h == 0 {
        return;
    }
    let mut px = (w.max(h) as f32 * LINE_FRACTION).max(MIN_LINE_PX);
    let widest = lines
        .iter()
        .map(|l| line_width(PxScale::from(px), l))
        .fold(0.0_f32, f32::max);
    // Text width grows linearly with the size: fit widest + 2 pads into the width.
    let per_px = widest / px + 2.0 * PAD_FRACTION;
    if per_px * px > w as f32 {
        px = (w as f32 / per_px).max(MIN_LINE_PX);
    }
    let scale = PxScale::from(px);
    let pad = px * PAD_FRACTION;
    let text_w = lines
        .iter()
        .map(|l| line_width(scale, l))
        .fold(0.0_f32, f32::max);

    let band_w = ((text_w + 2.0 * pad).ceil() as u32).min(w);
    let band_h = ((px * lines.len() as f32 + 2.0 * pad).ceil() as u32).min(h);
    let top = h - band_h;
    for y in top..h {
        for x in 0..band_w {
            let p = img.get_pixel_mut(x, y);
            for c in &mut p.0 {
                *c = (u32::from(*c) * (255 - BAND_ALPHA) / 255) as u8;
            }
        }
    }

    let sf = font().as_scaled(scale);
    for (i, line) in lines.iter().enumerate() {
        let baseline = top as f32 + pad + px * i as f32 + sf.ascent();
        let mut caret = point(pad, baseline);
        let mut prev: Option<GlyphId> = None;
        for c in line.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                caret.x += sf.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, caret);
            caret.x += sf.h_advance(id);
            let Some(outline) = font().outline_glyph(glyph) else {
                continue; // A space, or a glyph with no outline.
            };
            let bounds = outline.px_bounds();
            let (ox, oy) = (bounds.min.x as i64, bounds.min.y as i64);
            outline.draw(|gx, gy, coverage| {
                let (x, y) = (ox + i64::from(gx), oy + i64::from(gy));
                let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
                    return;
                };
                if x >= w || y >= h {
                    return;
                }
                let a = (coverage.clamp(0.0, 1.0) * 255.0).round() as u32;
                let p = img.get_pixel_mut(x, y);
                for c in &mut p.0 {
                    let v = u32::from(*c);
                    *c = (v + ((255 - v) * a + 127) / 255) as u8;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn sample(fix: Option<(f64, f64, f64)>) -> Watermark {
        Watermark {
            taken_at: DateTime::parse_from_rfc3339("2026-11-29T14:05:09+08:00").expect("time"),
            place: "太平村 · 3组 · 18号 李建国".into(),
            person: "检查员 王芳".into(),
            fix,
        }
    }

    #[test]
    fn font_parses() {
        assert!(
            FontRef::try_from_slice(FONT_BYTES).is_ok(),
            "the embedded font must parse, or draw() would panic"
        );
        assert!(
            FONT_BYTES.len() < 5 * 1024 * 1024,
            "the font subset stays under 5 MB"
        );
    }

    #[test]
    fn lines_are_what_the_brief_shows() {
        assert_eq!(
            sample(Some((28.123_456_71, 115.123_456_74, 8.2))).lines(),
            vec![
                "2026-11-29 14:05",
                "太平村 · 3组 · 18号 李建国",
                "检查员 王芳",
                "GPS 28.1234567, 115.1234567 ±8m"
            ],
            "time in its own offset, place, person, GPS with 7 decimals and whole metres"
        );
        assert_eq!(
            sample(None).lines().last().map(String::as_str),
            Some("无定位"),
            "no fix is said in words"
        );
    }

    #[test]
    fn every_gb2312_hanzi_and_the_demo_names_have_glyphs() {
        // A few level-1 and level-2 hanzi, the separators and symbols of addresses.
        for c in "啊齄亍丌村洁垅庚彭·，。：（）－±℃№".chars() {
            assert!(has_glyph(c), "{c} must have a real glyph");
        }
        let demo = include_str!("../../cunjie-server/src/demo.rs");
        let mut in_literals = String::new();
        for line in demo.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut parts = line.split('"');
            parts.next();
            // Every other piece between quotes is a literal (the demo has no escaped quotes).
            for (i, part) in parts.enumerate() {
                if i % 2 == 0 {
                    in_literals.push_str(part);
                }
            }
        }
        assert!(
            in_literals.contains("建国") && in_literals.contains("太平村"),
            "the scan found the demo's names"
        );
        let missing: Vec<char> = in_literals.chars().filter(|&c| !has_glyph(c)).collect();
        assert!(
            missing.is_empty(),
            "run scripts/font-subset: demo.rs uses {missing:?}"
        );
    }

    #[test]
    fn a_missing_character_draws_a_box_not_a_panic() {
        let mut wm = sample(None);
        wm.person = "检查员 𠀀😀".into();
        assert_eq!(
            wm.missing_glyphs(),
            vec!['😀', '𠀀'],
            "characters outside the subset are reported"
        );
        let mut img = RgbImage::from_pixel(400, 300, Rgb([90, 90, 90]));
        draw(&mut img, &wm.lines());
        let mut only = RgbImage::from_pixel(1600, 1200, Rgb([90, 90, 90]));
        draw(&mut only, &["𠀀".to_owned()]);
        let lit = only.pixels().filter(|p| p.0[0] > 150).count();
        assert!(
            lit > 20,
            "the .notdef box is drawn for a missing character ({lit} px)"
        );
    }

    #[test]
    fn band_and_text_are_bottom_left() {
        let mut img = RgbImage::from_pixel(1600, 1200, Rgb([128, 128, 128]));
        draw(&mut img, &sample(Some((28.1, 115.1, 8.0))).lines());
        assert_eq!(img.get_pixel(1590, 10).0, [128; 3], "top-right untouched");
        assert_eq!(
            img.get_pixel(2, 1198).0,
            [57; 3],
            "bottom-left corner is darkened"
        );
        let white = (1000..1200)
            .flat_map(|y| (0..800).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[0] > 240)
            .count();
        assert!(white > 2000, "white text is drawn in the band ({white} px)");
        let band_rows = (0..1200)
            .filter(|&y| img.get_pixel(2, y).0[0] == 57)
            .count();
        // 4 lines of 35 px plus padding: about 9 % of the height, never half the photo.
        assert!(
            (140..=200).contains(&band_rows),
            "band is {band_rows} rows high"
        );
    }

    #[test]
    fn a_long_place_shrinks_to_fit_a_narrow_image() {
        let mut wm = sample(None);
        wm.place = "太平村 · 3组 · 18号 李建国 ".repeat(2);
        let mut img = RgbImage::from_pixel(300, 400, Rgb([128, 128, 128]));
        draw(&mut img, &wm.lines());
        let right_col_lit = (0..400)
            .filter(|&y| img.get_pixel(299, y).0[0] > 200)
            .count();
        assert_eq!(right_col_lit, 0, "text stops before the right edge");
    }
}
