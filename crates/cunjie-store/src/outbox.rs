//! The outbox: mutations waiting for the server, and what happens when it answers.

use chrono::{DateTime, Utc};
use cunjie_domain::ids::{DeviceId, MutationId};
use cunjie_protocol::v1::{Mutation, MutationStatus, Op, PushResponse};
use rusqlite::{Connection, OptionalExtension, params};

use crate::db::{Store, now_text, parse_uuid, ts};
use crate::error::StoreError;

/// Where a submitted record is in sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// Waiting in the outbox.
    Pending,
    /// Accepted by the server.
    Synced,
    /// Refused by the server, with its reason; shown to the person as "sent back".
    Rejected {
        /// Stable code.
        code: String,
        /// Reason in words.
        reason: String,
    },
}

impl SyncState {
    /// Chinese label for the history screen.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Pending => "待同步",
            Self::Synced => "已同步",
            Self::Rejected { .. } => "被退回",
        }
    }
}

pub(crate) fn sync_state(conn: &Connection, entity_id: &str) -> Result<SyncState, StoreError> {
    let pending: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM outbox WHERE entity_id = ?1 LIMIT 1",
            [entity_id],
            |r| r.get(0),
        )
        .optional()?;
    if pending.is_some() {
        return Ok(SyncState::Pending);
    }
    let acked: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT status, reject_code, reject_reason FROM acked_log WHERE entity_id = ?1 ORDER BY seq DESC LIMIT 1",
            [entity_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match acked {
        Some((status, code, reason)) if status == "rejected" => SyncState::Rejected {
            code: code.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        },
        Some(_) => SyncState::Synced,
        // Pulled facts and records that never went through this outbox.
        None => SyncState::Synced,
    })
}

/// What is waiting, for the sync badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCounts {
    /// Mutations in the outbox.
    pub records: u64,
    /// Photos not yet confirmed by the server.
    pub photos: u64,
    /// When the server last acknowledged something (RFC 3339), if ever.
    pub last_ack: Option<String>,
}

impl Store {
    /// Up to `limit` pending mutations in seq order, ready to push.
    pub fn pending_mutations(&self, limit: u32) -> Result<Vec<Mutation>, StoreError> {
        self.read_mutations(
            "SELECT seq, mutation_id, payload, hlc, base_version, schema_version, created_at FROM outbox
             WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
            0,
            i64::MAX,
            limit,
        )
    }

    /// Acknowledged mutations with `from <= seq <= through`, in seq order, exactly as they
    /// were first pushed: for replay when the server was restored from a backup and asks for
    /// seqs it already acknowledged once (sync.md §5.8). Kept 30 days (see
    /// [`Store::prune_acked`]); a gap in the answer means some were pruned.
    pub fn acked_mutations(
        &self,
        from: u64,
        through: u64,
        limit: u32,
    ) -> Result<Vec<Mutation>, StoreError> {
        self.read_mutations(
            "SELECT seq, mutation_id, payload, hlc, base_version, schema_version, created_at FROM acked_log
             WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
            i64::try_from(from).unwrap_or(i64::MAX),
            i64::try_from(through).unwrap_or(i64::MAX),
            limit,
        )
    }

    fn read_mutations(
        &self,
        sql: &str,
        from: i64,
        through: i64,
        limit: u32,
    ) -> Result<Vec<Mutation>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        type Row = (i64, String, String, i64, Option<i64>, u32, String);
        let rows: Vec<Row> = stmt
            .query_map(params![from, through, limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(seq, mid, payload, hlc, base, schema, created_at)| {
                Ok(Mutation {
                    device_id: self.device,
                    seq: seq as u64,
                    mutation_id: MutationId::from_uuid(parse_uuid(&mid, "mutation")?),
                    base_version: base.map(|b| b as u64),
                    hlc: hlc as u64,
                    schema_version: schema,
                    // The phone's own clock when it made the mutation (written by `enqueue`).
                    device_time: chrono::DateTime::parse_from_rfc3339(&created_at)
                        .ok()
                        .map(|t| t.with_timezone(&chrono::Utc)),
                    payload: serde_json::from_str::<Op>(&payload)?,
                })
            })
            .collect()
    }

