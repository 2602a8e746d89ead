//! The phone's enrollment (which township server, its device token, whose phone it is), and
//! dropping a scope the device may no longer see.
//!
//! **An auth failure never deletes data.** When the server refuses the token, the sync engine
//! calls [`Store::mark_needs_reenroll`], which sets one flag; the outbox, drafts, facts and
//! photos stay until a new enrollment lets them reach the server.

use std::fmt;

use chrono::{DateTime, Utc};
use cunjie_domain::ids::{PersonId, TownshipId};
use cunjie_domain::person::Role;
use cunjie_protocol::v1::EnrollResponse;
use rusqlite::{OptionalExtension, params};

use crate::db::{Store, now_text, parse_uuid};
use crate::error::StoreError;
use crate::pull::wipe_scope;

/// What the phone remembers of its enrollment.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// The township server's base URL, e.g. `https://tongmu.example.cn`.
    pub server_url: String,
    /// The device token for `Authorization: Bearer` (never logged: `Debug` hides it).
    pub token: String,
    /// Whose phone it is.
    pub person_id: PersonId,
    /// Their name.
    pub person_name: String,
    /// Their role.
    pub role: Role,
    /// The township.
    pub township_id: TownshipId,
    /// Its name.
    pub township_name: String,
    /// When the phone enrolled (device time).
    pub enrolled_at: DateTime<Utc>,
    /// The server refused the token: the phone must be enrolled again before it can sync.
    /// Nothing was deleted.
    pub needs_reenroll: bool,
}

impl fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrollment")
            .field("server_url", &self.server_url)
            .field("token", &"<hidden>")
            .field("person_id", &self.person_id)
            .field("person_name", &self.person_name)
            .field("role", &self.role)
            .field("township_id", &self.township_id)
            .field("township_name", &self.township_name)
            .field("enrolled_at", &self.enrolled_at)
            .field("needs_reenroll", &self.needs_reenroll)
            .finish()
    }
}

fn role_text(role: Role) -> Result<String, StoreError> {
    match serde_json::to_value(role)? {
        serde_json::Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

impl Store {
    /// Remembers a successful enrollment (replacing any earlier one and clearing
    /// `needs_reenroll`) and learns the server's clock offset, in one transaction. Refuses an
    /// answer for another device.
    pub fn save_enrollment(
        &mut self,
        server_url: &str,
        resp: &EnrollResponse,
    ) -> Result<Enrollment, StoreError> {
        if resp.device_id != self.device {
            return Err(StoreError::NotFound {
                entity: "device",
                id: resp.device_id.to_string(),
            });
        }
        let now = now_text(self.clock.as_ref());
        let offset = resp.server_time_ms.saturating_sub(self.clock.now_ms());
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO enrollment (id, server_url, token, person_id, person_name, role, township_id, township_name, enrolled_at, needs_reenroll)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, token = excluded.token,
               person_id = excluded.person_id, person_name = excluded.person_name, role = excluded.role,
               township_id = excluded.township_id, township_name = excluded.township_name,
               enrolled_at = excluded.enrolled_at, needs_reenroll = 0",
            params![
                server_url,
                resp.token,
                resp.person_id.to_string(),
                resp.person_name,
                role_text(resp.role)?,
                resp.township_id.to_string(),
                resp.township_name,
                now,
            ],
        )?;
        tx.execute(
            "UPDATE device_state SET hlc_offset_ms = ?1 WHERE id = 1",
            [offset],
        )?;
        tx.commit()?;
        self.enrollment()?.ok_or(StoreError::NotFound {
            entity: "enrollment",
            id: "1".into(),
        })
    }

    /// The phone's enrollment, if it has one.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            bool,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT server_url, token, person_id, person_name, role, township_id, township_name, enrolled_at, needs_reenroll
                 FROM enrollment WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                },
            )
            .optional()?;
        let Some((
            server_url,
            token,
            person,
            person_name,
            role,
            township,
            township_name,
            enrolled_at,
            needs_reenroll,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(Enrollment {
            server_url,
            token,
            person_id: PersonId::from_uuid(parse_uuid(&person, "person")?),
            person_name,
            role: serde_json::from_value(serde_json::Value::String(role))?,
            township_id: TownshipId::from_uuid(parse_uuid(&township, "township")?),
            township_name,
            enrolled_at: DateTime::parse_from_rfc3339(&enrolled_at)
                .map_err(|_| StoreError::NotFound {
                    entity: "enrollment time",
                    id: enrolled_at.clone(),
                })?
                .with_timezone(&Utc),
            needs_reenroll,
        }))
    }

    /// The server refused this phone's token: remember that it must be enrolled again. This
    /// only sets a flag; nothing is deleted (outbox, drafts, facts, photos all stay). A phone
    /// without an enrollment is left as it is.
    pub fn mark_needs_reenroll(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE enrollment SET needs_reenroll = 1 WHERE id = 1", [])?;
        Ok(())
    }

    /// Signs this phone out: forgets the enrollment (server, token, person), only when nothing
    /// is waiting to be sent (no outbox row, no photo unconfirmed); otherwise refuses with
    /// [`StoreError::Unsynced`] and changes nothing. Synced rows stay until the next person's
    /// enrollment pulls their own scopes.
    pub fn sign_out(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let (records, photos): (i64, i64) = tx.query_row(
            "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM photo WHERE state != 'done')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if records > 0 || photos > 0 {
            return Err(StoreError::Unsynced {
                records: records as u64,
                photos: photos as u64,
            });
        }
        tx.execute("DELETE FROM enrollment", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a scope the device may no longer see, in one transaction: its households,
    /// registry records, templates, pulled facts, rectifications with no step waiting in the
    /// outbox, and its cursor. Never the outbox, drafts, photos or the device's own facts.
    /// Returns the number of synced rows deleted (the cursor not counted).
    pub fn drop_scope(&mut self, scope: &str) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = wipe_scope(&tx, scope)?;
        tx.execute("DELETE FROM sync_cursor WHERE scope = ?1", [scope])?;
        tx.commit()?;
        Ok(n)
    }
}
