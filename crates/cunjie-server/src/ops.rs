//! The township office's operations, for the CLI, the demo and tests: create a township and
//! its admin, register people and places, publish templates, issue enrollment codes, revoke
//! devices. Each is one transaction.

use std::sync::Arc;

use chrono::Duration;
use cunjie_domain::clock::Clock;
use cunjie_domain::ids::{DeviceId, PersonId, TownshipId};
use cunjie_domain::person::{Assignment, Person, Role};
use cunjie_domain::place;
use cunjie_domain::template::Template;

use crate::core::audit::{self, AuditEntry, AuditReport};
use crate::core::auth::{self, AuthError};
use crate::core::registry::{self, RegistryError, RegistryItem};
use crate::core::scalar;
use crate::core::scoring::{self, Appeal, RedBlack, Review, ScoringError};
use crate::store::{Db, StorageError, vals};

/// Row counts, for checks and the demo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Facts (inspections and rounds).
    pub facts: u64,
    /// Receipts.
    pub receipts: u64,
    /// Registry records.
    pub records: u64,
    /// Rectification orders.
    pub rectifications: u64,
    /// Conflicts kept for review.
    pub conflicts: u64,
}

/// One township's office operations.
#[derive(Debug, Clone)]
pub struct Township {
    db: Db,
    clock: Arc<dyn Clock>,
    id: TownshipId,
}

impl Township {
    /// Creates the township and its first administrator (argon2-hashed password).
    pub fn init(
        db: Db,
        clock: Arc<dyn Clock>,
        t: &place::Township,
        admin_user: &str,
        admin_password: &str,
    ) -> Result<Self, AuthError> {
        let now = clock.now();
        db.tx(|tx| {
            registry::put_township(tx, t, now)?;
            auth::create_staff(tx, t.id, admin_user, admin_password, "admin", now)
        })?;
        Ok(Self {
            db,
            clock,
            id: t.id,
        })
    }

    /// Opens an existing township by its code.
    pub fn open(db: Db, clock: Arc<dyn Clock>, code: &str) -> Result<Option<Self>, StorageError> {
        let id = db.tx(|tx| scalar(tx, "SELECT id FROM township WHERE code = $1", vals![code]))?;
        Ok(id
            .and_then(|v| v.text().and_then(|s| s.parse().ok()))
            .map(|id| Self { db, clock, id }))
    }

    /// The township `id` on `db`, for callers that already know it (a staff session).
    pub fn at(db: Db, clock: Arc<dyn Clock>, id: TownshipId) -> Self {
        Self { db, clock, id }
    }

    /// The township id.
    pub fn id(&self) -> TownshipId {
        self.id
    }

    /// Registers or updates a person.
    pub fn put_person(&self, p: &Person) -> Result<(), StorageError> {
        self.db.tx(|tx| registry::put_person(tx, p))
    }

    /// Registers or updates an assignment.
    pub fn put_assignment(&self, a: &Assignment) -> Result<(), StorageError> {
        self.db.tx(|tx| registry::put_assignment(tx, a))
    }

    /// Registers or updates places and facilities, in one transaction.
    pub fn put_records(&self, items: &[RegistryItem]) -> Result<(), RegistryError> {
        let now = self.clock.now();
        self.db.tx(|tx| {
            for item in items {
                registry::put_record(tx, self.id, item, now)?;
            }
            Ok(())
        })
    }

    /// Publishes a template version.
    pub fn publish_template(&self, t: &Template) -> Result<(), RegistryError> {
        let now = self.clock.now();
        self.db.tx(|tx| registry::put_template(tx, self.id, t, now))
    }

    /// Issues a one-time enrollment code, valid for `days`, shown as `XXXXX-XXXXX`.
    pub fn enrollment_code(
        &self,
        person: PersonId,
        role: Role,
        days: i64,
    ) -> Result<String, AuthError> {
        let now = self.clock.now();
        let code = self
            .db
            .tx(|tx| auth::create_enrollment(tx, person, role, now, Duration::days(days)))?;
        Ok(auth::display_code(&code))
    }

