//! The demo: the township server comes up with the seeded demo township (桐木镇); an inspector's
//! phone enrolls with a one-time code and pulls 太平村; offline, it records a household
//! inspection and the monthly re-check with real JPEG evidence; then it syncs, and the server
//! scores the village's month under Scheme T from the synced facts.
//!
//! Then, with a display ($DISPLAY or $WAYLAND_DISPLAY) and the UI built (`ui/dist`), the desktop
//! app starts on a phone folder enrolled as 太平村's inspector, and the server serves until
//! Ctrl-C. Without a display, simulated phones work the current month so far
//! (`cunjie_e2e::fieldday`) and sync; the demo prints the dashboard's address and login and the
//! month's ranking (and with `--serve` keeps serving).
//!
//! `cargo run -p cunjie-e2e --bin cunjie-demo [-- --data-dir DIR] [--serve] [--listen ADDR]
//!  [--no-app] [--print-url-file FILE] [--seed N]`
#![allow(clippy::print_stdout, reason = "a command-line demo prints its story")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use cunjie_device::DeviceOptions;
use cunjie_device::api::{Position, Settings};
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::clock::{Clock, SystemClock};
use cunjie_domain::fact::{Inspection, InspectionType, ItemResult, PhotoHash, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::person::Role;
use cunjie_domain::scoring::{
    Scheme, SchemeKind, VillageMonth, score_inspection, score_village_month,
};
use cunjie_e2e::fieldday::{self, FieldMonth};
use cunjie_e2e::sim::{new_inspection, photo_context, take_photo};
use cunjie_server::{AppState, Blobs, demo};
use cunjie_store::{Store, StoreOptions};
use cunjie_sync::{HttpTransport, SyncEngine};

struct Args {
    dir: Option<PathBuf>,
    serve: bool,
    listen: String,
    no_app: bool,
    url_file: Option<PathBuf>,
    seed: u64,
    month: Option<(i32, u32)>,
}

const USAGE: &str = "用法 usage: cunjie-demo [--data-dir DIR] [--serve] [--listen 127.0.0.1:8080] [--no-app] [--print-url-file FILE] [--seed N] [--month YYYY-MM]";

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut out = Args {
        dir: None,
        serve: false,
        listen: "127.0.0.1:0".into(),
        no_app: false,
        url_file: None,
        seed: 2026,
        month: None,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => {
                out.dir = Some(PathBuf::from(
                    args.next().context("--data-dir needs a folder")?,
                ))
            }
            "--serve" => out.serve = true,
            "--no-app" => out.no_app = true,
            "--listen" => {
                out.listen = args
                    .next()
                    .context("--listen needs an address such as 127.0.0.1:8080")?
            }
            "--print-url-file" => {
                out.url_file = Some(PathBuf::from(
                    args.next().context("--print-url-file needs a file name")?,
                ))
            }
            "--month" => {
                let m = args.next().context("--month needs YYYY-MM")?;
                let (y, mm) = m
                    .split_once('-')
                    .and_then(|(y, mm)| Some((y.parse().ok()?, mm.parse().ok()?)))
                    .filter(|(_, mm): &(i32, u32)| (1..=12).contains(mm))
                    .with_context(|| format!("--month needs YYYY-MM, not {m:?}"))?;
                out.month = Some((y, mm));
            }
            "--seed" => {
                out.seed = args
                    .next()
                    .context("--seed needs a number")?
                    .parse()
                    .context("--seed needs a number")?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                println!(
                    "  --no-app: 不启动桌面应用，模拟本月外业 (do not start the desktop app; simulate the month's field work)"
                );
                println!(
                    "  --print-url-file FILE: 准备好后写入 written when ready: URL, user, password, period (one a line)"
                );
                println!(
                    "  --month YYYY-MM: 模拟整月而不是本月至今 simulate that whole month instead of this month so far"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument '{other}'; try --help"),
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let (dir, _keep) = match args.dir {
        Some(d) => (d, None),
        None => {
            let t = tempfile::tempdir().context("making a temporary data folder")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let catalog = Catalog::builtin();
    println!("村洁 Cunjie demo · 数据目录 data dir: {}", dir.display());
    println!(
        "标准库 standards catalog: {} 套标准 sets, {} 条 items",
        catalog.sets.len(),
        catalog.item_count()
    );

    // The township server, with the demo township.
    let server = demo::prepare(&dir.join("server"), Arc::new(SystemClock))
        .context("preparing the demo township")?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(
        server.db.clone(),
        Arc::new(SystemClock),
        Blobs::local(&dir.join("server")).context("the server's photo folders")?,
    );
    let serving = tokio::spawn(cunjie_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let d = &server.demo;
    println!(
        "\n镇服务器 township server: {} · {} 个村, {} 户, {} 个责任区, {} 个设施 (SQLite)",
        url,
        d.villages.len(),
        d.households.len(),
        d.zones.len(),
        d.facilities.len()
    );

    // The inspector's phone enrolls with the printed one-time code and pulls its village.
    let (who, _, code) = &server.codes[0];
    std::fs::create_dir_all(dir.join("phone"))?;
    let store = Store::open(
        &dir.join("phone").join("cunjie.db"),
        StoreOptions {
            clock: Arc::new(SystemClock),
            id_seed: None,
        },
    )
    .context("opening the phone database")?;
    let mut store = store;
    // The phone's signing key, made before enrollment registers its public half.
    cunjie_device::device_key(&mut store).map_err(|e| anyhow::anyhow!("{}", e.message_zh()))?;
    let engine = SyncEngine::new(Arc::new(Mutex::new(store)), HttpTransport::new(&url)?)?;
    // A phone folder kept from an earlier run (--data-dir) is enrolled already.
    let earlier = engine
        .store()
        .lock()
        .map_err(|_| anyhow::anyhow!("store lock"))?
        .enrollment()?;
    let (township_name, how) = match earlier {
        Some(e) => (
            e.township_name,
            "上次运行已登记 enrolled on an earlier run".to_owned(),
        ),
        None => {
            let enrolled = engine
                .enroll(&url, code, "演示手机")
                .await
                .context("enrolling the phone")?;
            (
                enrolled.township_name,
                format!("用一次性码 {code} 登记手机 enrolled"),
            )
        }
    };
    let first = engine.sync_once().await.context("first sync")?;
    let village = d.villages[0].clone();
    println!(
        "{who} {how}; 首次同步 first sync: {} 条变更 changes",
        first.changes
    );
    println!(
        "【{} · {}】手机上 on the phone: {} 户 households (之后离线可用 then works offline)",
        township_name,
        village.name,
        engine
            .store()
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock"))?
            .households_in(village.id, None, 1_000, 0)?
            .len()
    );

    // Offline: a household inspection and the township re-check, with real photos.
    let policy = GeoPolicy::default();
    let mut photo_seed = 0;
    let inspector_name = format!("检查员 {}", d.inspector(0).name);
    let mut photo = |store: &mut Store, subject: Subject, at, place: &str| -> Result<PhotoHash> {
        photo_seed += 1;
        let ctx = photo_context(subject, at, place, &inspector_name);
        take_photo(store, photo_seed, &ctx)
            .map_err(|e| anyhow::anyhow!("{} ({}): {e}", e.message_zh(), e.code()))
            .context("taking a photo")
    };
    let inspector = d.inspector(0).id;
    let (insp, vinsp, hh_template, household) = {
        let mut store = engine
            .store()
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock"))?;
        let household = store
            .search_households("1组001", 5)?
            .first()
            .context("the demo household is on the phone")?
            .household
            .clone();
        let hh_template = store.template_by_code("HH_SANBAO_MONTHLY")?;
        let mut insp = new_inspection(
            &store,
            &hh_template,
            Subject {
                kind: SubjectKind::Household,
                id: *household.id.as_uuid(),
            },
            village.id,
            inspector,
            household.location,
        );
        for item in &hh_template.items {
            insp.answer(ItemResult::pass(&item.item_code));
        }
        let place = format!(
            "{} · {} {}",
            village.name, household.door_plate, household.head_name
        );
        let p1 = photo(&mut store, insp.subject, household.location, &place)?;
        let p2 = photo(&mut store, insp.subject, household.location, &place)?;
        insp.answer(ItemResult {
            note: Some("房前塑料袋、农膜散落".into()),
            ..ItemResult::fail("HH_WHITE_LITTER", 1, vec![p1])
        });
        insp.answer(ItemResult {
            note: Some("柴草杂物堆在路边".into()),
            ..ItemResult::fail("HH_CLUTTER", 1, vec![p2])
        });
        store.save_inspection_draft(&insp)?;
        store
            .submit_inspection(insp.id, &policy)
            .context("submitting the household inspection")?;

        let recheck = store.template_by_code("VILLAGE_RECHECK_T")?;
        let mut vinsp = new_inspection(
            &store,
            &recheck,
            Subject {
                kind: SubjectKind::AdminVillage,
                id: *village.id.as_uuid(),
            },
            village.id,
            inspector,
            village.centroid,
        );
        vinsp.kind = InspectionType::TownshipRecheck;
        for item in &recheck.items {
            vinsp.answer(ItemResult::pass(&item.item_code));
        }
        let p3 = photo(&mut store, vinsp.subject, village.centroid, &village.name)?;
        let p4 = photo(&mut store, vinsp.subject, village.centroid, &village.name)?;
        vinsp.answer(ItemResult::fail("ROAD_PATROL_LAPSE", 2, vec![p3]));
        vinsp.answer(ItemResult::fail("POOL_OVERFLOW", 1, vec![p4]));
        store.save_inspection_draft(&vinsp)?;
        store
            .submit_inspection(vinsp.id, &policy)
            .context("submitting the village re-check")?;
        (insp, vinsp, hh_template, household)
    };
    let score = score_inspection(&hh_template, &insp);
    println!(
        "\n检查户 household: {} {}（{}）",
        household.door_plate,
        household.head_name,
        if household.roadside {
            "公路两旁 roadside"
        } else {
            "非沿路"
        }
    );
    println!(
        "  {} v{}: 得分 score {} / {}",
        hh_template.name_zh, hh_template.version, score.score, score.full
    );
    for dd in &score.deductions {
        let label = catalog
            .item(&dd.item_code)
            .map_or(dd.item_code.as_str(), |(_, i)| i.label_zh.as_str());
        println!(
            "  −{:>6} 分  {} ({})",
            dd.amount.to_string(),
            label,
            dd.item_code
        );
    }
    let counts = engine
        .store()
        .lock()
        .map_err(|_| anyhow::anyhow!("store lock"))?
        .pending_counts()?;
    println!(
        "\n离线保存 saved offline: {} 条记录 records, {} 张照片 photos 待同步 waiting",
        counts.records, counts.photos
    );

    // Signal: sync. The server applies each mutation once and scores from the facts.
    let report = engine.sync_once().await.context("syncing")?;
    println!(
        "同步 synced: {} 条记录被服务器确认 settled by the server, {} 被退回 sent back",
        report.settled, report.rejected
    );
    println!(
        "照片 photos: 先传记录后传照片 records first, then {} 张照片续传上传 uploaded by tus ({} 字节 bytes, {} 张服务器已有 already held)",
        report.photos_uploaded, report.photo_bytes_sent, report.photos_deduplicated
    );
    for (label, id) in [
        ("农户检查", insp.id.to_string()),
        ("村复查", vinsp.id.to_string()),
    ] {
        let evidence = server
            .office
            .evidence(&id)?
            .context("the synced inspection is on the server")?;
        println!(
            "  {label} evidence: {} 张待传 photos pending",
            evidence["photos_pending"]
        );
        for p in evidence["photos"].as_array().into_iter().flatten() {
            let v = &p["verification"];
            println!(
                "    {}… {} · 哈希 hash {} · 签名 signature {} · 时间 time {} · 位置 place {} ({} m)",
                p["sha256"]
                    .as_str()
                    .unwrap_or_default()
                    .get(..12)
                    .unwrap_or_default(),
                p["state"].as_str().unwrap_or_default(),
                if v["hash_ok"] == true { "✓" } else { "✗" },
                if v["signature_ok"] == true {
                    "✓"
                } else {
                    "✗"
                },
                v["time_check"].as_str().unwrap_or("-"),
                v["place_check"].as_str().unwrap_or("-"),
                v["distance_m"],
            );
        }
    }
    let facts: Vec<Inspection> = inspections(&server.office)?
        .into_iter()
        .filter(|i| i.village == village.id)
        .collect();
    // The township's Scheme T as the server holds it: the demo edited it to a ¥1,000 monthly
    // subsidy (the seeds give no amount), which made version 2.
    let Some(Scheme {
        kind: SchemeKind::Yuan(scheme_t),
        code,
        version,
        name_zh,
        ..
    }) = server
        .office
        .schemes()?
        .into_iter()
        .find(|s| s.code == Scheme::township_monthly_yuan().code)
    else {
        bail!("the demo township has Scheme T as a yuan scheme")
    };
    let households: BTreeMap<_, _> = d
        .households
        .iter()
        .filter(|h| h.village == village.id)
        .map(|h| (h.id, h.clone()))
        .collect();
    let demo_count = households.values().filter(|h| h.is_demo_household).count() as u32;
    let month = VillageMonth {
        village: &village,
        inspections: &facts,
        households: &households,
        demo_households: demo_count,
        events: &[],
    };
    let result = score_village_month(&scheme_t, &month);
    println!(
        "\n服务器计分 server scoring · {}（{} v{}）· {} 本月 this month, from {} synced facts",
        name_zh,
        code,
        version,
        village.name,
        facts.len()
    );
    println!(
        "  基本考核补助 base subsidy: ¥{}（演示值 demo value: the seeds give no amount）",
        scheme_t.base_subsidy
    );
    println!("  {:<14} {:>5} {:>10}", "规则 rule", "单位", "金额 ¥");
    for a in &result.applied {
        println!(
            "  {:<14} {:>5} {:>10}",
            a.rule,
            a.units,
            a.amount.to_string()
        );
    }
    println!(
        "  扣款合计 deductions: ¥{} · 奖励 rewards: ¥{} · 净额 net: ¥{}",
        result.deductions, result.rewards, result.net
    );

    // Next: the desktop app with a display, else a simulated month of field work.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    let ui_built = root.join("ui/dist/index.html").is_file();
    let password = admin_password(&dir.join("server"), server.admin_password.as_deref())?;
    let dashboard = format!("{url}/dashboard/");
    let mut field = match args.month {
        Some((y, m)) => FieldMonth::whole(args.seed, y, m)?,
        None => FieldMonth::so_far(args.seed, SystemClock.now()),
    };
    field.sample = server
        .office
        .sample(&format!("{}-{:02}", field.year, field.month))?;
    let mut app = None;
    if display && ui_built && !args.no_app {
        let phone_dir = dir.join("app-phone");
        let phone = cunjie_device::Device::open(&phone_dir, DeviceOptions::default())
            .map_err(|e| anyhow::anyhow!("{}", e.message_zh()))?;
        if !phone.status().map_err(|e| anyhow::anyhow!("{e}"))?.enrolled {
            let code = server
                .office
                .enrollment_code(d.inspector(0).id, Role::Inspector, 7)?;
            phone
                .enroll(&url, &code, "桌面演示 desktop demo")
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_zh(), e.code()))
                .context("enrolling the app's phone folder")?;
            // Desktops have no GPS: a clearly labelled fixed position in the village.
            if let Some(c) = village.centroid {
                phone
                    .save_settings(Settings {
                        fixed_position: Some(Position {
                            lat: c.lat,
                            lon: c.lon,
                            accuracy_m: 10.0,
                        }),
                        ..Settings::default()
                    })
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        drop(phone);
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        println!(
            "\n桌面应用 desktop app: {} 的手机数据 phone data {} 已登记 enrolled; 启动 starting: cargo run -p cunjie-app -- --data-dir {}",
            d.inspector(0).name,
            phone_dir.display(),
            phone_dir.display()
        );
        app = Some(
            std::process::Command::new(cargo)
                .current_dir(&root)
                .args(["run", "--locked", "-p", "cunjie-app", "--", "--data-dir"])
                .arg(&phone_dir)
                .spawn()
                .context("starting the desktop app with cargo")?,
        );
    } else {
        if args.no_app {
            // Asked not to start the app (tests, scripts).
        } else if display {
            println!(
                "\n界面还没有构建，不启动桌面应用。The UI is not built, so the desktop app does not start; build it with:\n  (cd ui && npm ci && npm run build)\n改为模拟本月外业。Simulating this month's field work instead."
            );
        } else {
            println!(
                "\n没有图形界面（未设置 DISPLAY 或 WAYLAND_DISPLAY），不启动桌面应用；改为模拟本月外业。\nNo display ($DISPLAY / $WAYLAND_DISPLAY unset), so the desktop app does not start; simulating this month's field work instead."
            );
        }
        fill_month(&url, &server, &dir, &field).await?;
    }
    println!("\n镇整治办看板 dashboard: {dashboard}  登录 login: admin / {password}");
    if let Some(f) = &args.url_file {
        let period = field.period();
        std::fs::write(f, format!("{url}\nadmin\n{password}\n{period}\n"))
            .with_context(|| format!("writing {}", f.display()))?;
    }

    if args.serve || app.is_some() {
        let (who, _, code) = &server.codes[1];
        println!(
            "服务器继续运行 still serving on {url} (Ctrl-C to stop). {who} enrollment code: {code}"
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    if let Some(mut app) = app {
        let _ = app.kill();
        let _ = app.wait();
    }
    let _ = stop.send(());
    serving.await.context("server task")?.context("server")?;
    Ok(())
}

/// Every inspection the server holds.
fn inspections(office: &cunjie_server::Township) -> Result<Vec<Inspection>> {
    office
        .fact_rows()?
        .into_iter()
        .filter(|(_, row)| row.get("template").is_some())
        .map(|(_, row)| Ok(serde_json::from_value(row)?))
        .collect()
}

/// The administrator's password: made when the township was created (kept beside the server's
/// database for later runs on the same folder).
fn admin_password(server_dir: &Path, created: Option<&str>) -> Result<String> {
    let file = server_dir.join("admin-password.txt");
    if let Some(p) = created {
        std::fs::write(&file, p).context("keeping the admin password")?;
        return Ok(p.to_owned());
    }
    Ok(std::fs::read_to_string(&file)
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "（见首次运行 see the first run）".into()))
}

/// Simulated phones work the current month so far and sync; then the month's ranking under
/// Scheme T from what the server holds.
async fn fill_month(
    url: &str,
    server: &demo::DemoServer,
    dir: &Path,
    cfg: &FieldMonth,
) -> Result<()> {
    let phones = dir.join("phones");
    let done = phones.join("month-done");
    if done.is_file() {
        println!(
            "本月外业已模拟过 this month was simulated on an earlier run ({})",
            phones.display()
        );
    } else {
        println!(
            "模拟外业 field work: {} 日至 {} 日 days {}–{} of {} · {} 名保洁员 cleaners, {} 名检查员 inspectors …",
            cfg.first_day,
            cfg.last_day,
            cfg.first_day,
            cfg.last_day,
            cfg.period(),
            server.demo.zones.len(),
            server.demo.villages.len()
        );
        let crew = fieldday::enrollees(&server.office, &server.demo)?;
        let report = fieldday::run(url, &server.demo, &crew, cfg, &phones).await?;
        std::fs::write(&done, report.summary())?;
        println!("{}", report.summary());
    }

    // The month's ranking, as the server computes it for the dashboard.
    let r = server
        .office
        .ranking(&cfg.period(), None)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the month's ranking")?;
    println!(
        "服务器排名 server ranking · {} · {}（{} v{}）",
        r.period_zh, r.scheme_name_zh, r.scheme_code, r.scheme_version
    );
    for v in &r.rows {
        println!(
            "  第 {} 名  {}  {:>8} {}  (计分检查 counted inspections: {})",
            v.rank,
            v.village_name,
            v.score.to_string(),
            r.unit,
            v.counted
        );
    }
    Ok(())
}
