//! Entity identifiers.
//!
//! Every entity id is a UUIDv7 made on the device that creates the entity; the server never
//! assigns ids. Each entity has its own newtype so that a household id cannot be passed where a
//! zone id is expected. [`IdGen`] makes ids from a [`Clock`] so that the time part follows the
//! same (possibly fake) clock as everything else.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;

macro_rules! entity_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (for example one read back from storage).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdError { kind: stringify!($name), input: s.chars().take(64).collect() })
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    )*};
}

entity_id! {
    /// A township (乡镇).
    TownshipId;
    /// An administrative village (行政村).
    VillageId;
    /// A village group (村民组).
    GroupId;
    /// A household (农户).
    HouseholdId;
    /// A business or unit (经营户 / 单位).
    BusinessId;
    /// A responsibility zone (责任区).
    ZoneId;
    /// A facility: bin, pool, garbage room, transfer station (设施).
    FacilityId;
    /// A person: cleaner, inspector, township staff.
    PersonId;
    /// An assignment of a person to zones or villages.
    AssignmentId;
    /// An enrolled device (phone).
    DeviceId;
    /// A checklist template (one id across all its versions).
    TemplateId;
    /// An inspection (检查记录).
    InspectionId;
    /// A cleaner's round (巡回保洁记录).
    RoundId;
    /// A problem reported by a cleaner during a round.
    ProblemId;
    /// A rectification order (整改通知).
    RectificationId;
    /// One mutation in a device's outbox.
    MutationId;
}

/// A string that is not a UUID was given where an id was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind}: '{input}' is not a valid id (expected a UUID such as 0192f0c1-7c3a-7b2e-8f00-000000000001)"
)]
pub struct IdError {
    kind: &'static str,
    input: String,
}

/// Makes UUIDv7 ids whose time part comes from a [`Clock`].
///
/// Ids made by one generator are strictly increasing, even when the clock stands still or jumps
/// backwards: the 74 random-or-counter bits carry the order.
#[derive(Debug)]
pub struct IdGen<C> {
    clock: C,
    state: Mutex<GenState>,
}

#[derive(Debug)]
struct GenState {
    last_ms: u64,
    counter: u128,
    seeded: Option<u64>,
}

impl<C: Clock> IdGen<C> {
    /// A generator whose random bits come from the operating system.
    pub fn new(clock: C) -> Self {
        Self {
            clock,
            state: Mutex::new(GenState {
                last_ms: 0,
                counter: 0,
                seeded: None,
            }),
        }
    }

    /// A deterministic generator for tests and benchmarks: the same seed and clock give the same ids.
    pub fn seeded(clock: C, seed: u64) -> Self {
        Self {
            clock,
            state: Mutex::new(GenState {
                last_ms: 0,
                counter: 0,
                seeded: Some(seed),
            }),
        }
    }

    /// The next id as a bare UUID.
    pub fn next_uuid(&self) -> Uuid {
        let now = u64::try_from(self.clock.now_ms()).unwrap_or(0);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tail: u128 = if now > st.last_ms {
            st.last_ms = now;
            st.counter = match st.seeded {
                // Leave headroom so the counter can grow within one millisecond.
                Some(seed) => u128::from(splitmix(seed ^ now)) << 8,
                None => u128::from_le_bytes(random_bytes()) >> 56,
            };
            st.counter
        } else {
            st.counter += 1;
            st.counter
        };
        let ms = st.last_ms;
        drop(st);
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&tail.to_be_bytes()[6..]);
        uuid::Builder::from_custom_bytes(bytes)
            .with_version(uuid::Version::SortRand)
            .into_uuid()
    }

    /// The next id of a given entity type.
    pub fn next<T: From<Uuid>>(&self) -> T {
        T::from(self.next_uuid())
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn random_bytes() -> [u8; 16] {
    // uuid's v4 generator is the crate's own access to the OS random source.
    #[expect(
        clippy::disallowed_methods,
        reason = "only as a source of random bits, not as an id"
    )]
    let u = Uuid::new_v4();
    *u.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    #[test]
    fn ids_are_v7_and_strictly_increasing_even_when_the_clock_stands_still_or_goes_back() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let ids = IdGen::new(&clock);
        let mut prev: HouseholdId = ids.next();
        assert_eq!(prev.as_uuid().get_version_num(), 7, "entity ids are UUIDv7");
        for step in [0, 0, 5, -60_000, 0, 1] {
            clock.advance_ms(step);
            let id: HouseholdId = ids.next();
            assert!(
                id > prev,
                "ids from one generator must sort in creation order ({prev} then {id})"
            );
            prev = id;
        }
    }

    #[test]
    fn seeded_generators_repeat() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let a = IdGen::seeded(&clock, 7);
        let b = IdGen::seeded(&clock, 7);
        assert_eq!(
            a.next_uuid(),
            b.next_uuid(),
            "same seed and clock give the same ids"
        );
    }

    #[test]
    fn parse_errors_name_the_kind() {
        let err = "not-a-uuid"
            .parse::<ZoneId>()
            .expect_err("garbage must not parse");
        assert!(
            err.to_string().contains("ZoneId"),
            "the error says which id: {err}"
        );
    }
}
