//! The photo pipeline on a realistic 12-megapixel camera JPEG, next to ImageMagick.
//!
//! `cargo bench -p cunjie-media --bench derivative` (or `scripts/bench-media`, which installs
//! ImageMagick and GNU time first). The bench re-runs itself under `taskset -c 0`, so every
//! figure is on one core. It writes a 4000×3000 JPEG (gradients, noise and shapes at quality
//! 92, with EXIF) to a temporary directory, then prints:
//!
//! - our `process` (decode, orient, resize, 水印, EXIF, encode, thumbnail, hash): median and
//!   minimum over the runs, in process and as a whole child process (this binary re-run with
//!   `CUNJIE_MEDIA_BENCH_CHILD=in.jpg`), and the child's peak memory (VmHWM from
//!   `/proc/self/status`, and GNU time's `%M`);
//! - `convert in.jpg -resize 1600x1600 -quality 80 out.jpg` timed the same way, one thread,
//!   its peak memory from GNU time's `%M`;
//! - the resize step alone: `fast_image_resize` Catmull-Rom against `image`'s Triangle.
//!
//! Environment: `CUNJIE_MEDIA_BENCH_RUNS` (default 7).
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::DateTime;
use cunjie_media::{Limits, Policy, Watermark, process};
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

const CHILD: &str = "CUNJIE_MEDIA_BENCH_CHILD";
const PINNED: &str = "CUNJIE_MEDIA_BENCH_PINNED";

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    if let Ok(path) = std::env::var(CHILD) {
        return child(Path::new(&path));
    }
    if std::env::var_os(PINNED).is_none() && Path::new("/usr/bin/taskset").exists() {
        // Run the whole bench on CPU 0; children and ImageMagick inherit the affinity.
        let status = Command::new("/usr/bin/taskset")
            .args(["-c", "0"])
            .arg(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .env(PINNED, "1")
            .status()?;
        std::process::exit(status.code().unwrap_or(1));
    }
    let pinned = std::env::var_os(PINNED).is_some();
    let runs: usize = std::env::var("CUNJIE_MEDIA_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
        .max(1);

    let dir = tempfile::tempdir()?;
    let input_path = dir.path().join("in.jpg");
    let input = camera_jpeg(4000, 3000)?;
    std::fs::write(&input_path, &input)?;
    println!(
        "cunjie-media derivative bench: 4000×3000 camera JPEG, {:.2} MB (quality 92, with EXIF); {runs} runs; {}",
        mb(input.len()),
        if pinned {
            "pinned to CPU 0 (taskset -c 0)"
        } else {
            "NOT pinned: taskset missing"
        }
    );

    // Ours, in process.
    let wm = watermark();
    let mut ours = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let p = process(&input, &Policy::default(), &wm, &Limits::default())?;
        ours.push(t.elapsed());
        last = Some(p);
    }
    let last = last.ok_or("no run")?;
    let (our_peak_self, our_peak_time) = child_peak(&input_path)?;
    // Ours again as a whole process (start, read the file, process), like convert is timed.
    let exe = std::env::current_exe()?;
    let mut ours_process = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let ok = Command::new(&exe)
            .env(CHILD, &input_path)
            .output()?
            .status
            .success();
        ours_process.push(t.elapsed());
        if !ok {
            return Err("the child process failed".into());
        }
    }

    // ImageMagick, whole process each run.
    let magick = find_imagemagick();
    let gnu_time = Path::new("/usr/bin/time").exists();
    let out_path = dir.path().join("out.jpg");
    let mut theirs = Vec::new();
    let mut their_peak = None;
    if let Some(convert) = &magick {
        for _ in 0..runs {
            let t = Instant::now();
            let ok = imagemagick(convert, &input_path, &out_path)
                .status()?
                .success();
            theirs.push(t.elapsed());
            if !ok {
                return Err("ImageMagick convert failed".into());
            }
        }
        if gnu_time {
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%M"])
                .arg(convert)
                .args(imagemagick_args(&input_path, &out_path))
                .envs(imagemagick_env())
                .output()?;
            their_peak = last_number(&String::from_utf8_lossy(&out.stderr));
        }
    }

    println!();
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>11}",
        "pipeline", "median", "min", "peak RSS", "output"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>11}  {}×{}, thumbnail {:.1} kB; peak by GNU time: {}",
        "cunjie-media process (in process)",
        ms(median(&ours)),
        ms(min(&ours)),
        format!("{:.1} MB", our_peak_self as f64 / 1024.0),
        format!("{:.0} kB", kb(last.derivative.len())),
        last.width,
        last.height,
        kb(last.thumbnail.len()),
        our_peak_time.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MB", k as f64 / 1024.0)
        ),
    );
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>11}  start, read the file, process (no write)",
        "cunjie-media (whole process)",
        ms(median(&ours_process)),
        ms(min(&ours_process)),
        format!("{:.1} MB", our_peak_self as f64 / 1024.0),
        format!("{:.0} kB", kb(last.derivative.len())),
    );
    match &magick {
        Some(convert) => println!(
            "{:<34} {:>9} {:>9} {:>12} {:>11}  {} -resize 1600x1600 -quality 80, 1 thread",
            "ImageMagick convert (whole process)",
            ms(median(&theirs)),
            ms(min(&theirs)),
            their_peak.map_or_else(
                || "no GNU time".to_owned(),
                |k| format!("{:.1} MB", k as f64 / 1024.0)
            ),
            format!("{:.0} kB", kb(std::fs::metadata(&out_path)?.len() as usize)),
            convert,
        ),
        None => println!(
            "ImageMagick convert: not installed (apt-get install imagemagick, or run scripts/bench-media)"
        ),
    }
    if !gnu_time {
        println!("GNU time (/usr/bin/time) is missing: apt-get install time");
    }

    resize_comparison(&input, runs)?;
    Ok(())
}

