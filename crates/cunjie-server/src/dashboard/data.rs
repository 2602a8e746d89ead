//! What the dashboard reads: the township's registry, facts, rectifications, photos and
//! devices, decoded from their stored JSON. Read-only; one transaction per load.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cunjie_domain::fact::{CleanerRound, Inspection, RectificationOrder};
use cunjie_domain::person::{Assignment, AssignmentTarget, Person, Role};
use cunjie_domain::place::{AdminVillage, Facility, Household, VillageGroup, Zone};
use cunjie_domain::template::Template;

use crate::core::ts;
use crate::store::{Db, StorageError, Tx, int, opt_text, text, vals};

/// China Standard Time offset: days, weeks and months are counted in China time.
pub(crate) fn cn_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

/// The UTC instant a China-time day starts.
pub(crate) fn cn_day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|n| n.and_utc() - Duration::hours(8))
        .unwrap_or_default()
}

/// China-time `YYYY-MM-DD HH:MM` of an instant.
pub(crate) fn cn_time(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Month {
    pub(crate) year: i32,
    pub(crate) month: u32,
}

impl Month {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month: u32 = m.parse().ok()?;
        ((2000..=2100).contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month })
    }

    pub(crate) fn of(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    pub(crate) fn first(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub(crate) fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub(crate) fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Days in the month.
    #[cfg(test)]
    pub(crate) fn days(self) -> u32 {
        u32::try_from((self.next().first() - self.first()).num_days()).unwrap_or(30)
    }

    /// `[start, end)` in UTC, China-time month boundaries.
    pub(crate) fn range(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            cn_day_start(self.first()),
            cn_day_start(self.next().first()),
        )
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The township's registry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registry {
    pub(crate) villages: Vec<AdminVillage>,
    pub(crate) groups: Vec<VillageGroup>,
    pub(crate) households: Vec<Household>,
    pub(crate) businesses: Vec<cunjie_domain::place::Business>,
    pub(crate) zones: Vec<Zone>,
    pub(crate) facilities: Vec<Facility>,
    pub(crate) people: Vec<Person>,
    pub(crate) assignments: Vec<Assignment>,
}

impl Registry {
    pub(crate) fn village_name(&self, id: &str) -> String {
        self.villages
            .iter()
            .find(|v| v.id.to_string() == id)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| id.chars().take(8).collect())
    }

    pub(crate) fn person_name(&self, id: &str) -> String {
        self.people
            .iter()
            .find(|p| p.id.to_string() == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.chars().take(8).collect())
    }

    pub(crate) fn group_name(&self, id: &str) -> String {
        self.groups
            .iter()
            .find(|g| g.id.to_string() == id)
            .map(|g| g.name.clone())
            .unwrap_or_default()
    }

    pub(crate) fn household(&self, id: &str) -> Option<&Household> {
        self.households.iter().find(|h| h.id.to_string() == id)
    }

    /// A subject's name for people: a household's head and plate, a zone's or facility's name.
    pub(crate) fn subject_name(&self, id: &str) -> String {
        if let Some(h) = self.household(id) {
            return format!("{}（{}）", h.head_name, h.door_plate);
        }
        if let Some(z) = self.zones.iter().find(|z| z.id.to_string() == id) {
            return z.name.clone();
        }
        if let Some(f) = self.facilities.iter().find(|f| f.id.to_string() == id) {
            return format!("{} {}", f.kind.label_zh(), f.number);
        }
        if let Some(v) = self.villages.iter().find(|v| v.id.to_string() == id) {
            return v.name.clone();
        }
        id.chars().take(8).collect()
    }

    /// Cleaners (people with the cleaner role), by name.
    pub(crate) fn cleaners(&self) -> Vec<&Person> {
        let mut c: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.roles.contains(&Role::Cleaner))
            .collect();
        c.sort_by(|a, b| a.name.cmp(&b.name));
        c
    }

    /// The zones a person's cleaner assignments cover at some time in `[from, to)`.
    pub(crate) fn zones_of(
        &self,
        person: &Person,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<&Zone> {
        let mut ids = vec![];
        for a in &self.assignments {
            if a.person != person.id || a.role != Role::Cleaner {
                continue;
            }
            let overlaps = a.valid_from < to && a.valid_to.is_none_or(|end| end > from);
            if let (true, AssignmentTarget::Zones { zones }) = (overlaps, &a.target) {
                ids.extend(zones.iter().copied());
            }
        }
        ids.sort();
        ids.dedup();
        self.zones.iter().filter(|z| ids.contains(&z.id)).collect()
    }
}

