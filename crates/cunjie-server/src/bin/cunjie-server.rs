//! `cunjie-server`: the township server and its office commands.
#![allow(
    clippy::print_stdout,
    reason = "a command-line tool prints its results"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use cunjie_domain::clock::SystemClock;
use cunjie_domain::ids::{DeviceId, IdGen, PersonId};
use cunjie_domain::person::Role;
use cunjie_domain::place;
use cunjie_server::{AppState, Blobs, Db, Township, demo};

#[derive(Parser)]
#[command(name = "cunjie-server", version, about = "村洁 Cunjie township server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Storage {
    /// Data directory (the SQLite database and photos live here).
    #[arg(long)]
    data_dir: PathBuf,
    /// Database URL: sqlite:///path/file.db (default: a file in the data directory) or postgres://…
    #[arg(long, env = "CUNJIE_DATABASE_URL")]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API. Expired photo uploads are swept at start and every hour.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        storage: Storage,
        /// Where finished photos go: unset for <data-dir>/blobs/, file:///absolute/folder, or
        /// s3://bucket/prefix (a server built with `--features s3`; credentials, region and
        /// endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT …).
        /// Partial uploads always stay in <data-dir>/uploads/.
        #[arg(long, env = "CUNJIE_BLOB_STORE")]
        blob_store: Option<String>,
    },
    /// Remove photo uploads left unfinished for 7 days, and partial files nothing owns.
    Gc {
        #[command(flatten)]
        storage: Storage,
        /// As for `serve`.
        #[arg(long, env = "CUNJIE_BLOB_STORE")]
        blob_store: Option<String>,
    },
    /// Create a township and its first administrator.
    Init {
        #[command(flatten)]
        storage: Storage,
        /// Township code, e.g. 360322105.
        #[arg(long)]
        code: String,
        /// Township name, e.g. 桐木镇.
        #[arg(long)]
        name: String,
        /// Administrator user name.
        #[arg(long, default_value = "admin")]
        admin: String,
        /// Administrator password (or set CUNJIE_ADMIN_PASSWORD).
        #[arg(long, env = "CUNJIE_ADMIN_PASSWORD")]
        password: String,
    },
    /// Import villages, groups, households, businesses (CSV), zones and facilities (GeoJSON),
    /// people and assignments (CSV). Files are applied in that order; a bad row refuses its file.
    Import {
        #[command(flatten)]
        storage: Storage,
        /// Township code.
        #[arg(long)]
        township: String,
        #[arg(long)]
        villages: Option<PathBuf>,
        #[arg(long)]
        groups: Option<PathBuf>,
        #[arg(long)]
        households: Option<PathBuf>,
        #[arg(long)]
        businesses: Option<PathBuf>,
        #[arg(long)]
        zones: Option<PathBuf>,
        #[arg(long)]
        facilities: Option<PathBuf>,
        #[arg(long)]
        people: Option<PathBuf>,
        #[arg(long)]
        assignments: Option<PathBuf>,
    },
    /// Issue a one-time enrollment code for a person and role (also shown as a QR code).
    Enroll {
        #[command(flatten)]
        storage: Storage,
        /// Township code.
        #[arg(long)]
        township: String,
        /// Person id.
        #[arg(long)]
        person: PersonId,
        /// Role: CLEANER, INSPECTOR, TOWNSHIP_ASSESSOR …
        #[arg(long)]
        role: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Revoke a device; it gets 401 on its next request and keeps its data.
    Revoke {
        #[command(flatten)]
        storage: Storage,
        /// Township code.
        #[arg(long)]
        township: String,
        /// Device id.
        #[arg(long)]
        device: DeviceId,
    },
    /// Recompute and store a period's village ranking from the synced facts, and print it (a
    /// table, or JSON: per village its score, rank and deductions by standard item code).
    /// Re-running gives the same numbers; a published period keeps its scheme version.
    Score {
        #[command(flatten)]
        storage: Storage,
        /// Township code.
        #[arg(long)]
        township: String,
        /// Month (2026-11), quarter (2026-Q4) or half-year (2026-H2).
        #[arg(long, alias = "period")]
        month: String,
        /// Scheme code: TOWNSHIP_MONTHLY_YUAN (default) or COUNTY_HALFYEAR_100.
        #[arg(long)]
        scheme: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Publish the result: it keeps this scheme version from now on.
        #[arg(long)]
        publish: bool,
        /// Who recomputes, for the audit log.
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Check the audit log's hash chain; exits with 1 and names the first bad entry if broken.
    AuditVerify {
        #[command(flatten)]
        storage: Storage,
        /// Township code.
        #[arg(long)]
        township: String,
    },
    /// Serve a seeded demo township (桐木镇, 4 villages) and print enrollment codes.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn open(storage: &Storage) -> Result<Db> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("creating {}", storage.data_dir.display()))?;
    let url = storage
        .database
        .clone()
        .unwrap_or_else(|| default_url(&storage.data_dir));
    Db::open(&url).with_context(|| format!("opening the database {url}"))
}

fn default_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("cunjie-server.db").display())
}

