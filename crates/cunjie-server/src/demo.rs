//! A seeded demo township with realistic Chinese names, door plates, coordinates (WGS-84, in the
//! hills of 萍乡 where the 上栗 plan comes from), zones and facilities. Used by
//! `cunjie-server demo`, the README's demo and the end-to-end tests.

use chrono::{DateTime, TimeZone, Utc};
use cunjie_domain::ids::{
    AssignmentId, BusinessId, FacilityId, GroupId, HouseholdId, PersonId, TownshipId, VillageId,
    ZoneId,
};
use cunjie_domain::person::{Assignment, AssignmentTarget, Person, Role};
use cunjie_domain::place::{
    AdminVillage, Business, BusinessType, Facility, FacilityType, GeoPoint, Household, Township,
    VillageGroup, Zone, ZoneGeometry, ZoneType,
};
use cunjie_domain::template::{Template, presets};
use uuid::Uuid;

use crate::core::registry::RegistryItem;

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "彭", "易",
];
const GIVEN: [&str; 16] = [
    "建国", "秀英", "桂兰", "志强", "红梅", "德明", "小军", "玉兰", "国华", "冬生", "春花", "水平",
    "金山", "满秀", "长庚", "细妹",
];
const VILLAGES: [(&str, &str, f64, f64); 4] = [
    ("TP", "太平村", 27.7412, 113.8265),
    ("SM", "山门村", 27.7530, 113.8402),
    ("ZL", "左垅村", 27.7296, 113.8139),
    ("HS", "灰山村", 27.7655, 113.8051),
];
const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Stable demo ids: the same every run, so a README can name them.
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193_5000_0000_7000_8000_0000_0000_0000 + n)
}

/// Everything in the demo township.
#[derive(Debug, Clone)]
pub struct DemoTownship {
    /// 桐木镇.
    pub township: Township,
    /// Villages.
    pub villages: Vec<AdminVillage>,
    /// Groups.
    pub groups: Vec<VillageGroup>,
    /// Households.
    pub households: Vec<Household>,
    /// Street-front businesses and units bound by 门前三包 (three per village, on the first
    /// group's road).
    pub businesses: Vec<Business>,
    /// Zones (one road per group).
    pub zones: Vec<Zone>,
    /// Facilities (pools and bins along each zone).
    pub facilities: Vec<Facility>,
    /// People: inspectors and cleaners.
    pub people: Vec<Person>,
    /// Their assignments.
    pub assignments: Vec<Assignment>,
    /// Templates in force.
    pub templates: Vec<Template>,
}