    /// Counts for the sync badge.
    pub fn pending_counts(&self) -> Result<PendingCounts, StoreError> {
        let (records, photos, last_ack): (i64, i64, Option<String>) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM photo WHERE state != 'done'), (SELECT max(acked_at) FROM acked_log)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(PendingCounts {
            records: records as u64,
            photos: photos as u64,
            last_ack,
        })
    }

    /// Applies the server's answer to a push in one transaction: settled mutations move from the
    /// outbox to the acknowledged log (with their result), local records take the server
    /// versions, and the clock offset is learned. Seqs the response does not cover stay pending.
    pub fn apply_push_response(
        &mut self,
        device: DeviceId,
        resp: &PushResponse,
    ) -> Result<u64, StoreError> {
        if device != self.device {
            return Err(StoreError::NotFound {
                entity: "device",
                id: device.to_string(),
            });
        }
        let now = now_text(self.clock.as_ref());
        let offset = resp.server_time_ms.saturating_sub(self.clock.now_ms());
        let tx = self.conn.transaction()?;
        let oldest: Option<i64> = tx.query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
        let mut moved = 0;
        if let Some(oldest) = oldest {
            for r in resp.results.iter().filter(|r| r.seq <= resp.acked_through) {
                let (status, version, code, reason) = match &r.status {
                    MutationStatus::Applied { server_version } => {
                        ("applied", Some(*server_version as i64), None, None)
                    }
                    MutationStatus::Rejected { code, reason } => {
                        ("rejected", None, Some(code.as_str()), Some(reason.as_str()))
                    }
                };
                let n = tx.execute(
                    "INSERT INTO acked_log (seq, mutation_id, entity, entity_id, op, payload, hlc, base_version, schema_version, created_at,
                                            acked_at, status, server_version, reject_code, reject_reason)
                     SELECT seq, mutation_id, entity, entity_id, op, payload, hlc, base_version, schema_version, created_at, ?2, ?3, ?4, ?5, ?6
                     FROM outbox WHERE seq = ?1",
                    params![r.seq as i64, now, status, version, code, reason],
                )?;
                if n == 1 {
                    let (entity, entity_id): (String, String) = tx.query_row(
                        "SELECT entity, entity_id FROM outbox WHERE seq = ?1",
                        [r.seq as i64],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?;
                    tx.execute("DELETE FROM outbox WHERE seq = ?1", [r.seq as i64])?;
                    if let Some(v) = version {
                        match entity.as_str() {
                            "household" => tx.execute("UPDATE household SET server_version = max(server_version, ?2) WHERE id = ?1", params![entity_id, v])?,
                            "rectification" => tx.execute("UPDATE rectification SET server_version = max(server_version, ?2) WHERE id = ?1", params![entity_id, v])?,
                            _ => tx.execute("UPDATE registry_record SET server_version = max(server_version, ?3) WHERE entity = ?1 AND id = ?2", params![entity, entity_id, v])?,
                        };
                    }
                    moved += 1;
                    failpoint!("phone::ack_mid");
                }
            }
            let left: Option<i64> =
                tx.query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
            if let Some(left) = left
                && (left as u64) <= resp.acked_through
            {
                return Err(StoreError::AckMismatch {
                    acked: resp.acked_through,
                    oldest: oldest as u64,
                });
            }
        }
        tx.execute(
            "UPDATE device_state SET hlc_offset_ms = ?1 WHERE id = 1",
            [offset],
        )?;
        tx.commit()?;
        Ok(moved)
    }

    /// Marks mutations as sent (before the request goes out), counting the attempt.
    pub fn mark_in_flight(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for seq in seqs {
            tx.execute(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1 WHERE seq = ?1",
                [*seq as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records why the last push of these mutations failed (shown to the person in words).
    pub fn record_push_error(&mut self, seqs: &[u64], error: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for seq in seqs {
            tx.execute(
                "UPDATE outbox SET last_error = ?2 WHERE seq = ?1",
                params![*seq as i64, error],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Delivery state of a pending mutation: `(in_flight, attempts, last_error)`.
    pub fn delivery(&self, seq: u64) -> Result<(bool, u32, Option<String>), StoreError> {
        self.conn
            .query_row(
                "SELECT state = 'in_flight', attempts, last_error FROM outbox WHERE seq = ?1",
                [seq as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "mutation",
                id: seq.to_string(),
            })
    }

    /// Drops acknowledged mutations older than `before` (kept 30 days for replay after a
    /// server restore).
    pub fn prune_acked(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM acked_log WHERE acked_at < ?1", [ts(before)])?;
        Ok(n as u64)
    }

    /// Whether an entity has mutations still waiting.
    pub fn has_pending(&self, entity_id: &str) -> Result<bool, StoreError> {
        Ok(sync_state(&self.conn, entity_id)? == SyncState::Pending)
    }

    /// The sync state of one record.
    pub fn sync_state(&self, entity_id: &str) -> Result<SyncState, StoreError> {
        sync_state(&self.conn, entity_id)
    }
}
