//! Hybrid logical clocks (sync.md §5.2).
//!
//! An [`Hlc`] is 48 bits of Unix milliseconds plus a 16-bit counter, with the device id as the
//! final tiebreak, so two edits never compare equal. A phone keeps one [`HlcClock`]; it reads
//! physical time as `device clock + learned offset`, where the offset is learned from the server's
//! time on every successful response. The server never trusts a phone's clock: [`clamp_incoming`]
//! caps an HLC at `server now + 60 s` and flags a skew of more than ten minutes.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::ids::DeviceId;

/// The largest millisecond value an HLC can carry (48 bits: the year 10889).
pub const MAX_HLC_MS: u64 = (1 << 48) - 1;
/// How far ahead of the server's clock an incoming HLC may be before it is clamped.
pub const CLAMP_DELTA_MS: i64 = 60_000;
/// A skew between device and server of more than this is flagged on the record.
pub const SKEW_FLAG_MS: i64 = 10 * 60_000;

/// One hybrid-logical-clock timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Hlc {
    /// Physical part, Unix milliseconds (48 bits).
    pub ms: u64,
    /// Logical counter within one millisecond.
    pub counter: u16,
    /// The device that made it: the last tiebreak.
    pub device: DeviceId,
}

impl Hlc {
    /// Builds an HLC, saturating the physical part at 48 bits.
    pub fn new(ms: u64, counter: u16, device: DeviceId) -> Self {
        Self {
            ms: ms.min(MAX_HLC_MS),
            counter,
            device,
        }
    }

    /// The 64-bit packed form `ms << 16 | counter` (what is stored and sent).
    pub fn packed(&self) -> u64 {
        (self.ms << 16) | u64::from(self.counter)
    }

    /// Unpacks the 64-bit form.
    pub fn from_packed(packed: u64, device: DeviceId) -> Self {
        Self {
            ms: packed >> 16,
            counter: (packed & 0xFFFF) as u16,
            device,
        }
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ms, self.counter, self.device).cmp(&(other.ms, other.counter, other.device))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A device's hybrid logical clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HlcClock {
    device: DeviceId,
    last_ms: u64,
    last_counter: u16,
    offset_ms: i64,
}

impl HlcClock {
    /// A fresh clock for a device, with no learned offset.
    pub fn new(device: DeviceId) -> Self {
        Self {
            device,
            last_ms: 0,
            last_counter: 0,
            offset_ms: 0,
        }
    }

    /// Restores a clock from its last issued HLC and learned offset (after the app restarts).
    pub fn restore(device: DeviceId, last: u64, offset_ms: i64) -> Self {
        let last = Hlc::from_packed(last, device);
        Self {
            device,
            last_ms: last.ms,
            last_counter: last.counter,
            offset_ms,
        }
    }

    /// The learned offset between the server's clock and this device's, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// The last HLC issued or observed, packed.
    pub fn last_packed(&self) -> u64 {
        (self.last_ms << 16) | u64::from(self.last_counter)
    }

    /// Learns the offset from a server response: `server_ms` is the server's time, `device_ms`
    /// the device clock when the response arrived.
    pub fn learn_offset(&mut self, server_ms: i64, device_ms: i64) {
        self.offset_ms = server_ms.saturating_sub(device_ms);
    }

    /// Physical time as this device best knows it.
    pub fn physical_ms(&self, clock: &dyn Clock) -> u64 {
        let ms = clock.now_ms().saturating_add(self.offset_ms);
        u64::try_from(ms).unwrap_or(0).min(MAX_HLC_MS)
    }

    /// A timestamp for a local event. Never goes backwards, even if the device clock does.
    pub fn tick(&mut self, clock: &dyn Clock) -> Hlc {
        let pt = self.physical_ms(clock);
        if pt > self.last_ms {
            self.last_ms = pt;
            self.last_counter = 0;
        } else {
            self.bump();
        }
        Hlc::new(self.last_ms, self.last_counter, self.device)
    }

    /// Folds in a timestamp received from elsewhere (the server or a pulled row).
    pub fn observe(&mut self, remote: Hlc, clock: &dyn Clock) {
        let pt = self.physical_ms(clock);
        let max_ms = pt.max(self.last_ms).max(remote.ms);
        let counter = if max_ms == self.last_ms && max_ms == remote.ms {
            self.last_counter.max(remote.counter)
        } else if max_ms == self.last_ms {
            self.last_counter
        } else if max_ms == remote.ms {
            remote.counter
        } else {
            self.last_ms = max_ms;
            self.last_counter = 0;
            return;
        };
        self.last_ms = max_ms;
        self.last_counter = counter;
    }