/// When demo assignments start.
pub fn assignments_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// Builds the demo township: `villages` villages (at most 4), each with `groups` groups and
/// `households` households, a road zone and a cleaner per group, and one inspector per village.
pub fn demo_township(villages: usize, groups: u32, households: u32) -> DemoTownship {
    let township = Township {
        id: TownshipId::from_uuid(id(1)),
        code: "360322105".into(),
        name: "桐木镇".into(),
    };
    let groups_n = groups.max(1);
    let mut out = DemoTownship {
        township: township.clone(),
        villages: vec![],
        groups: vec![],
        households: vec![],
        businesses: vec![],
        zones: vec![],
        facilities: vec![],
        people: vec![],
        assignments: vec![],
        templates: vec![
            presets::household_sanbao(),
            presets::village_recheck(),
            presets::business_sanbao(),
        ],
    };
    for (vi, (code, name, lat, lon)) in VILLAGES.iter().take(villages.clamp(1, 4)).enumerate() {
        let vi128 = vi as u128;
        let village = AdminVillage {
            id: VillageId::from_uuid(id(2 + vi128)),
            township: township.id,
            code: (*code).into(),
            name: (*name).into(),
            population: households * 4,
            along_county_road: vi % 2 == 0,
            centroid: Some(GeoPoint::new(*lat, *lon)),
        };
        for g in 0..groups_n {
            let gid = GroupId::from_uuid(id(1_000 + vi128 * 100 + u128::from(g)));
            out.groups.push(VillageGroup {
                id: gid,
                village: village.id,
                name: format!(
                    "{}第{}村民组",
                    name,
                    NUMERALS.get(g as usize).copied().unwrap_or("十")
                ),
                is_remote: g == groups_n - 1,
            });
            // The group's road runs east for about 600 m.
            let start = GeoPoint::new(lat + f64::from(g) * 0.004, *lon);
            let end = GeoPoint::new(lat + f64::from(g) * 0.004, lon + 0.0061);
            let zone = Zone {
                id: ZoneId::from_uuid(id(2_000 + vi128 * 100 + u128::from(g))),
                village: village.id,
                name: format!("{}{}组主干道", name, g + 1),
                kind: ZoneType::CleanerZone,
                geometry: ZoneGeometry::Line(vec![
                    start,
                    GeoPoint::new(start.lat + 0.0004, lon + 0.003),
                    end,
                ]),
                passes_per_day: 2,
            };
            for k in 0..4u32 {
                let kind = if k % 2 == 0 {
                    FacilityType::Pool
                } else {
                    FacilityType::Bin
                };
                out.facilities.push(Facility {
                    id: FacilityId::from_uuid(id(3_000
                        + vi128 * 1_000
                        + u128::from(g) * 10
                        + u128::from(k))),
                    village: village.id,
                    zone: Some(zone.id),
                    kind,
                    number: format!("{}-{:02}-{:03}", code, g + 1, k + 1),
                    location: GeoPoint::new(start.lat + 0.0001, lon + 0.0015 * f64::from(k)),
                });
            }
            let cleaner = Person {
                id: PersonId::from_uuid(id(5_000 + vi128 * 100 + u128::from(g))),
                township: township.id,
                name: format!(
                    "{}{}",
                    SURNAMES[(vi * 3 + g as usize) % 12],
                    ["冬梅", "来福", "桂香", "有田"][g as usize % 4]
                ),
                phone: Some(format!("1387990{:04}", vi * 100 + g as usize)),
                roles: vec![Role::Cleaner],
            };
            out.assignments.push(Assignment {
                id: AssignmentId::from_uuid(id(6_000 + vi128 * 100 + u128::from(g))),
                person: cleaner.id,
                role: Role::Cleaner,
                target: AssignmentTarget::Zones {
                    zones: vec![zone.id],
                },
                valid_from: assignments_start(),
                valid_to: None,
            });
            out.people.push(cleaner);
            out.zones.push(zone);
        }
        for n in 0..households {
            let g = n % groups_n;
            let gid = GroupId::from_uuid(id(1_000 + vi128 * 100 + u128::from(g)));
            out.households.push(Household {
                id: HouseholdId::from_uuid(id(10_000 + vi128 * 10_000 + u128::from(n))),
                group: gid,
                village: village.id,
                head_name: format!(
                    "{}{}",
                    SURNAMES[(n as usize / 16 + vi) % 12],
                    GIVEN[n as usize % 16]
                ),
                door_plate: format!("{}{}组{:03}号", name, g + 1, n / groups_n + 1),
                members: 2 + n % 5,
                roadside: (n / groups_n).is_multiple_of(4),
                is_demo_household: n.is_multiple_of(37),
                location: Some(GeoPoint::new(
                    lat + f64::from(g) * 0.004 + f64::from(n % 9) * 0.00035,
                    lon + f64::from(n / 9 % 20) * 0.0004,
                )),
            });
        }
        let shops = [
            ("便民超市", BusinessType::StreetShop),
            ("小吃店", BusinessType::Eatery),
            ("村卫生室", BusinessType::Unit),
        ];
        for (k, (what, kind)) in shops.into_iter().enumerate() {
            let owner = format!(
                "{}{}",
                SURNAMES[(vi * 5 + k) % 12],
                GIVEN[(vi + k * 7) % 16]
            );
            out.businesses.push(Business {
                id: BusinessId::from_uuid(id(900_000 + vi128 * 100 + k as u128)),
                village: village.id,
                name: match kind {
                    BusinessType::Eatery => {
                        format!("{}记{}", owner.chars().next().unwrap_or('老'), what)
                    }
                    _ => format!("{name}{what}"),
                },
                kind,
                owner,
                door_plate: format!("{}街{:02}号", name, k + 1),
                location: Some(GeoPoint::new(lat + 0.0002, lon + 0.001 + 0.0012 * k as f64)),
            });
        }
        let inspector = Person {
            id: PersonId::from_uuid(id(7_000 + vi128)),
            township: township.id,
            name: ["易志刚", "彭丽华", "刘德胜", "黄春燕"][vi].into(),
            phone: Some(format!("1397990{vi:04}")),
            roles: vec![Role::Inspector, Role::TownshipAssessor],
        };
        out.assignments.push(Assignment {
            id: AssignmentId::from_uuid(id(8_000 + vi128)),
            person: inspector.id,
            role: Role::Inspector,
            target: AssignmentTarget::Villages {
                villages: vec![village.id],
            },
            valid_from: assignments_start(),
            valid_to: None,
        });
        out.people.push(inspector);
        out.villages.push(village);
    }
    out
}

