//! The registry this device holds: households (searchable), other places and people, and
//! checklist templates. Rows arrive by pull; a person may edit a few registry fields, which is
//! a user-visible write with an outbox row.

use std::collections::BTreeMap;

use cunjie_domain::geo::distance_m;
use cunjie_domain::ids::{HouseholdId, MutationId, VillageId};
use cunjie_domain::place::{GeoPoint, Household};
use cunjie_domain::template::Template;
use cunjie_protocol::v1::{EntityKind, Op};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::db::{Store, enqueue};
use crate::error::StoreError;

/// A household as this device holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdRow {
    /// The household.
    pub household: Household,
    /// The server version this row is based on.
    pub server_version: u64,
}

fn household_from_row(row: &Row<'_>) -> rusqlite::Result<(String, i64)> {
    Ok((row.get("row_json")?, row.get("server_version")?))
}

fn decode_household((json, version): (String, i64)) -> Result<HouseholdRow, StoreError> {
    Ok(HouseholdRow {
        household: serde_json::from_str(&json)?,
        server_version: version as u64,
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn upsert_household(
    tx: &Transaction<'_>,
    h: &Household,
    scope: &str,
    version: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO household (id, village_id, group_id, head_name, door_plate, roadside, lat, lon, scope, server_version, row_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET village_id = excluded.village_id, group_id = excluded.group_id,
           head_name = excluded.head_name, door_plate = excluded.door_plate, roadside = excluded.roadside,
           lat = excluded.lat, lon = excluded.lon, scope = excluded.scope,
           server_version = excluded.server_version, row_json = excluded.row_json",
        params![
            h.id.to_string(),
            h.village.to_string(),
            h.group.to_string(),
            h.head_name,
            h.door_plate,
            h.roadside,
            h.location.map(|p| p.lat),
            h.location.map(|p| p.lon),
            scope,
            version as i64,
            serde_json::to_string(h)?,
        ],
    )?;
    Ok(())
}

pub(crate) fn upsert_record(
    tx: &Transaction<'_>,
    entity: EntityKind,
    id: Uuid,
    row: &serde_json::Value,
    scope: &str,
    version: u64,
) -> Result<(), StoreError> {
    let village = row
        .get("village")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    tx.execute(
        "INSERT INTO registry_record (entity, id, village_id, scope, server_version, row_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (entity, id) DO UPDATE SET village_id = excluded.village_id, scope = excluded.scope,
           server_version = excluded.server_version, row_json = excluded.row_json",
        params![entity.as_str(), id.to_string(), village, scope, version as i64, row.to_string()],
    )?;
    Ok(())
}

pub(crate) fn insert_template(
    tx: &Transaction<'_>,
    t: &Template,
    scope: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO template (id, version, code, subject, scope, row_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id, version) DO UPDATE SET scope = excluded.scope, row_json = excluded.row_json",
        params![
            t.id.to_string(),
            t.version,
            t.code,
            serde_json::to_value(t.subject)?.as_str().unwrap_or_default(),
            scope,
            serde_json::to_string(t)?,
        ],
    )?;
    Ok(())
}

/// Applies field edits to a JSON record, checking they still decode as `T`.
pub(crate) fn merge_fields<T: DeserializeOwned>(
    row: &mut serde_json::Value,
    fields: &BTreeMap<String, serde_json::Value>,
) -> Result<T, StoreError> {
    if let Some(obj) = row.as_object_mut() {
        for (k, v) in fields {
            obj.insert(k.clone(), v.clone());
        }
    }
    Ok(serde_json::from_value(row.clone())?)
}

/// Fields of a household a person may edit on the phone.
pub const HOUSEHOLD_EDITABLE: [&str; 5] =
    ["head_name", "door_plate", "members", "roadside", "location"];

impl Store {
    /// One household.
    pub fn household(&self, id: HouseholdId) -> Result<HouseholdRow, StoreError> {
        let raw = self
            .conn
            .query_row(
                "SELECT row_json, server_version FROM household WHERE id = ?1",
                [id.to_string()],
                household_from_row,
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "household",
                id: id.to_string(),
            })?;
        decode_household(raw)
    }

    /// Households of a village, optionally of one group, ordered by door plate.
    pub fn households_in(
        &self,
        village: VillageId,
        group: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<HouseholdRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json, server_version FROM household
             WHERE village_id = ?1 AND (?2 IS NULL OR group_id = ?2)
             ORDER BY door_plate LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(
            params![village.to_string(), group, limit, offset],
            household_from_row,
        )?;
        rows.map(|r| decode_household(r?)).collect()
    }

    /// Households whose head's name or door-plate number contains `query` (a few characters
    /// are enough: an inspector types little). Door-plate prefix matches come first.
    pub fn search_households(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<HouseholdRow>, StoreError> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(vec![]);
        }
        let pattern = format!("%{}%", like_escape(q));
        let prefix = format!("{}%", like_escape(q));
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json, server_version FROM household
             WHERE head_name LIKE ?1 ESCAPE '\\' OR door_plate LIKE ?1 ESCAPE '\\'
             ORDER BY (door_plate LIKE ?2 ESCAPE '\\') DESC, door_plate LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![pattern, prefix, limit], household_from_row)?;
        rows.map(|r| decode_household(r?)).collect()
    }

    /// The `limit` households nearest to `at` within `radius_m`, nearest first, with distances.
    pub fn households_near(
        &self,
        at: GeoPoint,
        radius_m: f64,
        limit: usize,
    ) -> Result<Vec<(HouseholdRow, f64)>, StoreError> {
        let dlat = radius_m / 111_195.0;
        let dlon = dlat / at.lat.to_radians().cos().abs().max(0.01);
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json, server_version FROM household
             WHERE lat BETWEEN ?1 AND ?2 AND lon BETWEEN ?3 AND ?4",
        )?;
        let rows = stmt.query_map(
            params![at.lat - dlat, at.lat + dlat, at.lon - dlon, at.lon + dlon],
            household_from_row,
        )?;
        let mut found = Vec::new();
        for r in rows {
            let row = decode_household(r?)?;
            if let Some(p) = row.household.location {
                let d = distance_m(at, p);
                if d <= radius_m {
                    found.push((row, d));
                }
            }
        }
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        found.truncate(limit);
        Ok(found)
    }

    /// A registry record (village, zone, facility, person …) decoded as `T`.
    pub fn record<T: DeserializeOwned>(
        &self,
        entity: EntityKind,
        id: Uuid,
    ) -> Result<T, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM registry_record WHERE entity = ?1 AND id = ?2",
                params![entity.as_str(), id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: entity.as_str(),
                id: id.to_string(),
            })?;
        Ok(serde_json::from_str(&json)?)
    }

    /// All registry records of a kind, optionally only of one village.
    pub fn records<T: DeserializeOwned>(
        &self,
        entity: EntityKind,
        village: Option<VillageId>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json FROM registry_record WHERE entity = ?1 AND (?2 IS NULL OR village_id = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(
            params![entity.as_str(), village.map(|v| v.to_string())],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// The newest version of the template with this code.
    pub fn template_by_code(&self, code: &str) -> Result<Template, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM template WHERE code = ?1 ORDER BY version DESC LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "template",
                id: code.to_owned(),
            })?;
        Ok(serde_json::from_str(&json)?)
    }

    /// One exact template version.
    pub fn template(
        &self,
        r: cunjie_domain::template::TemplateRef,
    ) -> Result<Template, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM template WHERE id = ?1 AND version = ?2",
                params![r.id.to_string(), r.version],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "template",
                id: format!("{}@{}", r.id, r.version),
            })?;
        Ok(serde_json::from_str(&json)?)
    }

    /// Edits some fields of a household (e.g. a new door plate). One transaction: the local row
    /// and its outbox row, based on the server version the phone had.
    pub fn update_household_fields(
        &mut self,
        id: HouseholdId,
        fields: BTreeMap<String, serde_json::Value>,
    ) -> Result<u64, StoreError> {
        if let Some(bad) = fields
            .keys()
            .find(|k| !HOUSEHOLD_EDITABLE.contains(&k.as_str()))
        {
            return Err(StoreError::FieldNotEditable(bad.clone()));
        }
        let mutation_id: MutationId = self.ids.next();
        let tx = self.conn.transaction()?;
        let (json, version, scope): (String, i64, String) = tx
            .query_row(
                "SELECT row_json, server_version, scope FROM household WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "household",
                id: id.to_string(),
            })?;
        let mut row: serde_json::Value = serde_json::from_str(&json)?;
        let updated: Household = merge_fields(&mut row, &fields)?;
        upsert_household(&tx, &updated, &scope, version as u64)?;
        let op = Op::UpdateFields {
            entity: EntityKind::Household,
            id: *id.as_uuid(),
            fields,
        };
        let seq = enqueue(
            &tx,
            self.clock.as_ref(),
            mutation_id,
            &op,
            Some(version as u64),
        )?;
        tx.commit()?;
        Ok(seq)
    }
}
