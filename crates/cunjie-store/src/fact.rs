//! Submitting facts: a draft becomes an immutable fact and an outbox mutation in one
//! transaction.

use chrono::{DateTime, Utc};
use cunjie_domain::catalog::Catalog;
use cunjie_domain::fact::{CleanerRound, FactStatus, Inspection};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{InspectionId, MutationId, RoundId, ZoneId};
use cunjie_domain::validate::{Issue, has_blocking, validate_inspection, validate_round};
use cunjie_protocol::v1::Op;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::db::{Store, enqueue, ts};
use crate::draft::round_photos;
use crate::error::StoreError;
use crate::outbox::{SyncState, sync_state};
use crate::photo::set_refs;

/// One line of "what I submitted".
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Fact id.
    pub id: String,
    /// `inspection` or `round`.
    pub kind: String,
    /// Subject (household, village, zone …) id.
    pub subject_id: String,
    /// Device time of submission (RFC 3339).
    pub submitted_at: String,
    /// Where it is in sync.
    pub state: SyncState,
}

#[allow(clippy::too_many_arguments, reason = "one row of the fact table")]
fn insert_fact<T: Serialize>(
    tx: &Transaction<'_>,
    id: &str,
    kind: &str,
    subject_id: &str,
    village_id: Option<String>,
    author_id: &str,
    submitted_at: &str,
    supersedes: Option<String>,
    value: &T,
) -> Result<(), StoreError> {
    let inserted = tx.execute(
        "INSERT INTO fact (id, kind, subject_id, village_id, author_id, submitted_at, supersedes, origin, row_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'local', ?8) ON CONFLICT (id) DO NOTHING",
        params![id, kind, subject_id, village_id, author_id, submitted_at, supersedes, serde_json::to_string(value)?],
    )?;
    if inserted == 0 {
        return Err(StoreError::AlreadySubmitted(id.to_owned()));
    }
    Ok(())
}

impl Store {
    /// Checks a draft inspection against its template without changing anything.
    pub fn check_inspection(
        &self,
        id: InspectionId,
        policy: &GeoPolicy,
    ) -> Result<Vec<Issue>, StoreError> {
        let insp = self.inspection_draft(id)?;
        let template = self.template(insp.template)?;
        Ok(validate_inspection(&insp, &template, policy))
    }

    /// Submits a draft inspection: validates it, then in one transaction removes the draft,
    /// stores the immutable fact with its photo references, and appends the outbox mutation.
    /// Returns the outbox seq.
    pub fn submit_inspection(
        &mut self,
        id: InspectionId,
        policy: &GeoPolicy,
    ) -> Result<u64, StoreError> {
        let mut insp = self.inspection_draft(id)?;
        let template = self.template(insp.template)?;
        let issues = validate_inspection(&insp, &template, policy);
        if has_blocking(&issues) {
            return Err(StoreError::NotSubmittable(issues));
        }
        insp.status = FactStatus::Submitted;
        insp.submitted_at = Some(self.clock.now());
        let mutation_id: MutationId = self.ids.next();
        let key = insp.id.to_string();
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM photo_ref WHERE entity_id = ?1 AND role = 'draft'",
            [&key],
        )?;
        tx.execute("DELETE FROM draft WHERE id = ?1", [&key])?;
        insert_fact(
            &tx,
            &key,
            "inspection",
            &insp.subject.id.to_string(),
            Some(insp.village.to_string()),
            &insp.inspector.to_string(),
            &ts(self.clock.now()),
            insp.supersedes.map(|s| s.to_string()),
            &insp,
        )?;
        set_refs(&tx, &key, "finding", &insp.photos())?;
        let seq = enqueue(
            &tx,
            self.clock.as_ref(),
            mutation_id,
            &Op::SubmitInspection {
                inspection: Box::new(insp),
            },
            None,
        )?;
        tx.commit()?;
        failpoint!("phone::after_local_commit");
        Ok(seq)
    }

    /// Submits a finished round, the same way as an inspection.
    pub fn submit_round(
        &mut self,
        id: RoundId,
        catalog: &Catalog,
        policy: &GeoPolicy,
    ) -> Result<u64, StoreError> {
        let mut round = self.round_draft(id)?;
        let issues = validate_round(&round, catalog, policy);
        if has_blocking(&issues) {
            return Err(StoreError::NotSubmittable(issues));
        }
        round.status = FactStatus::Submitted;
        let mutation_id: MutationId = self.ids.next();
        let key = round.id.to_string();
        let photos = round_photos(&round);
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM photo_ref WHERE entity_id = ?1 AND role = 'draft'",
            [&key],
        )?;
        tx.execute("DELETE FROM draft WHERE id = ?1", [&key])?;
        insert_fact(
            &tx,
            &key,
            "round",
            &round.zone.to_string(),
            None,
            &round.cleaner.to_string(),
            &ts(self.clock.now()),
            None,
            &round,
        )?;
        set_refs(&tx, &key, "round", &photos)?;
        let seq = enqueue(
            &tx,
            self.clock.as_ref(),
            mutation_id,
            &Op::SubmitRound {
                round: Box::new(round),
            },
            None,
        )?;
        tx.commit()?;
        failpoint!("phone::after_local_commit");
        Ok(seq)
    }

    fn load_fact<T: serde::de::DeserializeOwned>(
        &self,
        id: &str,
        kind: &'static str,
    ) -> Result<T, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM fact WHERE id = ?1 AND kind = ?2",
                params![id, kind],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: kind,
                id: id.to_owned(),
            })?;
        Ok(serde_json::from_str(&json)?)
    }

    /// A submitted inspection.
    pub fn inspection(&self, id: InspectionId) -> Result<Inspection, StoreError> {
        self.load_fact(&id.to_string(), "inspection")
    }

    /// A submitted round.
    pub fn round(&self, id: RoundId) -> Result<CleanerRound, StoreError> {
        self.load_fact(&id.to_string(), "round")
    }

    /// What this device submitted, newest first, with each one's sync state.
    pub fn history(&self, limit: u32) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, subject_id, submitted_at FROM fact WHERE origin = 'local' ORDER BY submitted_at DESC, id DESC LIMIT ?1",
        )?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, kind, subject_id, submitted_at)| {
                let state = sync_state(&self.conn, &id)?;
                Ok(HistoryEntry {
                    id,
                    kind,
                    subject_id,
                    submitted_at,
                    state,
                })
            })
            .collect()
    }

    /// Inspections some submitted inspection on this phone supersedes (corrected ones).
    pub fn superseded_ids(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT supersedes FROM fact WHERE supersedes IS NOT NULL")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Subjects this device submitted an inspection of since `since` (the list's
    /// "inspected this month" mark), without reading whole facts.
    pub fn inspected_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT subject_id FROM fact WHERE kind = 'inspection' AND origin = 'local' AND submitted_at >= ?1",
        )?;
        let rows = stmt.query_map([ts(since)], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// This device's submitted rounds of a zone, newest first, at most `limit`.
    pub fn rounds_of_zone(
        &self,
        zone: ZoneId,
        limit: u32,
    ) -> Result<Vec<CleanerRound>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json FROM fact WHERE kind = 'round' AND origin = 'local' AND subject_id = ?1 ORDER BY submitted_at DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![zone.to_string(), limit], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }
}