fn office(db: Db, code: &str) -> Result<Township> {
    Township::open(db, Arc::new(SystemClock), code)?
        .with_context(|| format!("no township with code {code}; run `cunjie-server init` first"))
}

/// The `--json` shape of `score`: stable keys, amounts as decimal strings.
fn score_json(r: &cunjie_server::Ranking) -> serde_json::Value {
    serde_json::json!({
        "period": r.period,
        "scheme": r.scheme_code,
        "scheme_version": r.scheme_version,
        "unit": r.unit,
        "digest": r.digest,
        "villages": r.rows.iter().map(|v| serde_json::json!({
            "code": v.village_code,
            "name": v.village_name,
            "score": v.score.to_string(),
            "rank": v.rank,
            "deductions_by_item": v.by_item.iter().map(|(k, a)| (k.clone(), serde_json::Value::String(a.to_string()))).collect::<serde_json::Map<_, _>>(),
            "self_eval": v.self_eval.map(|a| a.to_string()),
            "recheck": v.recheck.map(|a| a.to_string()),
            "counted": v.counted,
            "ad_hoc": v.ad_hoc,
        })).collect::<Vec<_>>(),
    })
}

fn print_ranking(r: &cunjie_server::Ranking) {
    println!(
        "{} 村排名 village ranking · {} v{} ({}) · {}",
        r.period_zh,
        r.scheme_code,
        r.scheme_version,
        r.scheme_name_zh,
        if r.unit == "yuan" {
            "元 yuan"
        } else {
            "分 points"
        }
    );
    println!(
        "{:>4}  {:<8} {:>10} {:>10} {:>10} {:>5} {:>5}  扣分项 deductions by item",
        "名次", "村", "得分", "自评", "差额", "计入", "另计"
    );
    for v in &r.rows {
        let opt = |a: Option<cunjie_domain::Amount>| a.map_or("-".to_owned(), |a| a.to_string());
        let items: Vec<String> = v.by_item.iter().map(|(k, a)| format!("{k} {a}")).collect();
        println!(
            "{:>4}  {:<8} {:>10} {:>10} {:>10} {:>5} {:>5}  {}",
            v.rank,
            v.village_name,
            v.score.to_string(),
            opt(v.self_eval),
            opt(v.difference),
            v.counted,
            v.ad_hoc,
            items.join(", ")
        );
    }
    println!("digest {}", r.digest);
}

fn parse_role(s: &str) -> Result<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_uppercase())).with_context(|| format!("unknown role '{s}'; use CLEANER, COLLECTOR, INSPECTOR, VILLAGE_SANITATION_OFFICER, TOWNSHIP_ASSESSOR or TOWNSHIP_ADMIN"))
}

fn print_code(label: &str, code: &str) {
    println!("{label}: {code}");
    if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
        println!(
            "{}",
            qr.render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build()
        );
    }
}

fn blobs(data_dir: &Path, spec: Option<&str>) -> Result<Blobs> {
    Blobs::open(spec, data_dir).context("opening the blob store")
}

