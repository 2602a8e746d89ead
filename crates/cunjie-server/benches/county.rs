//! County-scale ranking bench: 20 townships × 15 villages × 600 households (180,000) and
//! 40,000 inspections in one month, on SQLite and on PostgreSQL. Prints the time to compute
//! (and store) every township's monthly ranking under Scheme T and Scheme C, and the time to
//! first byte of the dashboard's ranking page with that data.
//!
//! `cargo bench -p cunjie-server --bench county` (or `-- --small` for a quick look).
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the test binary; the bench uses part of it"
)]
#[path = "../tests/server/pg_launcher.rs"]
mod pg_launcher;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::fact::{FactStatus, Inspection, InspectionType, ItemResult, Subject};
use cunjie_domain::ids::{DeviceId, GroupId, HouseholdId, IdGen, PersonId, TownshipId, VillageId};
use cunjie_domain::place::{self, AdminVillage, GeoPoint, Household, VillageGroup};
use cunjie_domain::template::presets;
use cunjie_server::store::Value;
use cunjie_server::{AppState, Blobs, Db, RegistryItem, Township};

const HH_FAILS: [&str; 6] = [
    "HH_WHITE_LITTER",
    "HH_CLUTTER",
    "HH_LIVESTOCK",
    "HH_YARD_UNTIDY",
    "HH_SEWAGE",
    "HH_WEEDS",
];

