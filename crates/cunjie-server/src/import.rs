//! Importing a township's registry from the files an office already has: villages, groups,
//! households and businesses as CSV; zones and facilities as GeoJSON; people and assignments
//! as CSV. Every file is checked whole first: one bad row refuses the file with its line
//! number, and nothing of it is stored. Re-importing a file updates what it names (matched by
//! village code, door plate, 统一编号 …) instead of duplicating it.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use cunjie_domain::ids::{
    AssignmentId, BusinessId, FacilityId, GroupId, HouseholdId, IdGen, PersonId, VillageId, ZoneId,
};
use cunjie_domain::person::{Assignment, AssignmentTarget, Person, Role};
use cunjie_domain::place::{
    AdminVillage, Business, BusinessType, Facility, FacilityType, GeoPoint, Household,
    VillageGroup, Zone, ZoneGeometry, ZoneType,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::core::registry::RegistryItem;

/// Which registry file is being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `code,name,population,along_county_road,lat,lon`
    Villages,
    /// `village_code,name,is_remote`
    Groups,
    /// `village_code,group,door_plate,head_name,members,roadside,demo_household,lat,lon`
    Households,
    /// `village_code,name,kind,owner,door_plate,lat,lon`
    Businesses,
    /// GeoJSON LineString/Polygon features with `village_code`, `name`, `passes_per_day`
    Zones,
    /// GeoJSON Point features with `village_code`, `number`, `kind`, optional `zone`
    Facilities,
    /// `name,phone,roles` (roles separated by `;`)
    People,
    /// `person,role,villages,zones,valid_from` (`;`-separated lists; zones as `CODE/name`)
    Assignments,
}

/// What an import did, or why it refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// New records.
    pub created: usize,
    /// Existing records updated.
    pub updated: usize,
}

/// A file that cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A row is wrong; nothing was imported.
    #[error(
        "{file} line {line}: {message}; fix the row and import the file again (nothing was imported)"
    )]
    Row {
        /// File kind.
        file: &'static str,
        /// 1-based line (header is line 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is not CSV or GeoJSON at all.
    #[error("{0}")]
    Format(String),
    /// Storing failed.
    #[error(transparent)]
    Registry(#[from] crate::RegistryError),
    /// Storing failed.
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
}

fn row_err(file: &'static str, line: usize, message: impl Into<String>) -> ImportError {
    ImportError::Row {
        file,
        line,
        message: message.into(),
    }
}

fn read_csv<T: DeserializeOwned>(
    file: &'static str,
    input: impl Read,
) -> Result<Vec<(usize, T)>, ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut out = Vec::new();
    for (i, rec) in rdr.deserialize::<T>().enumerate() {
        let line = i + 2;
        out.push((line, rec.map_err(|e| row_err(file, line, e.to_string()))?));
    }
    Ok(out)
}