    /// Revokes a device; returns whether an active device was revoked.
    pub fn revoke(&self, device: DeviceId) -> Result<bool, StorageError> {
        let now = self.clock.now();
        self.db.tx(|tx| auth::revoke(tx, device, now))
    }

    fn existing(&self) -> Result<crate::import::Existing, StorageError> {
        use crate::import::Existing;
        self.db.tx(|tx| {
            let mut e = Existing::default();
            for r in tx.query(
                "SELECT entity, row_json FROM record WHERE township_id = $1",
                vals![self.id.to_string()],
            )? {
                let entity = crate::store::text(&r, 0, "entity")?;
                let json = crate::store::text(&r, 1, "row_json")?;
                match entity.as_str() {
                    "village" => {
                        let v: place::AdminVillage = serde_json::from_str(&json)?;
                        e.villages.insert(v.code.clone(), v);
                    }
                    "group" => {
                        let g: place::VillageGroup = serde_json::from_str(&json)?;
                        e.groups.insert((g.village, g.name.clone()), g);
                    }
                    "household" => {
                        let h: place::Household = serde_json::from_str(&json)?;
                        e.households.insert((h.village, h.door_plate.clone()), h);
                    }
                    "business" => {
                        let b: place::Business = serde_json::from_str(&json)?;
                        e.businesses.insert((b.village, b.door_plate.clone()), b);
                    }
                    "zone" => {
                        let z: place::Zone = serde_json::from_str(&json)?;
                        e.zones.insert((z.village, z.name.clone()), z);
                    }
                    "facility" => {
                        let f: place::Facility = serde_json::from_str(&json)?;
                        e.facilities.insert((f.village, f.number.clone()), f);
                    }
                    _ => {}
                }
            }
            for r in tx.query(
                "SELECT row_json FROM person WHERE township_id = $1",
                vals![self.id.to_string()],
            )? {
                let p: Person = serde_json::from_str(&crate::store::text(&r, 0, "row_json")?)?;
                e.people.insert(p.name.clone(), p);
            }
            Ok(e)
        })
    }

    /// Imports one registry file (see [`crate::import`]): all of it or, on a bad row, none.
    pub fn import(
        &self,
        kind: crate::import::FileKind,
        input: impl std::io::Read,
    ) -> Result<crate::import::ImportReport, crate::import::ImportError> {
        use crate::import::{FileKind, Planner};
        let existing = self.existing()?;
        let ids = cunjie_domain::ids::IdGen::new(self.clock.clone());
        let planner = Planner {
            existing: &existing,
            ids: &ids,
            township: self.id,
        };
        let (items, report) = match kind {
            FileKind::Villages => planner.villages(input)?,
            FileKind::Groups => planner.groups(input)?,
            FileKind::Households => planner.households(input)?,
            FileKind::Businesses => planner.businesses(input)?,
            FileKind::Zones => planner.zones(input)?,
            FileKind::Facilities => {
                let zones = existing
                    .zones
                    .iter()
                    .map(|(k, z)| (k.clone(), z.id))
                    .collect();
                planner.facilities(input, &zones)?
            }
            FileKind::People => {
                let (people, report) = planner.people(input)?;
                self.db
                    .tx(|tx| people.iter().try_for_each(|p| registry::put_person(tx, p)))?;
                return Ok(report);
            }
            FileKind::Assignments => {
                let codes: std::collections::BTreeMap<_, _> = existing
                    .villages
                    .values()
                    .map(|v| (v.id, v.code.clone()))
                    .collect();
                let zones = existing
                    .zones
                    .iter()
                    .filter_map(|((v, name), z)| {
                        codes.get(v).map(|c| ((c.clone(), name.clone()), z.id))
                    })
                    .collect();
                let (assignments, report) = planner.assignments(input, &existing.people, &zones)?;
                self.db.tx(|tx| {
                    assignments
                        .iter()
                        .try_for_each(|a| registry::put_assignment(tx, a))
                })?;
                return Ok(report);
            }
        };
        self.put_records(&items)?;
        Ok(report)
    }