impl DemoTownship {
    /// Every place and facility as registry items, villages first.
    pub fn registry_items(&self) -> Vec<RegistryItem> {
        let mut items: Vec<RegistryItem> = self
            .villages
            .iter()
            .cloned()
            .map(RegistryItem::Village)
            .collect();
        items.extend(self.groups.iter().cloned().map(RegistryItem::Group));
        items.extend(self.zones.iter().cloned().map(RegistryItem::Zone));
        items.extend(self.facilities.iter().cloned().map(RegistryItem::Facility));
        items.extend(self.households.iter().cloned().map(RegistryItem::Household));
        items.extend(self.businesses.iter().cloned().map(RegistryItem::Business));
        items
    }

    /// Writes everything through the office's operations.
    pub fn seed(&self, office: &crate::Township) -> Result<(), crate::RegistryError> {
        for t in &self.templates {
            office.publish_template(t)?;
        }
        for p in &self.people {
            office.put_person(p)?;
        }
        for a in &self.assignments {
            office.put_assignment(a)?;
        }
        office.put_records(&self.registry_items())
    }

    /// The inspector of village `i` (0-based).
    pub fn inspector(&self, village: usize) -> &Person {
        let v = self.villages[village].id;
        let a = self
            .assignments
            .iter()
            .find(|a| a.role == Role::Inspector && matches!(&a.target, AssignmentTarget::Villages { villages } if villages.contains(&v)))
            .expect("every demo village has an inspector");
        self.people
            .iter()
            .find(|p| p.id == a.person)
            .expect("assignment names a person")
    }

    /// The cleaner of a zone.
    pub fn cleaner(&self, zone: ZoneId) -> &Person {
        let a = self
            .assignments
            .iter()
            .find(|a| a.role == Role::Cleaner && matches!(&a.target, AssignmentTarget::Zones { zones } if zones.contains(&zone)))
            .expect("every demo zone has a cleaner");
        self.people
            .iter()
            .find(|p| p.id == a.person)
            .expect("assignment names a person")
    }
}

