//! Applying pulled pages: each page and its cursor in one transaction, so a crash can never
//! leave a page half-applied or skipped. Local edits still waiting in the outbox win over the
//! pulled row for the fields they touch.

use std::collections::BTreeMap;

use cunjie_domain::fact::{CleanerRound, Inspection, RectificationOrder};
use cunjie_domain::place::Household;
use cunjie_domain::template::Template;
use cunjie_protocol::v1::{Change, EntityKind, Op, PullPage};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::db::{Store, now_text, ts};
use crate::error::StoreError;
use crate::rectification::upsert_rectification;
use crate::registry::{insert_template, merge_fields, upsert_household, upsert_record};

/// What applying a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Changes applied.
    pub applied: u64,
    /// Changes whose fields were partly kept from pending local edits.
    pub kept_local: u64,
    /// The scope was reset (new epoch) before applying.
    pub reset: bool,
}

/// Field edits to `entity_id` still waiting in the outbox, oldest first, merged.
fn pending_fields(
    tx: &Transaction<'_>,
    entity_id: &str,
) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT payload FROM outbox WHERE entity_id = ?1 AND op = 'update_fields' ORDER BY seq",
    )?;
    let rows = stmt.query_map([entity_id], |r| r.get::<_, String>(0))?;
    let mut merged = BTreeMap::new();
    for r in rows {
        if let Op::UpdateFields { fields, .. } = serde_json::from_str(&r?)? {
            merged.extend(fields);
        }
    }
    Ok(merged)
}

fn apply_change(tx: &Transaction<'_>, scope: &str, c: &Change) -> Result<bool, StoreError> {
    let id = c.id.to_string();
    let Some(row) = &c.row else {
        // Tombstone: the record left this scope or was voided.
        match c.entity {
            EntityKind::Household => tx.execute("DELETE FROM household WHERE id = ?1", [&id])?,
            EntityKind::Rectification => {
                tx.execute("DELETE FROM rectification WHERE id = ?1", [&id])?
            }
            EntityKind::Template | EntityKind::Inspection | EntityKind::Round => 0,
            other => tx.execute(
                "DELETE FROM registry_record WHERE entity = ?1 AND id = ?2",
                params![other.as_str(), id],
            )?,
        };
        return Ok(false);
    };
    let mut kept = false;
    match c.entity {
        EntityKind::Household => {
            let local = pending_fields(tx, &id)?;
            let mut row = row.clone();
            let h: Household = if local.is_empty() {
                serde_json::from_value(row)?
            } else {
                kept = true;
                merge_fields(&mut row, &local)?
            };
            upsert_household(tx, &h, scope, c.server_version)?;
        }
        EntityKind::Template => {
            let t: Template = serde_json::from_value(row.clone())?;
            insert_template(tx, &t, scope)?;
        }
        EntityKind::Rectification => {
            let pending: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM outbox WHERE entity_id = ?1 LIMIT 1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            if pending.is_some() {
                // The phone's own step is on its way; the next pull after the ack brings the truth.
                kept = true;
            } else {
                let o: RectificationOrder = serde_json::from_value(row.clone())?;
                upsert_rectification(tx, &o, c.server_version, Some(scope))?;
            }
        }
        EntityKind::Inspection => {
            let i: Inspection = serde_json::from_value(row.clone())?;
            insert_pulled_fact(
                tx,
                scope,
                &id,
                "inspection",
                &i.subject.id.to_string(),
                Some(i.village.to_string()),
                &i.inspector.to_string(),
                i.submitted_at.map(ts),
                row,
            )?;
        }
        EntityKind::Round => {
            let r: CleanerRound = serde_json::from_value(row.clone())?;
            insert_pulled_fact(
                tx,
                scope,
                &id,
                "round",
                &r.zone.to_string(),
                None,
                &r.cleaner.to_string(),
                r.ended_at.map(ts),
                row,
            )?;
        }
        other => {
            let local = pending_fields(tx, &id)?;
            let mut row = row.clone();
            if !local.is_empty() {
                kept = true;
                merge_fields::<serde_json::Value>(&mut row, &local)?;
            }
            upsert_record(tx, other, c.id, &row, scope, c.server_version)?;
        }
    }
    Ok(kept)
}