fn point(
    file: &'static str,
    line: usize,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Result<Option<GeoPoint>, ImportError> {
    match (lat, lon) {
        (None, None) => Ok(None),
        (Some(lat), Some(lon)) => {
            let p = GeoPoint::new(lat, lon);
            if p.is_valid() && !(lat == 0.0 && lon == 0.0) {
                Ok(Some(p))
            } else {
                Err(row_err(
                    file,
                    line,
                    format!("coordinates {lat}, {lon} are not a WGS-84 position"),
                ))
            }
        }
        _ => Err(row_err(file, line, "give both lat and lon, or neither")),
    }
}

fn text_field(
    file: &'static str,
    line: usize,
    name: &str,
    value: &str,
    max: usize,
) -> Result<(), ImportError> {
    if value.trim().is_empty() {
        return Err(row_err(file, line, format!("{name} is empty")));
    }
    if value.chars().count() > max {
        return Err(row_err(
            file,
            line,
            format!("{name} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// The registry as it stands, indexed by natural keys, for matching re-imports.
#[derive(Debug, Default)]
pub(crate) struct Existing {
    pub(crate) villages: BTreeMap<String, AdminVillage>,
    pub(crate) groups: BTreeMap<(VillageId, String), VillageGroup>,
    pub(crate) households: BTreeMap<(VillageId, String), Household>,
    pub(crate) businesses: BTreeMap<(VillageId, String), Business>,
    pub(crate) zones: BTreeMap<(VillageId, String), Zone>,
    pub(crate) facilities: BTreeMap<(VillageId, String), Facility>,
    pub(crate) people: BTreeMap<String, Person>,
}

#[derive(Debug, serde::Deserialize)]
struct VillageRow {
    code: String,
    name: String,
    #[serde(default)]
    population: u32,
    #[serde(default)]
    along_county_road: bool,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Debug, serde::Deserialize)]
struct GroupRow {
    village_code: String,
    name: String,
    #[serde(default)]
    is_remote: bool,
}

#[derive(Debug, serde::Deserialize)]
struct HouseholdRow {
    village_code: String,
    group: String,
    door_plate: String,
    head_name: String,
    #[serde(default)]
    members: u32,
    #[serde(default)]
    roadside: bool,
    #[serde(default)]
    demo_household: bool,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Debug, serde::Deserialize)]
struct BusinessRow {
    village_code: String,
    name: String,
    kind: BusinessType,
    owner: String,
    door_plate: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Debug, serde::Deserialize)]
struct PersonRow {
    name: String,
    phone: Option<String>,
    /// Roles separated by `;`, e.g. `INSPECTOR;TOWNSHIP_ASSESSOR`.
    roles: String,
}

#[derive(Debug, serde::Deserialize)]
struct AssignmentRow {
    person: String,
    role: Role,
    /// Village codes separated by `;` (inspectors).
    #[serde(default)]
    villages: String,
    /// Zone names as `VILLAGE_CODE/zone name`, separated by `;` (cleaners).
    #[serde(default)]
    zones: String,
    valid_from: NaiveDate,
}

/// Plans imports against the existing registry; `ids` makes ids for new records.
#[derive(Debug)]
pub(crate) struct Planner<'a, C: cunjie_domain::clock::Clock> {
    pub(crate) existing: &'a Existing,
    pub(crate) ids: &'a IdGen<C>,
    pub(crate) township: cunjie_domain::ids::TownshipId,
}

fn count<T>(existing: Option<&T>, report: &mut ImportReport) {
    if existing.is_some() {
        report.updated += 1;
    } else {
        report.created += 1;
    }
}

impl<C: cunjie_domain::clock::Clock> Planner<'_, C> {
    fn village(
        &self,
        file: &'static str,
        line: usize,
        code: &str,
    ) -> Result<VillageId, ImportError> {
        self.existing
            .villages
            .get(code)
            .map(|v| v.id)
            .ok_or_else(|| {
                row_err(
                    file,
                    line,
                    format!("village code '{code}' is not registered; import villages first"),
                )
            })
    }

    pub(crate) fn villages(
        &self,
        input: impl Read,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "villages.csv";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        for (line, r) in read_csv::<VillageRow>(F, input)? {
            text_field(F, line, "code", &r.code, 32)?;
            text_field(F, line, "name", &r.name, 64)?;
            let old = self.existing.villages.get(&r.code);
            count(old, &mut report);
            items.push(RegistryItem::Village(AdminVillage {
                id: old.map_or_else(|| self.ids.next(), |v| v.id),
                township: self.township,
                code: r.code,
                name: r.name,
                population: r.population,
                along_county_road: r.along_county_road,
                centroid: point(F, line, r.lat, r.lon)?,
            }));
        }
        Ok((items, report))
    }

    pub(crate) fn groups(
        &self,
        input: impl Read,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "groups.csv";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        for (line, r) in read_csv::<GroupRow>(F, input)? {
            text_field(F, line, "name", &r.name, 64)?;
            let village = self.village(F, line, &r.village_code)?;
            let old = self.existing.groups.get(&(village, r.name.clone()));
            count(old, &mut report);
            items.push(RegistryItem::Group(VillageGroup {
                id: old.map_or_else(|| self.ids.next::<GroupId>(), |g| g.id),
                village,
                name: r.name,
                is_remote: r.is_remote,
            }));
        }
        Ok((items, report))
    }

    pub(crate) fn households(
        &self,
        input: impl Read,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "households.csv";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        let mut seen = std::collections::HashSet::new();
        for (line, r) in read_csv::<HouseholdRow>(F, input)? {
            text_field(F, line, "door_plate", &r.door_plate, 64)?;
            text_field(F, line, "head_name", &r.head_name, 32)?;
            let village = self.village(F, line, &r.village_code)?;
            let group = self
                .existing
                .groups
                .get(&(village, r.group.clone()))
                .map(|g| g.id)
                .ok_or_else(|| {
                    row_err(
                        F,
                        line,
                        format!(
                            "group '{}' is not registered in village {}",
                            r.group, r.village_code
                        ),
                    )
                })?;
            if !seen.insert((village, r.door_plate.clone())) {
                return Err(row_err(
                    F,
                    line,
                    format!("door plate '{}' appears twice", r.door_plate),
                ));
            }
            let old = self
                .existing
                .households
                .get(&(village, r.door_plate.clone()));
            count(old, &mut report);
            items.push(RegistryItem::Household(Household {
                id: old.map_or_else(|| self.ids.next::<HouseholdId>(), |h| h.id),
                group,
                village,
                head_name: r.head_name,
                door_plate: r.door_plate,
                members: r.members,
                roadside: r.roadside,
                is_demo_household: r.demo_household,
                location: point(F, line, r.lat, r.lon)?,
            }));
        }
        Ok((items, report))
    }

    pub(crate) fn businesses(
        &self,
        input: impl Read,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "businesses.csv";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        for (line, r) in read_csv::<BusinessRow>(F, input)? {
            text_field(F, line, "name", &r.name, 64)?;
            let village = self.village(F, line, &r.village_code)?;
            let old = self
                .existing
                .businesses
                .get(&(village, r.door_plate.clone()));
            count(old, &mut report);
            items.push(RegistryItem::Business(Business {
                id: old.map_or_else(|| self.ids.next::<BusinessId>(), |b| b.id),
                village,
                name: r.name,
                kind: r.kind,
                owner: r.owner,
                door_plate: r.door_plate,
                location: point(F, line, r.lat, r.lon)?,
            }));
        }
        Ok((items, report))
    }

    fn features(
        file: &'static str,
        input: impl Read,
    ) -> Result<Vec<serde_json::Value>, ImportError> {
        let v: serde_json::Value = serde_json::from_reader(input)
            .map_err(|e| ImportError::Format(format!("{file} is not GeoJSON: {e}")))?;
        match (
            v.get("type").and_then(|t| t.as_str()),
            v.get("features").and_then(|f| f.as_array()),
        ) {
            (Some("FeatureCollection"), Some(f)) => Ok(f.clone()),
            _ => Err(ImportError::Format(format!(
                "{file} must be a GeoJSON FeatureCollection"
            ))),
        }
    }

    fn coords(
        file: &'static str,
        line: usize,
        v: &serde_json::Value,
    ) -> Result<GeoPoint, ImportError> {
        let a = v
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| row_err(file, line, "a position must be [lon, lat]"))?;
        let (lon, lat) = (a[0].as_f64(), a[1].as_f64());
        point(file, line, lat, lon)?
            .ok_or_else(|| row_err(file, line, "a position must be [lon, lat]"))
    }

    fn prop<'v>(
        file: &'static str,
        line: usize,
        f: &'v serde_json::Value,
        name: &str,
    ) -> Result<&'v str, ImportError> {
        f.get("properties")
            .and_then(|p| p.get(name))
            .and_then(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| row_err(file, line, format!("feature has no '{name}' property")))
    }

    pub(crate) fn zones(
        &self,
        input: impl Read,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "zones.geojson";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        for (i, f) in Self::features(F, input)?.iter().enumerate() {
            let n = i + 1;
            let village = self.village(F, n, Self::prop(F, n, f, "village_code")?)?;
            let name = Self::prop(F, n, f, "name")?.to_owned();
            text_field(F, n, "name", &name, 64)?;
            let geom = f
                .get("geometry")
                .ok_or_else(|| row_err(F, n, "feature has no geometry"))?;
            let geometry = match (
                geom.get("type").and_then(|t| t.as_str()),
                geom.get("coordinates"),
            ) {
                (Some("LineString"), Some(c)) => ZoneGeometry::Line(
                    c.as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| Self::coords(F, n, p))
                        .collect::<Result<_, _>>()?,
                ),
                (Some("Polygon"), Some(c)) => ZoneGeometry::Polygon(
                    c.as_array()
                        .and_then(|rings| rings.first())
                        .and_then(|r| r.as_array())
                        .into_iter()
                        .flatten()
                        .map(|p| Self::coords(F, n, p))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(row_err(F, n, "zones must be LineString or Polygon")),
            };
            let (ZoneGeometry::Line(pts) | ZoneGeometry::Polygon(pts)) = &geometry;
            if pts.len() < 2 || pts.len() > 10_000 {
                return Err(row_err(F, n, "a zone needs 2 to 10,000 positions"));
            }
            let old = self.existing.zones.get(&(village, name.clone()));
            count(old, &mut report);
            let passes = f
                .get("properties")
                .and_then(|p| p.get("passes_per_day"))
                .and_then(|v| v.as_u64())
                .unwrap_or(2)
                .clamp(1, 6) as u8;
            items.push(RegistryItem::Zone(Zone {
                id: old.map_or_else(|| self.ids.next::<ZoneId>(), |z| z.id),
                village,
                name,
                kind: ZoneType::CleanerZone,
                geometry,
                passes_per_day: passes,
            }));
        }
        Ok((items, report))
    }

    pub(crate) fn facilities(
        &self,
        input: impl Read,
        zones: &BTreeMap<(VillageId, String), ZoneId>,
    ) -> Result<(Vec<RegistryItem>, ImportReport), ImportError> {
        const F: &str = "facilities.geojson";
        let mut items = Vec::new();
        let mut report = ImportReport::default();
        for (i, f) in Self::features(F, input)?.iter().enumerate() {
            let n = i + 1;
            let village = self.village(F, n, Self::prop(F, n, f, "village_code")?)?;
            let number = Self::prop(F, n, f, "number")?.to_owned();
            text_field(F, n, "number", &number, 32)?;
            let kind: FacilityType = serde_json::from_value(serde_json::Value::String(
                Self::prop(F, n, f, "kind")?.to_owned(),
            ))
            .map_err(|_| {
                row_err(
                    F,
                    n,
                    "kind must be one of BIN, POOL, GARBAGE_ROOM, VILLAGE_TRANSFER …",
                )
            })?;
            let geom = f
                .get("geometry")
                .ok_or_else(|| row_err(F, n, "feature has no geometry"))?;
            if geom.get("type").and_then(|t| t.as_str()) != Some("Point") {
                return Err(row_err(F, n, "facilities must be Points"));
            }
            let location = Self::coords(
                F,
                n,
                geom.get("coordinates").unwrap_or(&serde_json::Value::Null),
            )?;
            let zone = match f
                .get("properties")
                .and_then(|p| p.get("zone"))
                .and_then(|v| v.as_str())
            {
                Some(z) => Some(*zones.get(&(village, z.to_owned())).ok_or_else(|| {
                    row_err(
                        F,
                        n,
                        format!("zone '{z}' is not registered in that village"),
                    )
                })?),
                None => None,
            };
            let old = self.existing.facilities.get(&(village, number.clone()));
            count(old, &mut report);
            items.push(RegistryItem::Facility(Facility {
                id: old.map_or_else(|| self.ids.next::<FacilityId>(), |x| x.id),
                village,
                zone,
                kind,
                number,
                location,
            }));
        }
        Ok((items, report))
    }

    pub(crate) fn people(
        &self,
        input: impl Read,
    ) -> Result<(Vec<Person>, ImportReport), ImportError> {
        const F: &str = "people.csv";
        let mut out = Vec::new();
        let mut report = ImportReport::default();
        for (line, r) in read_csv::<PersonRow>(F, input)? {
            text_field(F, line, "name", &r.name, 32)?;
            let roles = r
                .roles
                .split(';')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    serde_json::from_value::<Role>(serde_json::Value::String(
                        s.trim().to_uppercase(),
                    ))
                    .map_err(|_| row_err(F, line, format!("unknown role '{s}'")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if roles.is_empty() {
                return Err(row_err(F, line, "a person needs at least one role"));
            }
            let old = self.existing.people.get(&r.name);
            count(old, &mut report);
            out.push(Person {
                id: old.map_or_else(|| self.ids.next::<PersonId>(), |p| p.id),
                township: self.township,
                name: r.name,
                phone: r.phone.filter(|p| !p.is_empty()),
                roles,
            });
        }
        Ok((out, report))
    }

    pub(crate) fn assignments(
        &self,
        input: impl Read,
        people: &BTreeMap<String, Person>,
        zones: &BTreeMap<(String, String), ZoneId>,
    ) -> Result<(Vec<Assignment>, ImportReport), ImportError> {
        const F: &str = "assignments.csv";
        let mut out = Vec::new();
        let mut report = ImportReport::default();
        for (line, r) in read_csv::<AssignmentRow>(F, input)? {
            let person = people.get(&r.person).ok_or_else(|| {
                row_err(
                    F,
                    line,
                    format!(
                        "person '{}' is not registered; import people first",
                        r.person
                    ),
                )
            })?;
            if !person.roles.contains(&r.role) {
                return Err(row_err(
                    F,
                    line,
                    format!("{} does not hold the role {:?}", r.person, r.role),
                ));
            }
            let target = if r.role.inspects() {
                let villages = r
                    .villages
                    .split(';')
                    .filter(|s| !s.trim().is_empty())
                    .map(|c| self.village(F, line, c.trim()))
                    .collect::<Result<Vec<_>, _>>()?;
                AssignmentTarget::Villages { villages }
            } else {
                let zs = r
                    .zones
                    .split(';')
                    .filter(|s| !s.trim().is_empty())
                    .map(|z| {
                        let (code, name) = z.trim().split_once('/').ok_or_else(|| {
                            row_err(F, line, "zones are written VILLAGE_CODE/zone name")
                        })?;
                        zones
                            .get(&(code.to_owned(), name.to_owned()))
                            .copied()
                            .ok_or_else(|| {
                                row_err(F, line, format!("zone '{z}' is not registered"))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                AssignmentTarget::Zones { zones: zs }
            };
            let valid_from: DateTime<Utc> = r
                .valid_from
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
                .ok_or_else(|| row_err(F, line, "bad valid_from"))?;
            report.created += 1;
            let id = AssignmentId::from_uuid(Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("{}|{:?}|{}", person.id, r.role, valid_from).as_bytes(),
            ));
            out.push(Assignment {
                id,
                person: person.id,
                role: r.role,
                target,
                valid_from,
                valid_to: None,
            });
        }
        Ok((out, report))
    }
}
