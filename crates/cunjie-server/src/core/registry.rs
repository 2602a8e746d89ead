//! Writing the registry: townships, people, assignments, places, facilities, templates. Each
//! write bumps the record's server version and appends it to every scope that holds it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cunjie_domain::catalog::Catalog;
use cunjie_domain::ids::{TownshipId, VillageId, ZoneId};
use cunjie_domain::person::{Assignment, AssignmentTarget, Person};
use cunjie_domain::place::{
    AdminVillage, Business, Facility, Household, Township, VillageGroup, Zone,
};
use cunjie_domain::template::{Template, TemplateError};
use serde::Serialize;

use super::{append_change, scalar, scope, ts};
use crate::store::{StorageError, Tx, vals};

/// A registry write that cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The template does not check against the catalog.
    #[error("template cannot be published: {0}")]
    Template(#[from] TemplateError),
    /// A record that does not serialise.
    #[error("record cannot be stored: {0}")]
    Json(#[from] serde_json::Error),
    /// A reference to something the server does not have.
    #[error("{0} is not registered; import it first")]
    Missing(String),
}

/// A registry record with where it belongs.
#[derive(Debug, Clone)]
pub enum RegistryItem {
    /// A village (township-wide scope).
    Village(AdminVillage),
    /// A group.
    Group(VillageGroup),
    /// A household.
    Household(Household),
    /// A business.
    Business(Business),
    /// A zone.
    Zone(Zone),
    /// A facility.
    Facility(Facility),
}

impl RegistryItem {
    fn parts(&self) -> (&'static str, String, Option<VillageId>, Option<ZoneId>) {
        match self {
            Self::Village(v) => ("village", v.id.to_string(), None, None),
            Self::Group(g) => ("group", g.id.to_string(), Some(g.village), None),
            Self::Household(h) => ("household", h.id.to_string(), Some(h.village), None),
            Self::Business(b) => ("business", b.id.to_string(), Some(b.village), None),
            Self::Zone(z) => ("zone", z.id.to_string(), Some(z.village), Some(z.id)),
            Self::Facility(f) => ("facility", f.id.to_string(), Some(f.village), f.zone),
        }
    }

    fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::Village(v) => serde_json::to_value(v),
            Self::Group(g) => serde_json::to_value(g),
            Self::Household(h) => serde_json::to_value(h),
            Self::Business(b) => serde_json::to_value(b),
            Self::Zone(z) => serde_json::to_value(z),
            Self::Facility(f) => serde_json::to_value(f),
        }
    }
}

/// The scopes a registry record is published to.
pub(crate) fn scopes_of(
    entity: &str,
    township: TownshipId,
    village: Option<VillageId>,
    zone: Option<ZoneId>,
) -> Vec<String> {
    let mut out = Vec::new();
    match entity {
        "village" => out.push(scope::township(township)),
        _ => {
            if let Some(v) = village {
                out.push(scope::village(v));
            }
            if let Some(z) = zone {
                out.push(scope::zone(z));
            }
        }
    }
    out
}

/// Creates a township (idempotent on its code).
pub(crate) fn put_township(
    tx: &mut dyn Tx,
    t: &Township,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    tx.exec(
        "INSERT INTO township (id, code, name, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        vals![t.id.to_string(), &t.code, &t.name, ts(now)],
    )?;
    Ok(())
}

/// Creates or replaces a person.
pub(crate) fn put_person(tx: &mut dyn Tx, p: &Person) -> Result<(), StorageError> {
    tx.exec(
        "INSERT INTO person (id, township_id, name, row_json) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, row_json = excluded.row_json",
        vals![
            p.id.to_string(),
            p.township.to_string(),
            &p.name,
            serde_json::to_string(p)?
        ],
    )?;
    Ok(())
}

/// Creates or replaces an assignment, publishing it to the person's scope.
pub(crate) fn put_assignment(tx: &mut dyn Tx, a: &Assignment) -> Result<(), StorageError> {
    let json = serde_json::to_string(a)?;
    tx.exec(
        "INSERT INTO assignment (id, person_id, role, valid_from, valid_to, row_json) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET valid_from = excluded.valid_from, valid_to = excluded.valid_to, row_json = excluded.row_json",
        vals![a.id.to_string(), a.person.to_string(), serde_json::to_value(a.role)?.as_str().unwrap_or_default(), ts(a.valid_from), a.valid_to.map(ts), &json],
    )?;
    append_change(
        tx,
        &scope::person(a.person),
        "assignment",
        &a.id.to_string(),
        1,
        Some(&json),
    )?;
    Ok(())
}

/// Assignments of a person.
pub(crate) fn assignments_of(
    tx: &mut dyn Tx,
    person: &str,
) -> Result<Vec<Assignment>, StorageError> {
    tx.query(
        "SELECT row_json FROM assignment WHERE person_id = $1 ORDER BY valid_from, id",
        vals![person],
    )?
    .into_iter()
    .map(|r| {
        Ok(serde_json::from_str(&crate::store::text(
            &r, 0, "row_json",
        )?)?)
    })
    .collect()
}

