//! The audit log: every scheme change, score recomputation, review decision and appeal
//! outcome, append-only, each entry chained to the one before by SHA-256.
//!
//! An entry's hash covers the previous entry's hash and every column of its own row, so
//! changing, removing or reordering any stored row breaks the chain from that row on, and
//! [`verify`] names the first entry that no longer agrees.

use serde::Serialize;

use super::sha256_hex;
use crate::store::{Dialect, StorageError, Tx, int, text, vals};

/// The hash the first entry is chained to.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Township the entry concerns.
    pub township: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who: a staff user name, `cli:<name>` or `system`.
    pub actor: String,
    /// What, e.g. `scheme_published`, `score_recomputed`, `review_marked`, `appeal_decided`.
    pub action: String,
    /// What it was done to, e.g. `2026-11/TOWNSHIP_MONTHLY_YUAN`.
    pub subject: String,
    /// Details as JSON text.
    pub detail: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// What checking the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose stored hash or link does not match, if any.
    pub first_broken: Option<i64>,
    /// Why it does not match, in Chinese and English.
    pub reason: Option<String>,
}

impl AuditReport {
    /// Whether the whole chain holds.
    pub fn ok(&self) -> bool {
        self.first_broken.is_none()
    }
}

#[allow(clippy::too_many_arguments, reason = "one argument per hashed column")]
fn entry_hash(
    prev: &str,
    seq: i64,
    township: &str,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    // Lengths first, so no two different rows hash the same text.
    let mut s = String::from("cunjie-audit-v1\n");
    for part in [
        prev,
        &seq.to_string(),
        township,
        at,
        actor,
        action,
        subject,
        detail,
    ] {
        s.push_str(&format!("{}:{part}\n", part.len()));
    }
    sha256_hex(&s)
}

/// Appends one entry at the end of the chain, inside the caller's transaction (so the change
/// it records and the entry commit together or not at all).
pub(crate) fn append(
    tx: &mut dyn Tx,
    township: &str,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<i64, StorageError> {
    if tx.dialect() == Dialect::Postgres {
        // One writer at a time appends, so two transactions cannot both take the same head.
        tx.exec("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE", &[])?;
    }
    let head = tx.query(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    let (seq, prev) = match head.first() {
        Some(r) => (int(r, 0, "seq")? + 1, text(r, 1, "hash")?),
        None => (1, GENESIS.to_owned()),
    };
    let detail = detail.to_string();
    let hash = entry_hash(&prev, seq, township, at, actor, action, subject, &detail);
    tx.exec(
        "INSERT INTO audit_log (seq, township_id, at, actor, action, subject, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vals![seq, township, at, actor, action, subject, detail, prev, hash],
    )?;
    Ok(seq)
}

fn row_entry(r: &[crate::store::Value]) -> Result<AuditEntry, StorageError> {
    Ok(AuditEntry {
        seq: int(r, 0, "seq")?,
        township: text(r, 1, "township_id")?,
        at: text(r, 2, "at")?,
        actor: text(r, 3, "actor")?,
        action: text(r, 4, "action")?,
        subject: text(r, 5, "subject")?,
        detail: text(r, 6, "detail")?,
        prev_hash: text(r, 7, "prev_hash")?,
        hash: text(r, 8, "hash")?,
    })
}

const COLUMNS: &str = "seq, township_id, at, actor, action, subject, detail, prev_hash, hash";

/// The latest `limit` entries of a township, newest first.
pub(crate) fn entries(
    tx: &mut dyn Tx,
    township: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, StorageError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM audit_log WHERE township_id = $1 ORDER BY seq DESC LIMIT $2"
        ),
        vals![township, limit],
    )?
    .iter()
    .map(|r| row_entry(r))
    .collect()
}

/// Walks the whole chain (every township: it is one chain) and recomputes every hash.
pub(crate) fn verify(tx: &mut dyn Tx) -> Result<AuditReport, StorageError> {
    let rows = tx.query(
        &format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"),
        &[],
    )?;
    let mut prev = GENESIS.to_owned();
    let mut report = AuditReport {
        entries: 0,
        first_broken: None,
        reason: None,
    };
    for (expected_seq, r) in (1..).zip(rows.iter()) {
        let e = row_entry(r)?;
        report.entries += 1;
        let broken = if e.seq != expected_seq {
            Some(format!(
                "第 {expected_seq} 条缺失 (entry {expected_seq} is missing; found {})",
                e.seq
            ))
        } else if e.prev_hash != prev {
            Some(format!(
                "第 {} 条与上一条不相连 (entry {} does not link to the one before)",
                e.seq, e.seq
            ))
        } else if entry_hash(
            &e.prev_hash,
            e.seq,
            &e.township,
            &e.at,
            &e.actor,
            &e.action,
            &e.subject,
            &e.detail,
        ) != e.hash
        {
            Some(format!(
                "第 {} 条内容被改动 (entry {} was changed after it was written)",
                e.seq, e.seq
            ))
        } else {
            None
        };
        if let Some(reason) = broken {
            report.first_broken = Some(e.seq);
            report.reason = Some(reason);
            return Ok(report);
        }
        prev = e.hash;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_separates_fields_so_moving_text_between_them_changes_it() {
        let a = entry_hash(GENESIS, 1, "t", "at", "ab", "c", "s", "{}");
        let b = entry_hash(GENESIS, 1, "t", "at", "a", "bc", "s", "{}");
        assert_ne!(
            a, b,
            "the same characters split differently hash differently"
        );
        assert_eq!(a.len(), 64, "a hex SHA-256");
    }
}