/// Child mode: process the file once, print the peak resident set size (VmHWM, kB).
fn child(path: &Path) -> Res<()> {
    let input = std::fs::read(path)?;
    let p = process(&input, &Policy::default(), &watermark(), &Limits::default())?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(last_number)
        .ok_or("no VmHWM in /proc/self/status")?;
    println!("{hwm} {}", p.derivative.len());
    Ok(())
}

/// Peak memory of one `process` in a fresh child: (VmHWM kB, GNU time %M kB if available).
fn child_peak(input: &Path) -> Res<(u64, Option<u64>)> {
    let exe = std::env::current_exe()?;
    let out = Command::new(&exe).env(CHILD, input).output()?;
    if !out.status.success() {
        return Err(format!("child failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let hwm = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or("child printed no VmHWM")?;
    let by_time = if Path::new("/usr/bin/time").exists() {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(&exe)
            .env(CHILD, input)
            .output()?;
        last_number(&String::from_utf8_lossy(&out.stderr))
    } else {
        None
    };
    Ok((hwm, by_time))
}

fn resize_comparison(input: &[u8], runs: usize) -> Res<()> {
    let decoded = image::load_from_memory(input)?.into_rgb8();
    let (w, h) = decoded.dimensions();
    let mut fir = Vec::new();
    let mut fir_bilinear = Vec::new();
    let mut triangle = Vec::new();
    for _ in 0..runs.min(5) {
        for (alg, times) in [
            (FilterType::CatmullRom, &mut fir),
            (FilterType::Bilinear, &mut fir_bilinear),
        ] {
            let t = Instant::now();
            let src = ImageRef::new(w, h, decoded.as_raw(), PixelType::U8x3)?;
            let mut dst = Image::new(1600, 1200, PixelType::U8x3);
            Resizer::new().resize(
                &src,
                &mut dst,
                &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(alg)),
            )?;
            times.push(t.elapsed());
        }
        let t = Instant::now();
        let small =
            image::imageops::resize(&decoded, 1600, 1200, image::imageops::FilterType::Triangle);
        triangle.push(t.elapsed());
        std::hint::black_box(small);
    }
    println!();
    println!("resize step alone, 4000×3000 → 1600×1200 RGB8, one core:");
    for (name, times) in [
        ("fast_image_resize Catmull-Rom (used)", &fir),
        ("fast_image_resize Bilinear", &fir_bilinear),
        ("image::imageops::resize Triangle", &triangle),
    ] {
        println!(
            "  {name:<38} median {:>8}  min {:>8}",
            ms(median(times)),
            ms(min(times))
        );
    }
    Ok(())
}

fn find_imagemagick() -> Option<String> {
    ["/usr/bin/convert", "magick", "convert"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("-version")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ImageMagick"))
        })
        .map(str::to_owned)
}

fn imagemagick_args(input: &Path, output: &Path) -> Vec<std::ffi::OsString> {
    vec![
        input.into(),
        "-resize".into(),
        "1600x1600".into(),
        "-quality".into(),
        "80".into(),
        output.into(),
    ]
}

fn imagemagick_env() -> [(&'static str, &'static str); 2] {
    [("MAGICK_THREAD_LIMIT", "1"), ("OMP_NUM_THREADS", "1")]
}

fn imagemagick(convert: &str, input: &Path, output: &Path) -> Command {
    let mut c = Command::new(convert);
    c.args(imagemagick_args(input, output))
        .envs(imagemagick_env());
    c
}

fn last_number(text: &str) -> Option<u64> {
    text.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .next_back()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn min(times: &[Duration]) -> Duration {
    times.iter().min().copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1000.0
}

fn watermark() -> Watermark {
    Watermark {
        taken_at: DateTime::parse_from_rfc3339("2026-11-29T14:05:09+08:00")
            .unwrap_or_default()
            .fixed_offset(),
        place: "太平村 · 3组 · 18号 李建国".into(),
        person: "检查员 王芳".into(),
        fix: Some((28.123_456_7, 115.123_456_7, 8.0)),
    }
}

/// A photographic-looking picture (sky and ground gradients, textured noise, a few shapes),
/// encoded at quality 92 with camera EXIF: about as large as a phone's 12 MP JPEG.
fn camera_jpeg(width: u32, height: u32) -> Res<Vec<u8>> {
    let mut state: u32 = 0x2545_F491;
    let mut rng = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let horizon = height * 2 / 5;
    let mut raw = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let mut px = if y < horizon {
                [110.0 + 60.0 * fy, 150.0 + 50.0 * fy, 220.0 - 20.0 * fx]
            } else {
                // Ground: a soil-and-grass texture from a few sine waves.
                let t = ((x as f32 * 0.05).sin() + (y as f32 * 0.037 + fx * 9.0).sin()) * 18.0;
                [
                    95.0 + t + 40.0 * fx,
                    110.0 + t * 0.8 + 30.0 * fy,
                    60.0 + t * 0.5,
                ]
            };
            // A wall with a door, and a round bin.
            let wall = (800..2200).contains(&x) && (900..2300).contains(&y);
            let door = (1300..1600).contains(&x) && (1500..2300).contains(&y);
            let (dx, dy) = (x as i64 - 3000, y as i64 - 2000);
            if door {
                px = [70.0, 45.0, 30.0];
            } else if wall {
                px = [200.0 - 20.0 * fy, 195.0 - 15.0 * fy, 185.0];
            } else if dx * dx + dy * dy < 350 * 350 {
                px = [40.0, 120.0, 60.0];
            }
            let noise = (rng() % 29) as f32 - 14.0;
            raw.extend(px.map(|c| (c + noise).clamp(0.0, 255.0) as u8));
        }
    }
    let img = RgbImage::from_raw(width, height, raw).ok_or("buffer size")?;
    let f = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let r = |num, denom| Rational { num, denom };
    let fields = [
        f(Tag::Make, Value::Ascii(vec![b"BenchCam".to_vec()])),
        f(Tag::Orientation, Value::Short(vec![1])),
        f(
            Tag::DateTimeOriginal,
            Value::Ascii(vec![b"2026:11:29 14:05:09".to_vec()]),
        ),
        f(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        f(
            Tag::GPSLatitude,
            Value::Rational(vec![r(28, 1), r(7, 1), r(2445, 100)]),
        ),
        f(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
        f(
            Tag::GPSLongitude,
            Value::Rational(vec![r(115, 1), r(7, 1), r(2444, 100)]),
        ),
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false)?;
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, 92);
    enc.set_exif_metadata(tiff.into_inner())?;
    enc.write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)?;
    Ok(out)
}