fn decode<T: serde::de::DeserializeOwned>(row: &[crate::store::Value]) -> Option<T> {
    let json = text(row, 0, "row_json").ok()?;
    match serde_json::from_str(&json) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "dashboard skipped a row it could not read");
            None
        }
    }
}

/// Loads the registry of a township.
pub(crate) fn registry(db: &Db, township: &str) -> Result<Registry, StorageError> {
    db.tx(|tx| {
        let mut r = Registry::default();
        for row in tx.query(
            "SELECT row_json, entity FROM record WHERE township_id = $1 ORDER BY entity, id",
            vals![township],
        )? {
            match text(&row, 1, "entity")?.as_str() {
                "village" => r.villages.extend(decode(&row)),
                "group" => r.groups.extend(decode(&row)),
                "household" => r.households.extend(decode(&row)),
                "business" => r.businesses.extend(decode(&row)),
                "zone" => r.zones.extend(decode(&row)),
                "facility" => r.facilities.extend(decode(&row)),
                _ => {}
            }
        }
        for row in tx.query(
            "SELECT row_json FROM person WHERE township_id = $1 ORDER BY name",
            vals![township],
        )? {
            r.people.extend(decode(&row));
        }
        for row in tx.query(
            "SELECT a.row_json FROM assignment a JOIN person p ON p.id = a.person_id WHERE p.township_id = $1 ORDER BY a.id",
            vals![township],
        )? {
            r.assignments.extend(decode(&row));
        }
        r.villages.sort_by(|a, b| a.code.cmp(&b.code));
        r.zones.sort_by(|a, b| a.name.cmp(&b.name));
        r.households.sort_by(|a, b| a.door_plate.cmp(&b.door_plate));
        Ok(r)
    })
}

/// A stored inspection with its server-side facts.
#[derive(Debug, Clone)]
pub(crate) struct StoredInspection {
    pub(crate) insp: Inspection,
    pub(crate) flags: String,
}

/// Inspections of a township captured in `[from, to)` (device time), oldest first.
pub(crate) fn inspections(
    tx: &mut dyn Tx,
    township: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StoredInspection>, StorageError> {
    Ok(tx
        .query(
            "SELECT row_json, flags FROM fact WHERE township_id = $1 AND kind = 'inspection' AND device_time >= $2 AND device_time < $3 ORDER BY device_time, id",
            vals![township, ts(from), ts(to)],
        )?
        .iter()
        .filter_map(|r| {
            Some(StoredInspection {
                insp: decode(r)?,
                flags: opt_text(r, 1).unwrap_or_default(),
            })
        })
        .collect())
}

/// Inspections of one subject, newest first.
pub(crate) fn inspections_of(
    tx: &mut dyn Tx,
    township: &str,
    subject: &str,
) -> Result<Vec<StoredInspection>, StorageError> {
    Ok(tx
        .query(
            "SELECT row_json, flags FROM fact WHERE township_id = $1 AND kind = 'inspection' AND subject_id = $2 ORDER BY device_time DESC, id",
            vals![township, subject],
        )?
        .iter()
        .filter_map(|r| {
            Some(StoredInspection {
                insp: decode(r)?,
                flags: opt_text(r, 1).unwrap_or_default(),
            })
        })
        .collect())
}

/// Rounds of a township started in `[from, to)`, oldest first.
pub(crate) fn rounds(
    tx: &mut dyn Tx,
    township: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CleanerRound>, StorageError> {
    Ok(tx
        .query(
            "SELECT row_json FROM fact WHERE township_id = $1 AND kind = 'round' AND device_time >= $2 AND device_time < $3 ORDER BY device_time, id",
            vals![township, ts(from), ts(to)],
        )?
        .iter()
        .filter_map(|r| decode(r))
        .collect())
}

/// Every rectification of a township, with its state refreshed for `today` (an open order
/// past its due date shows as overdue even before anyone touched it).
pub(crate) fn rectifications(
    tx: &mut dyn Tx,
    township: &str,
    today: NaiveDate,
) -> Result<Vec<RectificationOrder>, StorageError> {
    let mut all: Vec<RectificationOrder> = tx
        .query(
            "SELECT row_json FROM rectification WHERE township_id = $1 ORDER BY due, id",
            vals![township],
        )?
        .iter()
        .filter_map(|r| decode(r))
        .collect();
    for o in &mut all {
        o.refresh_overdue(today);
    }
    Ok(all)
}

/// Templates by `(id, version)`, loaded once per request.
#[derive(Debug, Default)]
pub(crate) struct Templates(HashMap<(String, u32), Option<Template>>);

impl Templates {
    pub(crate) fn get(
        &mut self,
        tx: &mut dyn Tx,
        id: &str,
        version: u32,
    ) -> Result<Option<&Template>, StorageError> {
        let key = (id.to_owned(), version);
        if !self.0.contains_key(&key) {
            let t = tx
                .query(
                    "SELECT row_json FROM template WHERE id = $1 AND version = $2",
                    vals![id, i64::from(version)],
                )?
                .first()
                .and_then(|r| decode(r));
            self.0.insert(key.clone(), t);
        }
        Ok(self.0.get(&key).and_then(Option::as_ref))
    }
}

/// A photo row as the gallery shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct PhotoRow {
    pub(crate) sha256: String,
    pub(crate) state: String,
    pub(crate) taken_at: String,
    pub(crate) person: String,
    pub(crate) signature: String,
    pub(crate) fix: Option<String>,
}

/// Photos of a township by hash.
pub(crate) fn photos(
    tx: &mut dyn Tx,
    township: &str,
    hashes: &[String],
) -> Result<BTreeMap<String, PhotoRow>, StorageError> {
    let mut out = BTreeMap::new();
    for h in hashes {
        if out.contains_key(h) {
            continue;
        }
        let rows = tx.query(
            "SELECT sha256, state, taken_at, person_id, signature, attestation FROM photo WHERE sha256 = $1 AND township_id = $2",
            vals![h, township],
        )?;
        if let Some(r) = rows.first() {
            let fix = opt_text(r, 5)
                .and_then(|a| serde_json::from_str::<serde_json::Value>(&a).ok())
                .and_then(|a| {
                    let f = a.get("fix")?;
                    Some(format!(
                        "{:.5}, {:.5} ±{:.0} m",
                        f.get("point")?.get("lat")?.as_f64()?,
                        f.get("point")?.get("lon")?.as_f64()?,
                        f.get("accuracy_m")?.as_f64()?
                    ))
                });
            out.insert(
                h.clone(),
                PhotoRow {
                    sha256: text(r, 0, "sha256")?,
                    state: text(r, 1, "state")?,
                    taken_at: opt_text(r, 2)
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                        .map(cn_time)
                        .unwrap_or_default(),
                    person: opt_text(r, 3).unwrap_or_default(),
                    signature: opt_text(r, 4).unwrap_or_default(),
                    fix,
                },
            );
        }
    }
    Ok(out)
}

/// A device that has not synced lately.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SilentDevice {
    pub(crate) name: String,
    pub(crate) person: String,
    pub(crate) role: String,
    pub(crate) last_seen: Option<String>,
}

