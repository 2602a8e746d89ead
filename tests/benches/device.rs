//! The phone's own speed, on a real SQLite file with a village of 600 households: opening the
//! phone's data (what the app does before its first screen), and the time from tapping
//! "submit" to the inspection being safely in SQLite (validated, fact + outbox row committed,
//! WAL with synchronous=FULL), with and without a photo taken just before.
//!
//! `cargo bench -p cunjie-e2e --bench device`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cunjie_device::{Device, DeviceOptions};
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::ids::{DeviceId, PersonId, TownshipId};
use cunjie_domain::person::Role;
use cunjie_e2e::evidence::render_camera_jpeg;
use cunjie_e2e::seed::demo_village;
use cunjie_protocol::v1::EnrollResponse;

const RUNS: usize = 40;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(FakeClock::at(2026, 11, 18, 1, 0, 0));
    let opts = || DeviceOptions {
        clock: clock.clone(),
        ..DeviceOptions::default()
    };
    let village = demo_village(10, 600);
    {
        let phone = Device::open(dir.path(), opts()).expect("opens");
        let mut s = phone.store();
        s.apply_pull_page(&village.as_pull_page()).expect("village");
        let device: DeviceId = s.device_id();
        s.save_enrollment(
            "http://127.0.0.1:9",
            &EnrollResponse {
                device_id: device,
                token: "bench".into(),
                person_id: PersonId::from_uuid(uuid::Uuid::from_u128(0x300)),
                person_name: "王芳".into(),
                role: Role::Inspector,
                township_id: TownshipId::from_uuid(uuid::Uuid::from_u128(0x10)),
                township_name: "桐木镇".into(),
                server_time_ms: clock.now_ms(),
            },
        )
        .expect("enrolled");
    }
    let mut opens = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let phone = Device::open(dir.path(), opts()).expect("opens");
        phone.status().expect("status");
        opens.push(t.elapsed());
    }
    let phone = Device::open(dir.path(), opts()).expect("opens");
    let households = phone.households(None, None, 500).expect("households");
    let camera = render_camera_jpeg(7, 4000, 3000);
    let (mut plain, mut with_photo, mut photo_times) = (Vec::new(), Vec::new(), Vec::new());
    for (i, hh) in households.iter().take(2 * RUNS).enumerate() {
        let v = phone.start_inspection(&hh.id, None).expect("starts");
        for item in &v.items {
            phone
                .answer_item(&v.id, &item.code, "pass", 1, None)
                .expect("pass");
        }
        if i % 2 == 1 {
            let t = Instant::now();
            phone
                .attach_item_photo(&v.id, "HH_WHITE_LITTER", &camera, None)
                .expect("photo");
            photo_times.push(t.elapsed());
        }
        let t = Instant::now();
        phone.submit_inspection(&v.id).expect("submits");
        let took = t.elapsed();
        if i % 2 == 1 {
            with_photo.push(took);
        } else {
            plain.push(took);
        }
        clock.advance_ms(60_000);
    }
    println!(
        "cunjie-device on a real SQLite file (WAL, synchronous=FULL), a village of {} households, {RUNS} runs each",
        village.households.len()
    );
    println!(
        "  open the phone's data + status (before the first screen): median {}",
        ms(median(opens))
    );
    println!(
        "  tap submit → inspection safely in SQLite:                   median {}",
        ms(median(plain))
    );
    println!(
        "  the same with a failed item and its photo:                 median {}",
        ms(median(with_photo))
    );
    println!(
        "  taking a 12 MP photo (derivative, 水印, sign, files, row):    median {}",
        ms(median(photo_times))
    );
}