    fn bump(&mut self) {
        if self.last_counter == u16::MAX {
            self.last_ms = (self.last_ms + 1).min(MAX_HLC_MS);
            self.last_counter = 0;
        } else {
            self.last_counter += 1;
        }
    }
}

/// What the server made of an incoming HLC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Clamped {
    /// The HLC to store and order by: never more than [`CLAMP_DELTA_MS`] ahead of the server.
    pub hlc: Hlc,
    /// The device's HLC minus the server's clock, in ms (positive: the phone is ahead).
    pub skew_ms: i64,
    /// Whether the HLC had to be clamped.
    pub clamped: bool,
    /// Whether the skew exceeds [`SKEW_FLAG_MS`] and must be flagged on the record.
    pub skew_flagged: bool,
}

impl Clamped {
    /// Folds in what the phone said about its own clock (both absent from older phones):
    /// `device_ms`, its clock when it made the mutation, and `sent_skew_ms`, its clock when it
    /// sent the push minus the server's clock. The phone's HLC is its clock corrected by the
    /// offset it learned from the server, so `device_ms - incoming.ms` is how far its clock was
    /// off, however long ago the record was made; `sent_skew_ms` is how far it is off now (a
    /// clock changed since the phone last learned its offset shows only there). The skew kept
    /// is the largest of these and of the HLC's lead over the server, and is flagged over ten
    /// minutes; a record that merely waited offline is not flagged. With neither, the HLC's
    /// skew stands.
    pub fn with_device_clock(
        mut self,
        incoming: Hlc,
        device_ms: Option<i64>,
        sent_skew_ms: Option<i64>,
    ) -> Self {
        if device_ms.is_none() && sent_skew_ms.is_none() {
            return self;
        }
        let recorded =
            device_ms.map(|d| d.saturating_sub(i64::try_from(incoming.ms).unwrap_or(i64::MAX)));
        self.skew_ms = [Some(self.skew_ms.max(0)), recorded, sent_skew_ms]
            .into_iter()
            .flatten()
            .max_by_key(|s| s.unsigned_abs())
            .unwrap_or(0);
        self.skew_flagged = self.skew_ms.unsigned_abs() > SKEW_FLAG_MS.unsigned_abs();
        self
    }
}

