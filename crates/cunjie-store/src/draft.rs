//! Drafts: inspections and rounds being filled in. Saved on every tap so that nothing is lost
//! when the app is killed; local only, never in the outbox.

use cunjie_domain::fact::{CleanerRound, FactStatus, Inspection};
use cunjie_domain::ids::{InspectionId, RoundId};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::{Store, now_text};
use crate::error::StoreError;
use crate::photo::set_refs;

impl Store {
    fn save_draft<T: Serialize>(
        &mut self,
        id: &str,
        kind: &str,
        subject_id: &str,
        value: &T,
        photos: &[cunjie_domain::fact::PhotoHash],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let submitted: Option<i64> = tx
            .query_row("SELECT 1 FROM fact WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        if submitted.is_some() {
            return Err(StoreError::AlreadySubmitted(id.to_owned()));
        }
        tx.execute(
            "INSERT INTO draft (id, kind, subject_id, updated_at, row_json) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET subject_id = excluded.subject_id, updated_at = excluded.updated_at, row_json = excluded.row_json",
            params![id, kind, subject_id, now_text(self.clock.as_ref()), serde_json::to_string(value)?],
        )?;
        set_refs(&tx, id, "draft", photos)?;
        tx.commit()?;
        Ok(())
    }

    fn load_draft<T: DeserializeOwned>(
        &self,
        id: &str,
        kind: &'static str,
    ) -> Result<T, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM draft WHERE id = ?1 AND kind = ?2",
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

    fn list_drafts<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json FROM draft WHERE kind = ?1 ORDER BY updated_at DESC, id",
        )?;
        let rows = stmt.query_map([kind], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// Saves an inspection draft (every tap). Refused once the inspection is submitted.
    pub fn save_inspection_draft(&mut self, insp: &Inspection) -> Result<(), StoreError> {
        if insp.status != FactStatus::Draft {
            return Err(StoreError::AlreadySubmitted(insp.id.to_string()));
        }
        self.save_draft(
            &insp.id.to_string(),
            "inspection",
            &insp.subject.id.to_string(),
            insp,
            &insp.photos(),
        )
    }

    /// An inspection draft.
    pub fn inspection_draft(&self, id: InspectionId) -> Result<Inspection, StoreError> {
        self.load_draft(&id.to_string(), "inspection")
    }

    /// All inspection drafts, most recently touched first.
    pub fn inspection_drafts(&self) -> Result<Vec<Inspection>, StoreError> {
        self.list_drafts("inspection")
    }

    /// Saves a round in progress (every trace batch and checkpoint).
    pub fn save_round_draft(&mut self, round: &CleanerRound) -> Result<(), StoreError> {
        if round.status != FactStatus::Draft {
            return Err(StoreError::AlreadySubmitted(round.id.to_string()));
        }
        let photos = round_photos(round);
        self.save_draft(
            &round.id.to_string(),
            "round",
            &round.zone.to_string(),
            round,
            &photos,
        )
    }

    /// A round in progress.
    pub fn round_draft(&self, id: RoundId) -> Result<CleanerRound, StoreError> {
        self.load_draft(&id.to_string(), "round")
    }

    /// Rounds in progress (to resume after the app was killed).
    pub fn round_drafts(&self) -> Result<Vec<CleanerRound>, StoreError> {
        self.list_drafts("round")
    }

    /// Throws a draft away, with its photo references (the photos stay until the sweeper runs).
    pub fn discard_draft(&mut self, id: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM photo_ref WHERE entity_id = ?1 AND role = 'draft'",
            [id],
        )?;
        tx.execute("DELETE FROM draft WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }
}

pub(crate) fn round_photos(round: &CleanerRound) -> Vec<cunjie_domain::fact::PhotoHash> {
    let mut all: Vec<_> = round
        .visits
        .iter()
        .flat_map(|v| v.photos.iter().cloned())
        .chain(round.problems.iter().flat_map(|p| p.photos.iter().cloned()))
        .collect();
    all.sort();
    all.dedup();
    all
}