struct Size {
    townships: usize,
    villages: usize,
    households: usize,
    inspections: usize,
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Fills `db` with the county; returns the townships' ids.
fn fill(db: &Db, size: &Size, clock: &Arc<FakeClock>) -> Vec<TownshipId> {
    let ids = IdGen::seeded(clock.clone(), 11);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let per_township = size.inspections / size.townships;
    let hh_template = presets::household_sanbao();
    let village_template = presets::village_recheck();
    let mut out = Vec::new();
    let start = Instant::now();
    for t in 0..size.townships {
        let township = place::Township {
            id: ids.next(),
            code: format!("3603221{t:02}"),
            name: format!("第{t}镇"),
        };
        let office = Township::init(
            db.clone(),
            clock.clone(),
            &township,
            &format!("admin{t}"),
            "correct horse battery",
        )
        .expect("township");
        office.publish_template(&hh_template).expect("template");
        office
            .publish_template(&village_template)
            .expect("template");
        let mut items = Vec::new();
        let mut villages = Vec::new();
        let mut households: Vec<Household> = Vec::new();
        for v in 0..size.villages {
            let village = AdminVillage {
                id: ids.next::<VillageId>(),
                township: township.id,
                code: format!("V{v:02}"),
                name: format!("第{v}村"),
                population: 2400,
                along_county_road: v % 2 == 0,
                centroid: Some(GeoPoint::new(27.74, 113.82)),
            };
            let groups: Vec<VillageGroup> = (0..6)
                .map(|g| VillageGroup {
                    id: ids.next::<GroupId>(),
                    village: village.id,
                    name: format!("{g}组"),
                    is_remote: false,
                })
                .collect();
            for n in 0..size.households {
                households.push(Household {
                    id: ids.next::<HouseholdId>(),
                    group: groups[n % groups.len()].id,
                    village: village.id,
                    head_name: format!("户主{n}"),
                    door_plate: format!("{v:02}-{n:03}"),
                    members: 4,
                    roadside: n % 4 == 0,
                    is_demo_household: n % 97 == 0,
                    location: Some(GeoPoint::new(27.74, 113.82)),
                });
            }
            items.push(RegistryItem::Village(village.clone()));
            items.extend(groups.into_iter().map(RegistryItem::Group));
            villages.push(village);
        }
        items.extend(households.iter().cloned().map(RegistryItem::Household));
        office.put_records(&items).expect("registry");

        // The month's inspections: a re-check and a self-evaluation per village, the rest
        // household visits spread over the month.
        let person: PersonId = ids.next();
        let device: DeviceId = ids.next();
        let mut facts: Vec<Inspection> = Vec::with_capacity(per_township);
        for v in &villages {
            for (kind, day) in [
                (InspectionType::TownshipRecheck, 17),
                (InspectionType::VillageSelfEval, 10),
            ] {
                let at = Utc
                    .with_ymd_and_hms(2026, 11, day, 2, 0, 0)
                    .single()
                    .expect("date");
                let mut i = Inspection::start(
                    ids.next(),
                    village_template.reference(),
                    Subject {
                        kind: SubjectKind::AdminVillage,
                        id: *v.id.as_uuid(),
                    },
                    v.id,
                    person,
                    device,
                    at,
                );
                i.kind = kind;
                i.status = FactStatus::Submitted;
                i.pass_remaining(&village_template);
                let pools = u32::try_from(rng.below(4)).unwrap_or(0);
                if pools > 0 {
                    i.answer(ItemResult::fail("POOL_OVERFLOW", pools, vec![]));
                }
                facts.push(i);
            }
        }
        while facts.len() < per_township {
            let h = &households[usize::try_from(rng.below(households.len() as u64)).unwrap_or(0)];
            let day = u32::try_from(1 + rng.below(28)).unwrap_or(1);
            let at = Utc
                .with_ymd_and_hms(
                    2026,
                    11,
                    day,
                    1 + u32::try_from(rng.below(9)).unwrap_or(0),
                    0,
                    0,
                )
                .single()
                .expect("date");
            let mut i = Inspection::start(
                ids.next(),
                hh_template.reference(),
                Subject {
                    kind: SubjectKind::Household,
                    id: *h.id.as_uuid(),
                },
                h.village,
                person,
                device,
                at,
            );
            i.status = FactStatus::Submitted;
            i.pass_remaining(&hh_template);
            for _ in 0..rng.below(3) {
                let code = HH_FAILS[usize::try_from(rng.below(6)).unwrap_or(0)];
                i.answer(ItemResult::fail(code, 1, vec![]));
            }
            facts.push(i);
        }
        let now = clock.now().to_rfc3339();
        db.tx(|tx| {
            for i in &facts {
                tx.exec(
                    "INSERT INTO fact (id, kind, township_id, village_id, zone_id, subject_id, author_id, device_id, device_time, server_received_at, hlc, skew_ms, flags, row_json)
                     VALUES ($1, 'inspection', $2, $3, NULL, $4, $5, $6, $7, $8, 0, 0, '', $9)",
                    &[
                        Value::Text(i.id.to_string()),
                        Value::Text(township.id.to_string()),
                        Value::Text(i.village.to_string()),
                        Value::Text(i.subject.id.to_string()),
                        Value::Text(person.to_string()),
                        Value::Text(device.to_string()),
                        Value::Text(
                            i.started_at
                                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        ),
                        Value::Text(now.clone()),
                        Value::Text(serde_json::to_string(i).expect("json")),
                    ],
                )?;
            }
            Ok::<_, cunjie_server::StorageError>(())
        })
        .expect("facts");
        out.push(township.id);
    }
    println!(
        "  filled: {} townships, {} villages, {} households, {} inspections in {:.1} s",
        size.townships,
        size.townships * size.villages,
        size.townships * size.villages * size.households,
        per_township * size.townships,
        start.elapsed().as_secs_f64()
    );
    out
}

fn rank_county(
    db: &Db,
    clock: &Arc<FakeClock>,
    townships: &[TownshipId],
    scheme: Option<&str>,
) -> Duration {
    let start = Instant::now();
    for t in townships {
        let r = Township::at(db.clone(), clock.clone(), *t)
            .recompute("2026-11", scheme, "bench")
            .expect("ranking");
        assert!(!r.rows.is_empty(), "villages ranked");
    }
    start.elapsed()
}

async fn ttfb(db: &Db, clock: &Arc<FakeClock>) -> Option<(Duration, usize)> {
    let blobs_dir = tempfile::tempdir().expect("dir");
    let state = AppState::new(
        db.clone(),
        clock.clone(),
        Blobs::local(blobs_dir.path()).expect("blobs"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cunjie_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = client
        .post(format!("http://{addr}/dashboard/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=admin0&password=correct+horse+battery")
        .send()
        .await
        .ok()?;
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cunjie_session="))?
        .split(';')
        .next()?
        .to_owned();
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let resp = client
            .get(format!("http://{addr}/dashboard/ranking?period=2026-11"))
            .header("cookie", &cookie)
            .send()
            .await
            .ok()?;
        times.push(start.elapsed());
        if !resp.status().is_success() {
            println!("  ranking page answered {}", resp.status());
            return None;
        }
        size = resp.bytes().await.ok()?.len();
    }
    let _ = stop.send(());
    let _ = server.await;
    times.sort();
    Some((times[times.len() / 2], size))
}

fn run(name: &str, db: &Db, size: &Size) {
    println!("{name}:");
    let clock = Arc::new(FakeClock::at(2026, 11, 25, 9, 0, 0));
    let townships = fill(db, size, &clock);
    let first = rank_county(db, &clock, &townships, None);
    let again = rank_county(db, &clock, &townships, None);
    let c = rank_county(db, &clock, &townships, Some("COUNTY_HALFYEAR_100"));
    println!(
        "  county month ranking, Scheme T: {:.2} s first (draws the samples), {:.2} s again ({:.0} ms per township)",
        first.as_secs_f64(),
        again.as_secs_f64(),
        again.as_secs_f64() * 1000.0 / townships.len() as f64
    );
    println!("  county month ranking, Scheme C: {:.2} s", c.as_secs_f64());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    match rt.block_on(ttfb(db, &clock)) {
        Some((t, bytes)) => println!(
            "  ranking page, time to first byte (median of 5): {:.0} ms, {bytes} bytes",
            t.as_secs_f64() * 1000.0
        ),
        None => println!("  ranking page: not measured (the dashboard did not answer)"),
    }
}

fn main() {
    let small = std::env::args().any(|a| a == "--small");
    let size = if small {
        Size {
            townships: 2,
            villages: 15,
            households: 600,
            inspections: 4_000,
        }
    } else {
        Size {
            townships: 20,
            villages: 15,
            households: 600,
            inspections: 40_000,
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Db::open(&format!(
        "sqlite://{}",
        dir.path().join("county.db").display()
    ))
    .expect("sqlite");
    run("SQLite", &sqlite, &size);
    let (_pg, pg) = pg_launcher::fresh_pg_db();
    run("PostgreSQL", &pg, &size);
}
