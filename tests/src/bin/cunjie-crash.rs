//! The child process of the R3 crash test (`tests/e2e/reliability_r3.rs`): a phone or the
//! township server that a failpoint kills (`cunjie_e2e::crash`: `CUNJIE_CRASH=<point>:<skip>:
//! <delay_ms>` plans the kill; without it the child runs to the end).
//!
//! `cunjie-crash server DIR PORT`: serves the data folder `DIR` (SQLite `server.db`, photos in
//! `blobs/` and `uploads/`) on 127.0.0.1:PORT (0: any free port) as `cunjie-server serve` does,
//! with the upload sweep at start; prints `listening PORT`, then serves until killed.
//!
//! `cunjie-crash phone DIR URL CODE RECORDS PHOTO_EVERY SEED`: opens the phone folder `DIR`
//! through the device API as the app starts (the photo sweep included), enrolls with `CODE`
//! (`-`: already enrolled), syncs, makes household inspections until the phone holds `RECORDS`
//! of its own (every `PHOTO_EVERY`-th with a failed item and a photo through the capture
//! pipeline), printing `committed ID` for each one whose submit returned and syncing after
//! every second one, then syncs until quiet.
#![allow(
    clippy::print_stdout,
    reason = "the child reports to the test on stdout"
)]

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use cunjie_device::api::Position;
use cunjie_device::{Device, DeviceOptions};
use cunjie_domain::clock::SystemClock;
use cunjie_e2e::crash::{arm_from_env, await_kill};
use cunjie_e2e::phone::fast_config;
use cunjie_e2e::sim::camera_jpeg;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let _kill = arm_from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("server") if args.len() == 3 => rt.block_on(server(&args[1], &args[2])),
        Some("phone") if args.len() == 7 => rt.block_on(phone(&args[1..])),
        _ => bail!(
            "usage: cunjie-crash server DIR PORT | phone DIR URL CODE RECORDS PHOTO_EVERY SEED"
        ),
    }
}

async fn server(dir: &str, port: &str) -> Result<()> {
    let dir = PathBuf::from(dir);
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.join("server.db").display()))
        .context("server database")?;
    let blobs = cunjie_server::Blobs::local(&dir).context("blob folders")?;
    let state = cunjie_server::AppState::new(db, Arc::new(SystemClock), blobs);
    let port: u16 = port.parse().context("port")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // As `cunjie-server serve`: partial uploads nothing owns are swept at start.
    let report = cunjie_server::sweep_uploads(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if report.files_removed > 0 || report.expired > 0 {
        eprintln!(
            "cunjie-crash server: swept {} partial files, {} expired uploads",
            report.files_removed, report.expired
        );
    }
    println!("listening {}", listener.local_addr()?.port());
    cunjie_server::serve(listener, state, std::future::pending()).await?;
    Ok(())
}

async fn phone(args: &[String]) -> Result<()> {
    let dir = PathBuf::from(&args[0]);
    let (url, code) = (&args[1], &args[2]);
    let records: usize = args[3].parse().context("records")?;
    let photo_every: usize = args[4].parse::<usize>().context("photo_every")?.max(1);
    // Camera pictures are numbered as in R1 (small numbers: `render_jpeg` multiplies them).
    let seed = (args[5].parse::<u64>().context("seed")? % 10_000) as u32;
    let device = Device::open(
        &dir,
        DeviceOptions {
            clock: Arc::new(SystemClock),
            sync: fast_config(),
        },
    )?;
    if !device.status()?.enrolled {
        if code == "-" {
            bail!("the phone is not enrolled and has no code");
        }
        device.enroll(url, code, "crash phone").await?;
    }
    device.sync_now().await?;
    let facts = || -> Result<usize> {
        let db = rusqlite::Connection::open(dir.join("cunjie.db"))?;
        let n: i64 = db.query_row(
            "SELECT count(*) FROM fact WHERE origin = 'local'",
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    };
    loop {
        let made = facts()?;
        if made >= records {
            break;
        }
        let households = device.households(None, None, 500)?;
        let Some(hh) = households.get(made % households.len().max(1)) else {
            // The registry has not come down yet (a crash in the first pull): the next run.
            break;
        };
        let location = {
            let id = hh.id.parse().context("household id")?;
            device.store().household(id)?.household.location
        };
        let pos = location.map(|p| Position {
            lat: p.lat,
            lon: p.lon,
            accuracy_m: 5.0,
        });
        let view = device.start_inspection(&hh.id, pos)?;
        let failed = (made % photo_every == 0)
            .then(|| view.items.iter().find(|i| i.photo_on_fail))
            .flatten()
            .map(|i| i.code.clone());
        for item in &view.items {
            if Some(&item.code) == failed.as_ref() {
                device.answer_item(&view.id, &item.code, "fail", 1, Some("垃圾未清".into()))?;
                let camera = camera_jpeg(seed * 1_000 + made as u32);
                device.attach_item_photo(&view.id, &item.code, &camera, pos)?;
            } else {
                device.answer_item(&view.id, &item.code, "pass", 1, None)?;
            }
        }
        let done = device.submit_inspection(&view.id)?;
        println!("committed {}", done.id);
        if made % 2 == 1 {
            device.sync_now().await?;
        }
    }
    for _ in 0..10 {
        let badge = device.sync_now().await?;
        if badge.pending_records == 0 && badge.pending_photos == 0 && badge.last_error_zh.is_none()
        {
            break;
        }
    }
    // Once more: what the last round pushed comes back down with the pull.
    device.sync_now().await?;
    await_kill();
    Ok(())
}
