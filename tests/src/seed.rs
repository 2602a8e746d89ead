//! The demo village delivered the way a phone receives it: as a pulled page (for tests of the
//! phone alone, without a server).

use cunjie_domain::place::{AdminVillage, Household, Township, VillageGroup};
use cunjie_domain::template::Template;
use cunjie_protocol::v1::{Change, EntityKind, PullPage};
use uuid::Uuid;

/// The demo scope name.
pub const SCOPE: &str = "village:taiping";

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

/// The first village of the server's demo township (`cunjie_server::demo`), with `group_count`
/// groups and `households` households, as a phone would hold it.
pub fn demo_village(group_count: u32, households: u32) -> DemoVillage {
    let t = cunjie_server::demo::demo_township(1, group_count, households);
    DemoVillage {
        township: t.township,
        village: t.villages[0].clone(),
        groups: t.groups,
        households: t.households,
        templates: t.templates,
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