/// Active devices of a township not seen since `since` (or never).
pub(crate) fn silent_devices(
    tx: &mut dyn Tx,
    township: &str,
    since: DateTime<Utc>,
) -> Result<Vec<SilentDevice>, StorageError> {
    tx.query(
        "SELECT d.name, p.name, d.role, d.last_seen_at FROM device d JOIN person p ON p.id = d.person_id
         WHERE d.township_id = $1 AND d.revoked_at IS NULL AND (d.last_seen_at IS NULL OR d.last_seen_at < $2)
         ORDER BY d.last_seen_at, d.id",
        vals![township, ts(since)],
    )?
    .iter()
    .map(|r| {
        Ok(SilentDevice {
            name: text(r, 0, "name")?,
            person: text(r, 1, "person")?,
            role: text(r, 2, "role")?,
            last_seen: opt_text(r, 3)
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .map(cn_time),
        })
    })
    .collect()
}

/// Photos attested but whose bytes have not arrived.
pub(crate) fn photos_pending(tx: &mut dyn Tx, township: &str) -> Result<i64, StorageError> {
    let rows = tx.query(
        "SELECT count(*) FROM photo WHERE township_id = $1 AND state = 'pending'",
        vals![township],
    )?;
    rows.first().map_or(Ok(0), |r| int(r, 0, "count"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly_and_count_china_days() {
        assert_eq!(
            Month::parse("2026-11"),
            Some(Month {
                year: 2026,
                month: 11
            }),
            "YYYY-MM"
        );
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "abcd-ef", "2026-00",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad} is refused");
        }
        let m = Month::parse("2026-02").expect("month");
        assert_eq!(m.days(), 28, "February 2026");
        assert_eq!(m.prev().to_string(), "2026-01", "previous month");
        assert_eq!(
            Month::parse("2026-12").expect("month").next().to_string(),
            "2027-01",
            "year wraps"
        );
        let (start, _) = Month::parse("2026-11").expect("month").range();
        assert_eq!(
            start.to_rfc3339(),
            "2026-10-31T16:00:00+00:00",
            "a China-time month starts at 16:00 UTC the day before"
        );
    }
}
