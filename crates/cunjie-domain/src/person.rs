//! People, their roles, and what they are assigned to (domain.md §2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AssignmentId, PersonId, TownshipId, VillageId, ZoneId};

/// The roles the app knows (a subset of E2 that acts in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// 保洁员: walks rounds of assigned zones.
    Cleaner,
    /// 垃圾清运员: collects and transports.
    Collector,
    /// 检查员: inspects households and villages (village inspection team or council).
    Inspector,
    /// 村环卫专干: the village's sanitation officer; inspects and files the self-evaluation.
    VillageSanitationOfficer,
    /// 镇考核组成员: township assessor doing the 16th–19th re-check.
    TownshipAssessor,
    /// 镇整治办: township office administrator.
    TownshipAdmin,
}

impl Role {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Cleaner => "保洁员",
            Self::Collector => "垃圾清运员",
            Self::Inspector => "检查员",
            Self::VillageSanitationOfficer => "村环卫专干",
            Self::TownshipAssessor => "镇考核组成员",
            Self::TownshipAdmin => "镇整治办管理员",
        }
    }

    /// Whether this role may record inspections.
    pub fn inspects(self) -> bool {
        matches!(
            self,
            Self::Inspector | Self::VillageSanitationOfficer | Self::TownshipAssessor
        )
    }

    /// Whether this role walks cleaning rounds.
    pub fn cleans(self) -> bool {
        matches!(self, Self::Cleaner | Self::Collector)
    }
}

/// A person known to the township.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Person {
    /// Id.
    pub id: PersonId,
    /// Township.
    pub township: TownshipId,
    /// Name.
    pub name: String,
    /// Mobile number, if given.
    pub phone: Option<String>,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// What an assignment covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssignmentTarget {
    /// A cleaner's responsibility zones (分区包干).
    Zones {
        /// Zones.
        zones: Vec<ZoneId>,
    },
    /// An inspector's villages.
    Villages {
        /// Villages.
        villages: Vec<VillageId>,
    },
}

/// A person's assignment, valid over a period. Authorisation of a fact is judged against the
/// assignment valid when the fact was captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assignment {
    /// Id.
    pub id: AssignmentId,
    /// Who.
    pub person: PersonId,
    /// In which role.
    pub role: Role,
    /// To what.
    pub target: AssignmentTarget,
    /// From when.
    pub valid_from: DateTime<Utc>,
    /// Until when (exclusive); open-ended when `None`.
    pub valid_to: Option<DateTime<Utc>>,
}

impl Assignment {
    /// Whether the assignment was in force at `at`.
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        at >= self.valid_from && self.valid_to.is_none_or(|end| at < end)
    }

    /// Whether this assignment, at `at`, covers the zone.
    pub fn covers_zone(&self, zone: ZoneId, at: DateTime<Utc>) -> bool {
        self.valid_at(at)
            && matches!(&self.target, AssignmentTarget::Zones { zones } if zones.contains(&zone))
    }

    /// Whether this assignment, at `at`, covers the village.
    pub fn covers_village(&self, village: VillageId, at: DateTime<Utc>) -> bool {
        self.valid_at(at)
            && matches!(&self.target, AssignmentTarget::Villages { villages } if villages.contains(&village))
    }
}

/// Cleaners a village needs under the 1-per-300-residents norm (000:35), at least one.
pub fn required_cleaners(population: u32, residents_per_cleaner: u32) -> u32 {
    population.div_ceil(residents_per_cleaner.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    #[test]
    fn assignment_validity_is_half_open() {
        let t = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let zone = ZoneId::from_uuid(Uuid::from_u128(9));
        let a = Assignment {
            id: AssignmentId::from_uuid(Uuid::from_u128(1)),
            person: PersonId::from_uuid(Uuid::from_u128(2)),
            role: Role::Cleaner,
            target: AssignmentTarget::Zones { zones: vec![zone] },
            valid_from: t(1),
            valid_to: Some(t(15)),
        };
        assert!(a.covers_zone(zone, t(1)), "valid from its first instant");
        assert!(a.covers_zone(zone, t(14)), "valid inside");
        assert!(!a.covers_zone(zone, t(15)), "not valid at its end");
        assert!(
            !a.covers_village(VillageId::from_uuid(Uuid::from_u128(9)), t(3)),
            "zones are not villages"
        );
    }

    #[test]
    fn staffing_norm() {
        assert_eq!(
            required_cleaners(0, 300),
            1,
            "even an empty village has one cleaner"
        );
        assert_eq!(required_cleaners(300, 300), 1, "300 residents: one");
        assert_eq!(required_cleaners(301, 300), 2, "301 residents: two");
        assert_eq!(
            required_cleaners(6_900, 300),
            23,
            "the 23 cleaners of 000:207"
        );
    }
}
