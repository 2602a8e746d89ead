//! Rectification orders (限期整改): issued from a failed item, fixed by the assignee with an
//! "after" photo, verified or sent back by a re-inspector. Each step is one transaction with
//! its outbox row; the state machine is the domain's.

use chrono::NaiveDate;
use cunjie_domain::fact::{PhotoHash, RectificationOrder};
use cunjie_domain::ids::{MutationId, PersonId, RectificationId};
use cunjie_protocol::v1::Op;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::db::{Store, enqueue};
use crate::error::StoreError;
use crate::photo::set_refs;

pub(crate) fn upsert_rectification(
    tx: &Transaction<'_>,
    o: &RectificationOrder,
    version: u64,
    scope: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO rectification (id, assignee_id, village_id, due, state, server_version, scope, row_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET assignee_id = excluded.assignee_id, village_id = excluded.village_id,
           due = excluded.due, state = excluded.state, server_version = excluded.server_version,
           scope = COALESCE(excluded.scope, rectification.scope), row_json = excluded.row_json",
        params![
            o.id.to_string(),
            o.assignee.to_string(),
            o.village.to_string(),
            o.due.to_string(),
            serde_json::to_value(o.state)?.as_str().unwrap_or_default(),
            version as i64,
            scope,
            serde_json::to_string(o)?,
        ],
    )?;
    Ok(())
}

impl Store {
    fn load_rectification(
        tx: &Transaction<'_>,
        id: RectificationId,
    ) -> Result<(RectificationOrder, u64), StoreError> {
        let (json, version): (String, i64) = tx
            .query_row(
                "SELECT row_json, server_version FROM rectification WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "rectification",
                id: id.to_string(),
            })?;
        Ok((serde_json::from_str(&json)?, version as u64))
    }

    /// Issues a rectification order (with its "before" photos). One transaction with its outbox row.
    pub fn issue_rectification(&mut self, order: &RectificationOrder) -> Result<u64, StoreError> {
        let mutation_id: MutationId = self.ids.next();
        let tx = self.conn.transaction()?;
        upsert_rectification(&tx, order, 0, None)?;
        set_refs(&tx, &order.id.to_string(), "before", &order.before_photos)?;
        let seq = enqueue(
            &tx,
            self.clock.as_ref(),
            mutation_id,
            &Op::IssueRectification {
                order: Box::new(order.clone()),
            },
            None,
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// The assignee submits the fix with "after" photos.
    pub fn submit_rectification_fix(
        &mut self,
        id: RectificationId,
        after: Vec<PhotoHash>,
        note: Option<String>,
    ) -> Result<u64, StoreError> {
        let mutation_id: MutationId = self.ids.next();
        let tx = self.conn.transaction()?;
        let (mut order, version) = Self::load_rectification(&tx, id)?;
        order.submit(after.clone(), note.clone())?;
        upsert_rectification(&tx, &order, version, None)?;
        set_refs(&tx, &id.to_string(), "after", &after)?;
        let op = Op::SubmitRectificationFix {
            id,
            after_photos: after,
            note,
        };
        let seq = enqueue(&tx, self.clock.as_ref(), mutation_id, &op, Some(version))?;
        tx.commit()?;
        Ok(seq)
    }

    /// A re-inspector verifies (销号) or sends back a submitted fix.
    pub fn review_rectification(
        &mut self,
        id: RectificationId,
        accepted: bool,
        note: Option<String>,
    ) -> Result<u64, StoreError> {
        let mutation_id: MutationId = self.ids.next();
        let today = self.clock.now().date_naive();
        let tx = self.conn.transaction()?;
        let (mut order, version) = Self::load_rectification(&tx, id)?;
        if accepted {
            order.verify()?;
        } else {
            order.reject(today, note.clone())?;
        }
        upsert_rectification(&tx, &order, version, None)?;
        let op = Op::ReviewRectification { id, accepted, note };
        let seq = enqueue(&tx, self.clock.as_ref(), mutation_id, &op, Some(version))?;
        tx.commit()?;
        Ok(seq)
    }

    /// One rectification order, with overdue worked out for `today`.
    pub fn rectification(
        &self,
        id: RectificationId,
        today: NaiveDate,
    ) -> Result<RectificationOrder, StoreError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT row_json FROM rectification WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound {
                entity: "rectification",
                id: id.to_string(),
            })?;
        let mut o: RectificationOrder = serde_json::from_str(&json)?;
        o.refresh_overdue(today);
        Ok(o)
    }

    /// Orders assigned to a person that are not yet verified, earliest due first.
    pub fn rectifications_for(
        &self,
        assignee: PersonId,
        today: NaiveDate,
    ) -> Result<Vec<RectificationOrder>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_json FROM rectification WHERE assignee_id = ?1 AND state != 'verified' ORDER BY due, id",
        )?;
        let rows = stmt.query_map([assignee.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            let mut o: RectificationOrder = serde_json::from_str(&r?)?;
            o.refresh_overdue(today);
            Ok(o)
        })
        .collect()
    }
}