    /// Row counts.
    pub fn counts(&self) -> Result<Counts, StorageError> {
        self.db.tx(|tx| {
            let mut n = |sql: &str| -> Result<u64, StorageError> {
                Ok(scalar(tx, sql, &[])?.and_then(|v| v.int()).unwrap_or(0) as u64)
            };
            Ok(Counts {
                facts: n("SELECT count(*) FROM fact")?,
                receipts: n("SELECT count(*) FROM receipt")?,
                records: n("SELECT count(*) FROM record")?,
                rectifications: n("SELECT count(*) FROM rectification")?,
                conflicts: n("SELECT count(*) FROM conflict")?,
            })
        })
    }

    /// The stored JSON of every fact, sorted by id (for comparing with phones).
    pub fn fact_rows(&self) -> Result<Vec<(String, serde_json::Value)>, StorageError> {
        self.db.tx(|tx| {
            tx.query("SELECT id, row_json FROM fact ORDER BY id", &[])?
                .into_iter()
                .map(|r| {
                    Ok((
                        crate::store::text(&r, 0, "id")?,
                        serde_json::from_str(&crate::store::text(&r, 1, "row_json")?)?,
                    ))
                })
                .collect()
        })
    }

    /// Flags stored on a fact (clock skew, assignment changed …).
    pub fn fact_flags(&self, id: &str) -> Result<Option<(String, i64)>, StorageError> {
        self.db.tx(|tx| {
            let rows = tx.query("SELECT flags, skew_ms FROM fact WHERE id = $1", vals![id])?;
            rows.into_iter()
                .next()
                .map(|r| {
                    Ok((
                        crate::store::text(&r, 0, "flags")?,
                        crate::store::int(&r, 1, "skew_ms")?,
                    ))
                })
                .transpose()
        })
    }

    /// The photos of a fact (inspection, round or rectification) as the office sees them:
    /// each one's state (`pending` until its bytes arrive, then `stored`) and verification,
    /// and how many are still pending. The same JSON as `GET /api/v1/admin/facts/{id}/evidence`.
    pub fn evidence(&self, fact_id: &str) -> Result<Option<serde_json::Value>, StorageError> {
        let township = self.id.to_string();
        let fact_id = fact_id.to_owned();
        self.db.tx(|tx| {
            crate::core::photos::evidence(tx, &township, &fact_id)?
                .map(serde_json::to_value)
                .transpose()
                .map_err(StorageError::from)
        })
    }

    /// A household as the server holds it.
    pub fn household(&self, id: &str) -> Result<Option<serde_json::Value>, StorageError> {
        self.db
            .tx(|tx| Ok(registry::record(tx, "household", id)?.map(|r| r.0)))
    }

