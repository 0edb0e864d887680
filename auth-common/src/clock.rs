//! The time every decision reads: whether a token has expired, a key has activated, a
//! refresh token has gone idle, a cooldown is over.
//!
//! Each service makes one [`Clock`] at start-up ([`Clock::system`]) and hands it to
//! whatever decides by time: the verifier, the JWKS cache, the key ring, the token issuer,
//! the refresh-token rules. Tests hand them a [`TestClock`] instead (feature
//! `test-support`) and move time by hand, so no test waits for time to pass.
//!
//! Two readings, for two jobs:
//! - [`Clock::now`], the calendar time: for what is written down or compared with written
//!   times (claims, key activation times, refresh-token rows).
//! - [`Clock::instant`], monotonic: for intervals kept in memory (a cooldown, a cache
//!   entry's age), which must not jump when the system clock is set.
//!
//! *When* a background loop wakes up stays on tokio's real timers; *what it decides* once
//! awake reads the clock.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

/// A source of the time. [`SystemClock`] in production; [`TestClock`] in tests.
trait TimeSource: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn instant(&self) -> Instant;
}

/// The time, cheap to clone (an `Arc`): every clone reads the same source.
#[derive(Clone)]
pub struct Clock(Arc<dyn TimeSource>);

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self(Arc::new(SystemClock))
    }

    /// The calendar time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    /// Whole seconds since the epoch, as JWT claims count them (rounded down).
    pub fn unix_now(&self) -> i64 {
        self.now().timestamp()
    }

    /// A monotonic reading, for measuring intervals.
    pub fn instant(&self) -> Instant {
        self.0.instant()
    }
}

impl Default for Clock {
    /// [`Clock::system`].
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.now().to_rfc3339())
    }
}

/// The operating system's clock: `Utc::now()` and `Instant::now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl TimeSource for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

impl From<SystemClock> for Clock {
    fn from(clock: SystemClock) -> Self {
        Self(Arc::new(clock))
    }
}

#[cfg(any(test, feature = "test-support"))]
pub use test_clock::TestClock;

#[cfg(any(test, feature = "test-support"))]
mod test_clock {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use chrono::{DateTime, Utc};

    use super::{Clock, TimeSource};

    /// A clock that stands still until a test moves it. Clones share one time, so a test
    /// that gives a clone to each service moves them all at once.
    #[derive(Clone)]
    pub struct TestClock(Arc<Mutex<State>>);

    struct State {
        now: DateTime<Utc>,
        /// The monotonic reading: never goes back, even when [`TestClock::set`] does.
        instant: Instant,
    }

    impl TestClock {
        /// A clock stopped at the real time of the call.
        pub fn new() -> Self {
            Self::at(Utc::now())
        }

        /// A clock stopped at `now`.
        pub fn at(now: DateTime<Utc>) -> Self {
            Self(Arc::new(Mutex::new(State { now, instant: Instant::now() })))
        }

        /// The time it shows.
        pub fn now(&self) -> DateTime<Utc> {
            self.state().now
        }

        /// Moves the time forward by `by`.
        pub fn advance(&self, by: Duration) {
            let mut state = self.state();
            state.now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
            state.instant += by;
        }

        /// Sets the time to `to`. Forward moves the monotonic reading too; backward moves
        /// only the calendar time (as when a system clock is set back).
        pub fn set(&self, to: DateTime<Utc>) {
            let mut state = self.state();
            if let Ok(forward) = (to - state.now).to_std() {
                state.instant += forward;
            }
            state.now = to;
        }

        /// The [`Clock`] to hand to the code under test.
        pub fn clock(&self) -> Clock {
            Clock(Arc::new(self.clone()))
        }

        fn state(&self) -> std::sync::MutexGuard<'_, State> {
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    impl Default for TestClock {
        fn default() -> Self {
            Self::new()
        }
    }

    impl std::fmt::Debug for TestClock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "TestClock({})", self.now().to_rfc3339())
        }
    }

    impl TimeSource for TestClock {
        fn now(&self) -> DateTime<Utc> {
            TestClock::now(self)
        }

        fn instant(&self) -> Instant {
            self.state().instant
        }
    }

    impl From<&TestClock> for Clock {
        fn from(clock: &TestClock) -> Self {
            clock.clock()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_test_clock_stands_still_until_moved_and_its_clones_move_together() {
            let start = DateTime::from_timestamp(1_000_000, 0).unwrap();
            let test = TestClock::at(start);
            let clock = test.clock();
            let (before, instant) = (clock.now(), clock.instant());
            std::thread::sleep(Duration::from_millis(2));
            assert_eq!((clock.now(), clock.instant()), (before, instant), "no real time leaks in");
            test.clone().advance(Duration::from_millis(1500));
            assert_eq!(clock.now(), start + chrono::Duration::milliseconds(1500));
            assert_eq!(clock.unix_now(), 1_000_001, "whole seconds, rounded down");
            assert_eq!(clock.instant() - instant, Duration::from_millis(1500));
        }

        #[test]
        fn setting_a_test_clock_back_moves_the_calendar_but_not_the_monotonic_reading() {
            let start = DateTime::from_timestamp(1_000_000, 0).unwrap();
            let test = TestClock::at(start);
            let instant = test.clock().instant();
            test.set(start + chrono::Duration::seconds(10));
            assert_eq!(test.clock().instant() - instant, Duration::from_secs(10));
            test.set(start);
            assert_eq!(test.now(), start);
            assert_eq!(test.clock().instant() - instant, Duration::from_secs(10), "monotonic time never goes back");
        }
    }
}