/// The villages and zones an assignment list covers at `at`.
pub(crate) fn covered_at(
    assignments: &[Assignment],
    at: DateTime<Utc>,
) -> (Vec<VillageId>, Vec<ZoneId>) {
    let (mut villages, mut zones) = (Vec::new(), Vec::new());
    for a in assignments.iter().filter(|a| a.valid_at(at)) {
        match &a.target {
            AssignmentTarget::Villages { villages: v } => villages.extend(v.iter().copied()),
            AssignmentTarget::Zones { zones: z } => zones.extend(z.iter().copied()),
        }
    }
    villages.sort();
    villages.dedup();
    zones.sort();
    zones.dedup();
    (villages, zones)
}

/// Writes a registry record from the township office (import, admin edit): the office's
/// values win, every field's version moves, and the record goes to its scopes.
pub(crate) fn put_record(
    tx: &mut dyn Tx,
    township: TownshipId,
    item: &RegistryItem,
    now: DateTime<Utc>,
) -> Result<i64, RegistryError> {
    let (entity, id, village, zone) = item.parts();
    let row = item.json()?;
    let current = record(tx, entity, &id)?;
    let version = current.as_ref().map_or(0, |c| c.1) + 1;
    let hlc = office_hlc(now);
    // Only fields whose value changes get the new version, so a phone's edit of another field
    // is not mistaken for a conflict.
    let mut fields: BTreeMap<String, FieldVersion> =
        current.as_ref().map(|c| c.2.clone()).unwrap_or_default();
    if let Some(obj) = row.as_object() {
        for (k, v) in obj {
            let unchanged = current.as_ref().is_some_and(|c| c.0.get(k) == Some(v));
            if !unchanged || !fields.contains_key(k) {
                fields.insert(k.clone(), FieldVersion { v: version, h: hlc });
            }
        }
    }
    let json = row.to_string();
    tx.exec(
        "INSERT INTO record (entity, id, township_id, village_id, zone_id, server_version, field_versions, row_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (entity, id) DO UPDATE SET village_id = excluded.village_id, zone_id = excluded.zone_id,
           server_version = excluded.server_version, field_versions = excluded.field_versions, row_json = excluded.row_json",
        vals![entity, &id, township.to_string(), village.map(|v| v.to_string()), zone.map(|z| z.to_string()), version, serde_json::to_string(&fields)?, &json],
    )?;
    for s in scopes_of(entity, township, village, zone) {
        append_change(tx, &s, entity, &id, version, Some(&json))?;
    }
    Ok(version)
}

/// Publishes a template version after checking it against the catalog.
pub(crate) fn put_template(
    tx: &mut dyn Tx,
    township: TownshipId,
    t: &Template,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    t.check(Catalog::builtin())?;
    let json = serde_json::to_string(t)?;
    let inserted = tx.exec(
        "INSERT INTO template (id, version, township_id, code, published_at, row_json) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id, version) DO NOTHING",
        vals![t.id.to_string(), t.version, township.to_string(), &t.code, ts(now), &json],
    )?;
    if inserted == 1 {
        append_change(
            tx,
            &scope::township(township),
            "template",
            &t.id.to_string(),
            i64::from(t.version),
            Some(&json),
        )?;
    }
    Ok(())
}

/// A template version, if published.
pub(crate) fn template(
    tx: &mut dyn Tx,
    id: &str,
    version: u32,
) -> Result<Option<Template>, StorageError> {
    let v = scalar(
        tx,
        "SELECT row_json FROM template WHERE id = $1 AND version = $2",
        vals![id, version],
    )?;
    v.and_then(|v| v.text().map(str::to_owned))
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Into::into)
}

/// The version and clock of the last write of one field of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct FieldVersion {
    /// Record version that last changed the field.
    pub(crate) v: i64,
    /// Packed HLC of that change (office writes use the server clock).
    pub(crate) h: i64,
}

/// The HLC the township office's own writes carry: the server clock, counter 0.
pub(crate) fn office_hlc(now: DateTime<Utc>) -> i64 {
    now.timestamp_millis().max(0) << 16
}

/// A stored registry record: its JSON, version, per-field versions and township.
pub(crate) type StoredRecord = (
    serde_json::Value,
    i64,
    BTreeMap<String, FieldVersion>,
    String,
);

/// A registry record's JSON and version.
pub(crate) fn record(
    tx: &mut dyn Tx,
    entity: &str,
    id: &str,
) -> Result<Option<StoredRecord>, StorageError> {
    let rows = tx.query("SELECT row_json, server_version, field_versions, township_id FROM record WHERE entity = $1 AND id = $2", vals![entity, id])?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((
        serde_json::from_str(&crate::store::text(&r, 0, "row_json")?)?,
        crate::store::int(&r, 1, "server_version")?,
        serde_json::from_str(&crate::store::text(&r, 2, "field_versions")?)?,
        crate::store::text(&r, 3, "township_id")?,
    )))
}