async fn run_server(listen: &str, db: Db, blobs: Blobs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    println!("村洁 Cunjie server on http://{}", listener.local_addr()?);
    println!("photos: {}", blobs.describe());
    let state = AppState::new(db, Arc::new(SystemClock), blobs);
    let sweeper = tokio::spawn(cunjie_server::sweep_periodically(
        state.clone(),
        std::time::Duration::from_secs(3600),
    ));
    let served = cunjie_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving");
    sweeper.abort();
    served
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            storage,
            blob_store,
        } => {
            let blobs = blobs(&storage.data_dir, blob_store.as_deref())?;
            run_server(&listen, open(&storage)?, blobs).await
        }
        Command::Gc {
            storage,
            blob_store,
        } => {
            let blobs = blobs(&storage.data_dir, blob_store.as_deref())?;
            let state = AppState::new(open(&storage)?, Arc::new(SystemClock), blobs);
            let report = cunjie_server::sweep_uploads(&state)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "{} expired uploads removed, {} partial files deleted",
                report.expired, report.files_removed
            );
            Ok(())
        }
        Command::Init {
            storage,
            code,
            name,
            admin,
            password,
        } => {
            if password.chars().count() < 8 {
                bail!("the administrator password needs at least 8 characters");
            }
            let db = open(&storage)?;
            let ids = IdGen::new(SystemClock);
            let t = place::Township {
                id: ids.next(),
                code: code.clone(),
                name,
            };
            Township::init(db, Arc::new(SystemClock), &t, &admin, &password)
                .context("creating the township")?;
            println!(
                "township {code} created with administrator '{admin}' (id {})",
                t.id
            );
            Ok(())
        }
        Command::Import {
            storage,
            township,
            villages,
            groups,
            households,
            businesses,
            zones,
            facilities,
            people,
            assignments,
        } => {
            use cunjie_server::import::FileKind;
            let office = office(open(&storage)?, &township)?;
            let files = [
                (FileKind::Villages, villages),
                (FileKind::Groups, groups),
                (FileKind::Households, households),
                (FileKind::Businesses, businesses),
                (FileKind::Zones, zones),
                (FileKind::Facilities, facilities),
                (FileKind::People, people),
                (FileKind::Assignments, assignments),
            ];
            for (kind, path) in files {
                let Some(path) = path else { continue };
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                let report = office
                    .import(kind, std::io::BufReader::new(file))
                    .with_context(|| format!("importing {}", path.display()))?;
                println!(
                    "{}: {} created, {} updated",
                    path.display(),
                    report.created,
                    report.updated
                );
            }
            Ok(())
        }
        Command::Enroll {
            storage,
            township,
            person,
            role,
            days,
        } => {
            let office = office(open(&storage)?, &township)?;
            let code = office.enrollment_code(person, parse_role(&role)?, days)?;
            print_code(
                &format!("enrollment code for {person} ({role}), valid {days} days"),
                &code,
            );
            Ok(())
        }
        Command::Revoke {
            storage,
            township,
            device,
        } => {
            let office = office(open(&storage)?, &township)?;
            if office.revoke(device)? {
                println!("device {device} revoked; it keeps its data and must enroll again");
                Ok(())
            } else {
                bail!("no active device {device} in township {township}")
            }
        }
        Command::Score {
            storage,
            township,
            month,
            scheme,
            json,
            publish,
            by,
        } => {
            let office = office(open(&storage)?, &township)?;
            let by = format!("cli:{by}");
            let r = if publish {
                office.publish_ranking(&month, scheme.as_deref(), &by)?
            } else {
                office.recompute(&month, scheme.as_deref(), &by)?
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&score_json(&r))?);
            } else {
                print_ranking(&r);
            }
            Ok(())
        }
        Command::AuditVerify { storage, township } => {
            let office = office(open(&storage)?, &township)?;
            let report = office.audit_verify()?;
            match report.first_broken {
                None => {
                    println!("审计链完好 audit chain intact: {} entries", report.entries);
                    Ok(())
                }
                Some(seq) => bail!(
                    "审计链断裂 audit chain broken at entry {seq}: {}",
                    report.reason.unwrap_or_default()
                ),
            }
        }
        Command::Demo { listen, data_dir } => {
            let d = demo::prepare(&data_dir, Arc::new(SystemClock))
                .context("preparing the demo township")?;
            if let Some(password) = &d.admin_password {
                println!(
                    "demo township {} seeded: {} villages, {} households, {} zones, {} facilities",
                    d.demo.township.name,
                    d.demo.villages.len(),
                    d.demo.households.len(),
                    d.demo.zones.len(),
                    d.demo.facilities.len()
                );
                println!("administrator: admin / {password}");
            }
            for (who, _, code) in &d.codes {
                print_code(&format!("{who} enrollment code"), code);
            }
            let blobs = blobs(&data_dir, None)?;
            run_server(&listen, d.db, blobs).await
        }
    }
}
