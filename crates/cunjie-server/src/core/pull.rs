//! Scopes and pulling (sync.md §5.5). A device's scopes come from its enrollment and its
//! person's current assignments, never from what the phone asks for.

use chrono::{DateTime, Utc};
use cunjie_protocol::v1::{Change, EntityKind, OPTIONAL_ENTITIES, PullPage, ScopeInfo, ScopeList};
use uuid::Uuid;

use super::registry::{assignments_of, covered_at};
use super::{DeviceCtx, scope};
use crate::store::{StorageError, Tx, int, opt_text, text, vals};

/// The most changes one page carries.
pub(crate) const MAX_PAGE: u32 = 1_000;

/// Pull refusals.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The scope is not one of the device's.
    #[error("scope '{0}' is not one of this device's scopes; ask GET /api/v1/sync/scopes")]
    NotYourScope(String),
}

/// The scope names of a device now.
pub(crate) fn scope_names(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StorageError> {
    let assignments = assignments_of(tx, &dev.person.to_string())?;
    let (villages, zones) = covered_at(&assignments, now);
    let mut names = vec![scope::township(dev.township), scope::person(dev.person)];
    if dev.role.inspects() {
        names.extend(villages.into_iter().map(scope::village));
    }
    if dev.role.cleans() {
        names.extend(zones.into_iter().map(scope::zone));
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The device's scopes with their epochs and heads.
pub(crate) fn scopes(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    now: DateTime<Utc>,
) -> Result<ScopeList, StorageError> {
    let mut scopes = Vec::new();
    for name in scope_names(tx, dev, now)? {
        let rows = tx.query(
            "SELECT seq, epoch FROM scope_counter WHERE scope = $1",
            vals![&name],
        )?;
        let (head, epoch) = match rows.first() {
            Some(r) => (int(r, 0, "seq")? as u64, int(r, 1, "epoch")? as u64),
            None => (0, 1),
        };
        scopes.push(ScopeInfo {
            scope: name,
            epoch,
            head,
        });
    }
    Ok(ScopeList {
        scopes,
        server_time_ms: now.timestamp_millis(),
    })
}

fn entity_kind(s: &str) -> Result<EntityKind, StorageError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StorageError::Column("entity"))
}

/// The optional kinds a phone asked for by name (unknown names are ignored: a newer phone may
/// know kinds this server does not).
pub(crate) fn optional_kinds(with: Option<&str>) -> Vec<EntityKind> {
    with.unwrap_or("")
        .split(',')
        .filter_map(|w| {
            OPTIONAL_ENTITIES
                .iter()
                .copied()
                .find(|k| k.as_str() == w.trim())
        })
        .collect()
}

/// One page of a scope after `after`. If the phone's epoch is not the scope's, the page starts
/// again from 0 in the current epoch (the phone wipes the scope first).
#[allow(
    clippy::too_many_arguments,
    reason = "the pull query's parameters, one each"
)]
pub(crate) fn pull(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    scope_name: &str,
    after: u64,
    epoch: Option<u64>,
    limit: u32,
    with: &[EntityKind],
    now: DateTime<Utc>,
) -> Result<PullPage, PullError> {
    if !scope_names(tx, dev, now)?.iter().any(|s| s == scope_name) {
        return Err(PullError::NotYourScope(
            scope_name.chars().take(100).collect(),
        ));
    }
    let rows = tx.query(
        "SELECT seq, epoch FROM scope_counter WHERE scope = $1",
        vals![scope_name],
    )?;
    let (head, current_epoch) = match rows.first() {
        Some(r) => (int(r, 0, "seq")? as u64, int(r, 1, "epoch")? as u64),
        None => (0, 1),
    };
    let after = if epoch.is_some_and(|e| e != current_epoch) {
        0
    } else {
        after
    };
    let limit = limit.clamp(1, MAX_PAGE);
    let rows = tx.query(
        "SELECT seq, entity, entity_id, server_version, row_json FROM change_log WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        vals![scope_name, after, limit],
    )?;
    let mut changes = Vec::with_capacity(rows.len());
    // The cursor moves past the rows a phone did not ask for, too.
    let last_seq = rows
        .last()
        .map(|r| int(r, 0, "seq"))
        .transpose()?
        .map_or(after, |s| s as u64);
    for r in rows {
        let entity = entity_kind(&text(&r, 1, "entity")?)?;
        if OPTIONAL_ENTITIES.contains(&entity) && !with.contains(&entity) {
            continue;
        }
        let row = opt_text(&r, 4)
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(StorageError::from)?;
        changes.push(Change {
            seq: int(&r, 0, "seq")? as u64,
            entity,
            id: Uuid::parse_str(&text(&r, 2, "entity_id")?)
                .map_err(|_| StorageError::Column("entity_id"))?,
            server_version: int(&r, 3, "server_version")? as u64,
            row,
        });
    }
    let next_after = last_seq;
    Ok(PullPage {
        scope: scope_name.to_owned(),
        epoch: current_epoch,
        changes,
        next_after,
        up_to_date: next_after >= head,
    })
}