/// Why the demo could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
    /// Creating the township or a code failed.
    #[error(transparent)]
    Auth(#[from] crate::AuthError),
    /// Seeding failed.
    #[error(transparent)]
    Registry(#[from] crate::RegistryError),
    /// Publishing the demo's scheme failed.
    #[error(transparent)]
    Scoring(#[from] crate::ScoringError),
    /// The data directory could not be made.
    #[error("cannot create the data directory: {0}")]
    Io(#[from] std::io::Error),
}

/// A prepared demo: the database, the office, and fresh enrollment codes to hand out.
#[derive(Debug)]
pub struct DemoServer {
    /// The database (SQLite in the data directory).
    pub db: crate::Db,
    /// The office's operations.
    pub office: crate::Township,
    /// What was seeded.
    pub demo: DemoTownship,
    /// The administrator password, when the township was created just now.
    pub admin_password: Option<String>,
    /// `(who, role, code)` for the first village's inspector and the first zone's cleaner.
    pub codes: Vec<(String, Role, String)>,
}

/// Opens (or creates and seeds) the demo township in `data_dir` and issues enrollment codes:
/// what `cunjie-server demo` does before it serves.
pub fn prepare(
    data_dir: &std::path::Path,
    clock: std::sync::Arc<dyn cunjie_domain::clock::Clock>,
) -> Result<DemoServer, DemoError> {
    std::fs::create_dir_all(data_dir)?;
    let db = crate::Db::open(&format!(
        "sqlite://{}",
        data_dir.join("cunjie-server.db").display()
    ))?;
    let demo = demo_township(4, 3, 60);
    let (office, admin_password) =
        match crate::Township::open(db.clone(), clock.clone(), &demo.township.code)? {
            Some(o) => (o, None),
            None => {
                let ids = cunjie_domain::ids::IdGen::new(clock.clone());
                let password = format!("demo-{}", &ids.next_uuid().simple().to_string()[24..]);
                let o =
                    crate::Township::init(db.clone(), clock, &demo.township, "admin", &password)?;
                demo.seed(&o)?;
                // The seeds name a monthly basic subsidy (基本考核补助) but give no amount; the
                // demo township edits Scheme T to ¥1,000 (version 2; version 1 is the preset).
                let mut scheme_t = cunjie_domain::scoring::Scheme::township_monthly_yuan();
                if let cunjie_domain::scoring::SchemeKind::Yuan(t) = &mut scheme_t.kind {
                    t.base_subsidy = cunjie_domain::Amount::whole(1_000);
                }
                o.publish_scheme(&scheme_t, "demo")?;
                (o, Some(password))
            }
        };
    let inspector = demo.inspector(0).clone();
    let cleaner = demo.cleaner(demo.zones[0].id).clone();
    let codes = vec![
        (
            format!("检查员 {}（{}）", inspector.name, demo.villages[0].name),
            Role::Inspector,
            office.enrollment_code(inspector.id, Role::Inspector, 7)?,
        ),
        (
            format!("保洁员 {}（{}）", cleaner.name, demo.zones[0].name),
            Role::Cleaner,
            office.enrollment_code(cleaner.id, Role::Cleaner, 7)?,
        ),
    ];
    Ok(DemoServer {
        db,
        office,
        demo,
        admin_password,
        codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_consistent() {
        let d = demo_township(3, 3, 45);
        assert_eq!(d.villages.len(), 3, "three villages");
        assert_eq!(d.households.len(), 135, "45 per village");
        assert_eq!(d.zones.len(), 9, "a zone per group");
        assert_eq!(d.facilities.len(), 36, "four facilities per zone");
        let plates: std::collections::HashSet<_> =
            d.households.iter().map(|h| &h.door_plate).collect();
        assert_eq!(plates.len(), d.households.len(), "door plates are unique");
        let numbers: std::collections::HashSet<_> =
            d.facilities.iter().map(|f| &f.number).collect();
        assert_eq!(numbers.len(), d.facilities.len(), "统一编号 are unique");
        assert_eq!(d.businesses.len(), 9, "three businesses per village");
        let plates: std::collections::HashSet<_> =
            d.businesses.iter().map(|b| &b.door_plate).collect();
        assert_eq!(plates.len(), 9, "business door plates are unique");
        assert!(
            d.templates
                .iter()
                .any(|t| t.subject == cunjie_domain::catalog::SubjectKind::Business),
            "a checklist for businesses is in force"
        );
        assert_eq!(
            d.inspector(1).name,
            "彭丽华",
            "each village has its inspector"
        );
        assert!(
            d.households
                .iter()
                .all(|h| h.location.is_some_and(|p| p.is_valid())),
            "every house is located"
        );
    }
}
