//! Time as an input.
//!
//! Nothing in Cunjie reads the wall clock except [`SystemClock`]; everything else takes a
//! [`Clock`] so that tests can move time by hand with [`FakeClock`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// The current instant as Unix milliseconds.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The one wall-clock reader in the whole code base.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "the only wall-clock read")]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Shared freely between threads.
#[derive(Debug)]
pub struct FakeClock {
    ms: AtomicI64,
    // Serialises `advance` against `set` so a test can reason about the sequence.
    lock: Mutex<()>,
}

impl FakeClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            ms: AtomicI64::new(start.timestamp_millis()),
            lock: Mutex::new(()),
        }
    }

    /// A clock stopped at the given UTC date and time.
    pub fn at(year: i32, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Self {
        let start = Utc
            .with_ymd_and_hms(year, month, day, hour, min, sec)
            .single()
            .expect("FakeClock::at takes a valid calendar date and time");
        Self::new(start)
    }

    /// Moves the clock forward (or backward with a negative value) by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to an absolute instant (it may jump backwards, as phone clocks do).
    pub fn set(&self, at: DateTime<Utc>) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.ms.store(at.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let ms = self.ms.load(Ordering::SeqCst);
        Utc.timestamp_millis_opt(ms)
            .single()
            .expect("FakeClock holds a representable instant")
    }

    fn now_ms(&self) -> i64 {
        self.ms.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let clock = FakeClock::at(2026, 11, 22, 8, 0, 0);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0, "a fake clock must not move by itself");
        clock.advance_ms(1_500);
        assert_eq!(
            (clock.now() - t0).num_milliseconds(),
            1_500,
            "advance moves by the given ms"
        );
        clock.advance_ms(-60_000);
        assert!(
            clock.now() < t0,
            "a fake clock can jump backwards like a phone's"
        );
    }
}