    /// A period's ranking (`2026-11`, `2026-Q4`, `2026-H2`) under a scheme (the township's
    /// default when `None`), computed from the facts now. A published period keeps the scheme
    /// version it was published with.
    pub fn ranking(
        &self,
        period: &str,
        scheme: Option<&str>,
    ) -> Result<scoring::Ranking, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::ranking(tx, self.id, period, scheme, now))
    }

    /// Recomputes and stores a period's ranking with its scheme version; audited as `by`.
    pub fn recompute(
        &self,
        period: &str,
        scheme: Option<&str>,
        by: &str,
    ) -> Result<scoring::Ranking, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::recompute(tx, self.id, period, scheme, by, now))
    }

    /// Recomputes and publishes a period's ranking: it keeps this scheme version from now on.
    pub fn publish_ranking(
        &self,
        period: &str,
        scheme: Option<&str>,
        by: &str,
    ) -> Result<scoring::Ranking, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::publish(tx, self.id, period, scheme, by, now))
    }

    /// The month's 红黑榜 of villages and households.
    pub fn red_black(&self, month: &str, scheme: Option<&str>) -> Result<RedBlack, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::red_black(tx, self.id, month, scheme, now))
    }

    /// The latest version of every scheme (the presets are version 1 until edited).
    pub fn schemes(&self) -> Result<Vec<cunjie_domain::scoring::Scheme>, ScoringError> {
        let now = self.clock.now();
        self.db.tx(|tx| scoring::schemes(tx, self.id, now))
    }

    /// Publishes an edited scheme as the next version of its code; returns the version.
    pub fn publish_scheme(
        &self,
        scheme: &cunjie_domain::scoring::Scheme,
        by: &str,
    ) -> Result<u32, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::publish_scheme(tx, self.id, scheme, by, now))
    }

    /// The month's household sample (drawn, seeded and stratified by group, on first use).
    pub fn sample(
        &self,
        month: &str,
    ) -> Result<std::collections::BTreeSet<cunjie_domain::ids::HouseholdId>, ScoringError> {
        let now = self.clock.now();
        self.db.tx(|tx| scoring::sample_of(tx, self.id, month, now))
    }

    /// Records an outside commendation or exposure for a village.
    pub fn record_event(
        &self,
        village: cunjie_domain::ids::VillageId,
        event: &cunjie_domain::scoring::ExternalEvent,
        by: &str,
    ) -> Result<String, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::record_event(tx, self.id, village, event, by, now))
    }

    /// Enters Scheme C's 交办工作 and 群众满意度 scores (0–100) for a village and period.
    pub fn set_village_input(
        &self,
        village: cunjie_domain::ids::VillageId,
        period: &str,
        tasks: cunjie_domain::Amount,
        satisfaction: cunjie_domain::Amount,
        by: &str,
    ) -> Result<(), ScoringError> {
        let now = self.clock.now();
        self.db.tx(|tx| {
            scoring::set_village_input(tx, self.id, village, period, tasks, satisfaction, by, now)
        })
    }

    /// Marks an inspection (or one of its photos) as 有问题 with a comment.
    pub fn mark_review(
        &self,
        fact: cunjie_domain::ids::InspectionId,
        photo: Option<&str>,
        comment: &str,
        by: &str,
    ) -> Result<Review, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::mark_review(tx, self.id, fact, photo, comment, by, now))
    }

    /// Reviews, all or of one inspection, with the correction that resolved each.
    pub fn reviews(&self, fact: Option<&str>) -> Result<Vec<Review>, ScoringError> {
        self.db.tx(|tx| scoring::reviews(tx, self.id, fact))
    }

    /// Records a village's appeal against inspections of a period.
    pub fn file_appeal(
        &self,
        village: cunjie_domain::ids::VillageId,
        period: &str,
        facts: &[cunjie_domain::ids::InspectionId],
        reason: &str,
        evidence: &str,
        by: &str,
    ) -> Result<Appeal, ScoringError> {
        let now = self.clock.now();
        self.db.tx(|tx| {
            scoring::file_appeal(
                tx, self.id, village, period, facts, reason, evidence, by, now,
            )
        })
    }

    /// Decides an appeal; an upheld one recomputes the period's stored rankings under the
    /// scheme versions they used, and returns them.
    pub fn decide_appeal(
        &self,
        appeal: &str,
        upheld: bool,
        note: &str,
        by: &str,
    ) -> Result<Vec<scoring::Ranking>, ScoringError> {
        let now = self.clock.now();
        self.db
            .tx(|tx| scoring::decide_appeal(tx, self.id, appeal, upheld, note, by, now))
    }

    /// The township's appeals, newest first.
    pub fn appeals(&self) -> Result<Vec<Appeal>, ScoringError> {
        self.db.tx(|tx| scoring::appeals(tx, self.id))
    }

    /// The township's latest audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let t = self.id.to_string();
        self.db.tx(|tx| audit::entries(tx, &t, limit))
    }

    /// Checks the whole audit chain (all townships share one chain).
    pub fn audit_verify(&self) -> Result<AuditReport, StorageError> {
        self.db.tx(audit::verify)
    }
}
