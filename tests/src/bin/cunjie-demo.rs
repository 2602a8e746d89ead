//! The demo: an inspector's phone in 太平村 records a household inspection and the township's
//! monthly re-check, offline, and sees the scores under Scheme T.
//!
//! `cargo run -p cunjie-e2e --bin cunjie-demo [-- --data-dir DIR]`
#![allow(clippy::print_stdout, reason = "a command-line demo prints its story")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::clock::SystemClock;
use cunjie_domain::fact::{InspectionType, ItemResult, Subject};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::PersonId;
use cunjie_domain::scoring::{
    Scheme, SchemeKind, VillageMonth, score_inspection, score_village_month,
};
use cunjie_e2e::seed::demo_village;
use cunjie_e2e::sim::{new_inspection, take_photo};
use cunjie_store::{Store, StoreOptions};
use uuid::Uuid;

fn parse_args() -> Result<Option<PathBuf>> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => {
                dir = Some(PathBuf::from(
                    args.next().context("--data-dir needs a folder")?,
                ))
            }
            "-h" | "--help" => {
                println!("用法 usage: cunjie-demo [--data-dir DIR]");
                std::process::exit(0);
            }
            other => bail!("unknown argument '{other}'; try --help"),
        }
    }
    Ok(dir)
}

fn main() -> Result<()> {
    let (dir, _keep) = match parse_args()? {
        Some(d) => (d, None),
        None => {
            let t = tempfile::tempdir().context("making a temporary data folder")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let catalog = Catalog::builtin();
    println!("村洁 Cunjie demo · 数据目录 data dir: {}", dir.display());
    println!(
        "标准库 standards catalog: {} 套标准 sets, {} 条 items",
        catalog.sets.len(),
        catalog.item_count()
    );

    let village = demo_village(3, 45);
    let mut store = Store::open(
        &dir.join("cunjie.db"),
        StoreOptions {
            clock: Arc::new(SystemClock),
            id_seed: None,
        },
    )
    .context("opening the phone database")?;
    store
        .apply_pull_page(&village.as_pull_page())
        .context("loading the village onto the phone")?;
    println!(
        "\n【{} · {}】{} 个村民组, {} 户 households (离线可用 offline)",
        village.township.name,
        village.village.name,
        village.groups.len(),
        village.households.len()
    );

    let inspector = PersonId::from_uuid(Uuid::from_u128(0x0193_5000_0000_7000_8000_0000_0000_0900));
    let policy = GeoPolicy::default();
    let photos = dir.join("photos");
    let mut photo_seed = 0;
    let mut photo = |store: &mut Store| -> Result<cunjie_domain::fact::PhotoHash> {
        photo_seed += 1;
        Ok(take_photo(store, &photos, photo_seed)
            .context("saving a photo")?
            .hash)
    };

    // The inspector searches by door plate, as on the phone.
    let found = store.search_households("1组001", 5)?;
    let household = found
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
        village.village.id,
        inspector,
        household.location,
    );
    for item in &hh_template.items {
        insp.answer(ItemResult::pass(&item.item_code));
    }
    let p1 = photo(&mut store)?;
    let p2 = photo(&mut store)?;
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
    for d in &score.deductions {
        let label = catalog
            .item(&d.item_code)
            .map_or(d.item_code.as_str(), |(_, i)| i.label_zh.as_str());
        println!(
            "  −{:>6} 分  {} ({})",
            d.amount.to_string(),
            label,
            d.item_code
        );
    }

    // The township's re-check of the village (16th–19th).
    let recheck = store.template_by_code("VILLAGE_RECHECK_T")?;
    let mut vinsp = new_inspection(
        &store,
        &recheck,
        Subject {
            kind: SubjectKind::AdminVillage,
            id: *village.village.id.as_uuid(),
        },
        village.village.id,
        inspector,
        village.village.centroid,
    );
    vinsp.kind = InspectionType::TownshipRecheck;
    for item in &recheck.items {
        vinsp.answer(ItemResult::pass(&item.item_code));
    }
    let p3 = photo(&mut store)?;
    let p4 = photo(&mut store)?;
    vinsp.answer(ItemResult::fail("ROAD_PATROL_LAPSE", 2, vec![p3]));
    vinsp.answer(ItemResult::fail("POOL_OVERFLOW", 1, vec![p4]));
    store.save_inspection_draft(&vinsp)?;
    store
        .submit_inspection(vinsp.id, &policy)
        .context("submitting the village re-check")?;

    let Scheme {
        kind: SchemeKind::Yuan(mut scheme_t),
        code,
        version,
        name_zh,
        ..
    } = Scheme::township_monthly_yuan()
    else {
        bail!("Scheme T is a yuan scheme")
    };
    // The seeds name a monthly basic subsidy but give no amount; the demo assumes ¥1,000.
    scheme_t.base_subsidy = cunjie_domain::Amount::whole(1_000);
    let households: BTreeMap<_, _> = village
        .households
        .iter()
        .map(|h| (h.id, h.clone()))
        .collect();
    let demo_count = village
        .households
        .iter()
        .filter(|h| h.is_demo_household)
        .count() as u32;
    let facts = [store.inspection(insp.id)?, store.inspection(vinsp.id)?];
    let month = VillageMonth {
        village: &village.village,
        inspections: &facts,
        households: &households,
        demo_households: demo_count,
        events: &[],
    };
    let result = score_village_month(&scheme_t, &month);
    println!(
        "\n{}（{} v{}）· {} 本月 this month",
        name_zh, code, version, village.village.name
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

    let counts = store.pending_counts()?;
    println!(
        "\n待同步 waiting to sync: {} 条记录 records, {} 张照片 photos (无网络也已保存 saved offline)",
        counts.records, counts.photos
    );
    for h in store.history(10)? {
        println!("  {} {} {}", h.submitted_at, h.kind, h.state.label_zh());
    }
    Ok(())
}