#[allow(clippy::too_many_arguments, reason = "one row of the fact table")]
fn insert_pulled_fact(
    tx: &Transaction<'_>,
    scope: &str,
    id: &str,
    kind: &str,
    subject: &str,
    village: Option<String>,
    author: &str,
    submitted_at: Option<String>,
    row: &serde_json::Value,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO fact (id, kind, subject_id, village_id, author_id, submitted_at, origin, row_json, scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pulled', ?7, ?8) ON CONFLICT (id) DO NOTHING",
        params![id, kind, subject, village, author, submitted_at.unwrap_or_default(), row.to_string(), scope],
    )?;
    Ok(())
}

/// Deletes the synced rows of a scope: households, other registry records, templates, pulled
/// facts, and rectifications with no step still waiting in the outbox. Never the outbox,
/// drafts, photos or the device's own facts. Returns the number of rows deleted.
pub(crate) fn wipe_scope(tx: &Transaction<'_>, scope: &str) -> Result<u64, StoreError> {
    let mut n = 0;
    for table in ["household", "registry_record", "template"] {
        n += tx.execute(&format!("DELETE FROM {table} WHERE scope = ?1"), [scope])?;
    }
    n += tx.execute(
        "DELETE FROM fact WHERE scope = ?1 AND origin = 'pulled'",
        [scope],
    )?;
    n += tx.execute(
        "DELETE FROM rectification WHERE scope = ?1 AND id NOT IN (SELECT entity_id FROM outbox)",
        [scope],
    )?;
    Ok(n as u64)
}

impl Store {
    /// Every stored cursor as `(scope, after, epoch)`, by scope: what the phone holds, for the
    /// pull planner.
    pub fn cursors(&self) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT scope, after, epoch FROM sync_cursor ORDER BY scope")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (scope, after, epoch) = r?;
            Ok((scope, after as u64, epoch as u64))
        })
        .collect()
    }

    /// The cursor of a scope: `(after, epoch)`, or `(0, 0)` before the first pull.
    pub fn cursor(&self, scope: &str) -> Result<(u64, u64), StoreError> {
        let c: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT after, epoch FROM sync_cursor WHERE scope = ?1",
                [scope],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(c.map_or((0, 0), |(a, e)| (a as u64, e as u64)))
    }

    /// Applies one pulled page and moves the scope's cursor, in one transaction. A page from a
    /// new epoch first wipes the scope's synced rows (never the outbox, drafts or own facts).
    pub fn apply_pull_page(&mut self, page: &PullPage) -> Result<ApplyOutcome, StoreError> {
        let now = now_text(self.clock.as_ref());
        let tx = self.conn.transaction()?;
        let stored: Option<i64> = tx
            .query_row(
                "SELECT epoch FROM sync_cursor WHERE scope = ?1",
                [&page.scope],
                |r| r.get(0),
            )
            .optional()?;
        let mut outcome = ApplyOutcome::default();
        if stored.is_some_and(|e| e as u64 != page.epoch) {
            wipe_scope(&tx, &page.scope)?;
            outcome.reset = true;
        }
        for c in &page.changes {
            if apply_change(&tx, &page.scope, c)? {
                outcome.kept_local += 1;
            }
            outcome.applied += 1;
            failpoint!("phone::pull_page_mid");
        }
        tx.execute(
            "INSERT INTO sync_cursor (scope, after, epoch, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope) DO UPDATE SET after = excluded.after, epoch = excluded.epoch, updated_at = excluded.updated_at",
            params![page.scope, page.next_after as i64, page.epoch as i64, now],
        )?;
        tx.commit()?;
        Ok(outcome)
    }
}