/// The server-side guard: `min(client_hlc, server_now + Δ)`, keeping the raw skew.
pub fn clamp_incoming(incoming: Hlc, server_now_ms: i64) -> Clamped {
    let incoming_ms = i64::try_from(incoming.ms).unwrap_or(i64::MAX);
    let skew_ms = incoming_ms.saturating_sub(server_now_ms);
    let cap_ms = u64::try_from(server_now_ms.saturating_add(CLAMP_DELTA_MS)).unwrap_or(0);
    let cap = Hlc::new(cap_ms, 0, incoming.device);
    let clamped = incoming.packed() > cap.packed();
    Clamped {
        hlc: if clamped { cap } else { incoming },
        skew_ms,
        clamped,
        skew_flagged: skew_ms.unsigned_abs() > SKEW_FLAG_MS.unsigned_abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn dev(n: u128) -> DeviceId {
        DeviceId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn tick_is_monotonic_when_the_phone_clock_jumps_back() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let mut hlc = HlcClock::new(dev(1));
        let a = hlc.tick(&clock);
        clock.advance_ms(-86_400_000);
        let b = hlc.tick(&clock);
        let c = hlc.tick(&clock);
        assert!(
            a < b && b < c,
            "HLC must keep increasing after the device clock went back a day"
        );
        assert_eq!(
            b.ms, a.ms,
            "physical part holds while the wall clock is behind"
        );
    }

    #[test]
    fn observe_moves_past_a_remote_timestamp() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let mut hlc = HlcClock::new(dev(1));
        let remote = Hlc::new(clock.now_ms() as u64 + 5_000, 9, dev(2));
        hlc.observe(remote, &clock);
        let next = hlc.tick(&clock);
        assert!(
            next > remote,
            "a local event after receiving must order after what was received"
        );
    }

    #[test]
    fn counter_overflow_carries_into_ms() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let mut hlc = HlcClock::restore(dev(1), ((clock.now_ms() as u64) << 16) | 0xFFFF, 0);
        let next = hlc.tick(&clock);
        assert_eq!(next.counter, 0, "counter wraps to zero");
        assert_eq!(
            next.ms,
            clock.now_ms() as u64 + 1,
            "and the ms part carries"
        );
    }

    #[test]
    fn the_device_clock_error_is_flagged_not_the_time_a_record_waited() {
        let now = 1_800_000_000_000i64;
        let day = 86_400_000i64;
        // Made three days ago offline on a right clock, pushed now: not skewed.
        let hlc = Hlc::new((now - 3 * day) as u64, 0, dev(1));
        let c = clamp_incoming(hlc, now).with_device_clock(hlc, Some(now - 3 * day), Some(0));
        assert!(!c.skew_flagged && c.skew_ms == 0, "{c:?}");
        // A phone a year ahead whose HLC the learned offset corrected: flagged, its error kept.
        let c = clamp_incoming(hlc, now).with_device_clock(
            hlc,
            Some(now - 3 * day + 365 * day),
            Some(365 * day),
        );
        assert!(c.skew_flagged && c.skew_ms == 365 * day, "{c:?}");
        // Five minutes slow: not flagged.
        let c = clamp_incoming(hlc, now).with_device_clock(
            hlc,
            Some(now - 3 * day - 300_000),
            Some(-300_000),
        );
        assert!(!c.skew_flagged && c.skew_ms == -300_000, "{c:?}");
        // An HLC a day in the future, the device clock agreeing: clamped and flagged.
        let ahead = Hlc::new((now + day) as u64, 0, dev(1));
        let c = clamp_incoming(ahead, now).with_device_clock(ahead, Some(now + day), None);
        assert!(c.clamped && c.skew_flagged && c.skew_ms == day, "{c:?}");
        // The clock went back a day since the phone last learned its offset: the record looks
        // right against its HLC, the push shows it.
        let c = clamp_incoming(hlc, now).with_device_clock(hlc, Some(now - 3 * day), Some(-day));
        assert!(c.skew_flagged && c.skew_ms == -day, "{c:?}");
        // Older phones: the HLC's skew stands.
        let c = clamp_incoming(hlc, now).with_device_clock(hlc, None, None);
        assert!(c.skew_flagged && c.skew_ms == -3 * day, "{c:?}");
    }

    #[test]
    fn learned_offset_corrects_a_slow_phone() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let mut hlc = HlcClock::new(dev(1));
        hlc.learn_offset(clock.now_ms() + 3_600_000, clock.now_ms());
        assert_eq!(
            hlc.tick(&clock).ms as i64,
            clock.now_ms() + 3_600_000,
            "offset applied"
        );
    }

    #[test]
    fn clamp_table() {
        let now = 1_790_000_000_000i64;
        // (device skew ms, expect clamped, expect flagged)
        let cases = [
            (-30 * 86_400_000i64, false, true),
            (-86_400_000, false, true),
            (-300_000, false, false),
            (0, false, false),
            (59_000, false, false),
            (300_000, true, false),
            (86_400_000, true, true),
            (365 * 86_400_000, true, true),
        ];
        for (skew, want_clamped, want_flag) in cases {
            let inc = Hlc::new((now + skew) as u64, 3, dev(1));
            let c = clamp_incoming(inc, now);
            assert_eq!(c.clamped, want_clamped, "skew {skew}: clamped");
            assert_eq!(c.skew_flagged, want_flag, "skew {skew}: flagged");
            assert_eq!(c.skew_ms, skew, "skew {skew}: raw skew kept");
            assert!(
                c.hlc.ms as i64 <= now + CLAMP_DELTA_MS,
                "skew {skew}: never beyond the cap"
            );
        }
    }

    proptest! {
        #[test]
        fn packed_round_trips(ms in 0u64..=MAX_HLC_MS, counter: u16) {
            let h = Hlc::new(ms, counter, dev(5));
            prop_assert_eq!(Hlc::from_packed(h.packed(), dev(5)), h);
        }

        #[test]
        fn ticks_are_strictly_increasing_under_any_clock_walk(steps in proptest::collection::vec(-100_000i64..100_000, 1..200)) {
            let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
            let mut hlc = HlcClock::new(dev(1));
            let mut prev = hlc.tick(&clock);
            for s in steps {
                clock.advance_ms(s);
                let next = hlc.tick(&clock);
                prop_assert!(next > prev);
                prev = next;
            }
        }

        #[test]
        fn clamp_never_exceeds_cap(ms in 0u64..=MAX_HLC_MS, now in 0i64..4_000_000_000_000) {
            let c = clamp_incoming(Hlc::new(ms, 1, dev(1)), now);
            prop_assert!(c.hlc.ms as i64 <= now + CLAMP_DELTA_MS);
            prop_assert!(c.hlc.packed() <= Hlc::new(ms, 1, dev(1)).packed());
        }
    }
}
