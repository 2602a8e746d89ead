//! A demo village with realistic Chinese names, door plates and coordinates (WGS-84, in the
//! hills of 萍乡 where the 上栗 plan comes from), delivered the way a phone receives it: as a
//! pulled page.

use cunjie_domain::ids::{GroupId, HouseholdId, TownshipId, VillageId};
use cunjie_domain::place::{AdminVillage, GeoPoint, Household, Township, VillageGroup};
use cunjie_domain::template::{Template, presets};
use cunjie_protocol::v1::{Change, EntityKind, PullPage};
use uuid::Uuid;

/// The demo scope name.
pub const SCOPE: &str = "village:taiping";

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "彭", "易",
];
const GIVEN: [&str; 16] = [
    "建国", "秀英", "桂兰", "志强", "红梅", "德明", "小军", "玉兰", "国华", "冬生", "春花", "水平",
    "金山", "满秀", "长庚", "细妹",
];

/// Everything the demo village holds.
#[derive(Debug, Clone)]
pub struct DemoVillage {
    /// 桐木镇.
    pub township: Township,
    /// 太平村.
    pub village: AdminVillage,
    /// Its groups.
    pub groups: Vec<VillageGroup>,
    /// Its households.
    pub households: Vec<Household>,
    /// The templates in force.
    pub templates: Vec<Template>,
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193_5000_0000_7000_8000_0000_0000_0000 + n)
}

/// Builds the demo village with `households` households spread over `groups` groups.
pub fn demo_village(group_count: u32, households: u32) -> DemoVillage {
    let group_count = group_count.max(1);
    let township = Township {
        id: TownshipId::from_uuid(id(1)),
        code: "360322105".into(),
        name: "桐木镇".into(),
    };
    let village = AdminVillage {
        id: VillageId::from_uuid(id(2)),
        township: township.id,
        code: "TP".into(),
        name: "太平村".into(),
        population: households * 4,
        along_county_road: true,
        centroid: Some(GeoPoint::new(27.7412, 113.8265)),
    };
    let groups: Vec<VillageGroup> = (0..group_count)
        .map(|g| VillageGroup {
            id: GroupId::from_uuid(id(100 + u128::from(g))),
            village: village.id,
            name: format!(
                "第{}村民组",
                ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
                    .get(g as usize)
                    .copied()
                    .unwrap_or("十")
            ),
            is_remote: g == group_count - 1,
        })
        .collect();
    let households = (0..households)
        .map(|n| {
            let g = n % group_count;
            Household {
                id: HouseholdId::from_uuid(id(10_000 + u128::from(n))),
                group: groups[g as usize].id,
                village: village.id,
                head_name: format!(
                    "{}{}",
                    SURNAMES[(n as usize / 16) % 12],
                    GIVEN[n as usize % 16]
                ),
                door_plate: format!("太平村{}组{:03}号", g + 1, n / group_count + 1),
                members: 2 + n % 5,
                // The houses along the county road are the first in each group.
                roadside: (n / group_count).is_multiple_of(4),
                is_demo_household: n.is_multiple_of(37),
                location: Some(GeoPoint::new(
                    27.7412 + f64::from(g) * 0.004 + f64::from(n % 9) * 0.00035,
                    113.8265 + f64::from(n / 9 % 20) * 0.0004,
                )),
            }
        })
        .collect();
    DemoVillage {
        township,
        village,
        groups,
        households,
        templates: vec![presets::household_sanbao(), presets::village_recheck()],
    }
}

impl DemoVillage {
    /// The village as one pulled page, as an inspector's phone receives it.
    pub fn as_pull_page(&self) -> PullPage {
        let mut changes = Vec::new();
        let mut push = |entity, id: Uuid, row: serde_json::Value| {
            let seq = changes.len() as u64 + 1;
            changes.push(Change {
                seq,
                entity,
                id,
                server_version: seq,
                row: Some(row),
            });
        };
        push(
            EntityKind::Township,
            *self.township.id.as_uuid(),
            to_json(&self.township),
        );
        push(
            EntityKind::Village,
            *self.village.id.as_uuid(),
            to_json(&self.village),
        );
        for g in &self.groups {
            push(EntityKind::Group, *g.id.as_uuid(), to_json(g));
        }
        for t in &self.templates {
            push(EntityKind::Template, *t.id.as_uuid(), to_json(t));
        }
        for h in &self.households {
            push(EntityKind::Household, *h.id.as_uuid(), to_json(h));
        }
        let next_after = changes.len() as u64;
        PullPage {
            scope: SCOPE.into(),
            epoch: 1,
            changes,
            next_after,
            up_to_date: true,
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("domain values always serialise")
}
