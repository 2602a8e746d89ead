//! The server's rules, written once against [`crate::store::Tx`] for every backend.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod photos;
pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod registry;
pub(crate) mod scoring;

use chrono::{DateTime, SecondsFormat, Utc};
use cunjie_domain::ids::{DeviceId, PersonId, TownshipId, VillageId, ZoneId};
use cunjie_domain::person::Role;
use sha2::{Digest, Sha256};

use crate::store::{StorageError, Tx, Value, int, vals};

/// The authenticated device behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCtx {
    /// Device id.
    pub id: DeviceId,
    /// Township.
    pub township: TownshipId,
    /// Person.
    pub person: PersonId,
    /// Role it was enrolled in.
    pub role: Role,
}

/// RFC 3339 with milliseconds, UTC: how the server stores instants.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Hex SHA-256 (tokens and codes are stored only as this).
pub(crate) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Random bytes from the OS, as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scope names.
pub(crate) mod scope {
    use super::*;

    /// Everything township-wide every device needs (villages, templates).
    pub(crate) fn township(t: TownshipId) -> String {
        format!("township:{t}")
    }
    /// A village's registry, inspections and rectifications.
    pub(crate) fn village(v: VillageId) -> String {
        format!("village:{v}")
    }
    /// A cleaner's zone: the zone, its facilities, its rounds.
    pub(crate) fn zone(z: ZoneId) -> String {
        format!("zone:{z}")
    }
    /// One person's own things: assignments, rectifications assigned to them.
    pub(crate) fn person(p: PersonId) -> String {
        format!("person:{p}")
    }
}

/// Appends one change to a scope's log, allocating the next dense seq inside the transaction
/// (the counter row's lock orders writers, so commit order equals seq order).
pub(crate) fn append_change(
    tx: &mut dyn Tx,
    scope: &str,
    entity: &str,
    entity_id: &str,
    server_version: i64,
    row: Option<&str>,
) -> Result<i64, StorageError> {
    let rows = tx.query(
        "INSERT INTO scope_counter (scope, seq, epoch) VALUES ($1, 1, 1)
         ON CONFLICT (scope) DO UPDATE SET seq = scope_counter.seq + 1
         RETURNING seq",
        vals![scope],
    )?;
    let seq = rows
        .first()
        .map(|r| int(r, 0, "seq"))
        .transpose()?
        .ok_or(StorageError::Column("seq"))?;
    tx.exec(
        "INSERT INTO change_log (scope, seq, entity, entity_id, server_version, row_json) VALUES ($1, $2, $3, $4, $5, $6)",
        vals![scope, seq, entity, entity_id, server_version, row.map(str::to_owned)],
    )?;
    Ok(seq)
}

/// The value of a single-column, single-row query, if any.
pub(crate) fn scalar(
    tx: &mut dyn Tx,
    sql: &str,
    params: &[Value],
) -> Result<Option<Value>, StorageError> {
    Ok(tx
        .query(sql, params)?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next()))
}
