//! Login throttling: repeated failures for one username from one client address lock
//! that pair out for a while. Other users, and the same user from elsewhere, are not
//! affected (no cheap lockout of someone else's account), and a success clears the count.
//!
//! After `FREE_FAILURES` failures within `WINDOW`, the pair is refused with 429 for
//! `BASE_LOCKOUT`, doubling with each further failure up to `WINDOW`. A token bucket
//! (governor's model) cannot be reset by a success, which this policy needs, so the
//! state is a small map, bounded and swept of stale entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the pair is locked out.
const FREE_FAILURES: u32 = 5;
/// How long failures are remembered, and the longest lockout.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first lockout; each further failure doubles it.
const BASE_LOCKOUT: Duration = Duration::from_secs(30);
/// Entries kept at most; beyond that, stale ones are swept and then the oldest dropped.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
}

/// The failure counts, keyed by (normalised username, client address).
#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<(String, IpAddr), Entry>>,
}

impl LoginThrottle {
    /// `Err(retry_after)` while `username` is locked out for `client`.
    pub fn check(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&(username.to_owned(), client)).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failed login; returns the lockout it starts, if any.
    pub fn record_failure(&self, username: &str, client: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            sweep(&mut entries, now);
        }
        let entry = entries.entry((username.to_owned(), client)).or_insert(Entry {
            failures: 0,
            first_failure: now,
            locked_until: None,
        });
        if now.duration_since(entry.first_failure) > WINDOW {
            *entry = Entry { failures: 0, first_failure: now, locked_until: None };
        }
        entry.failures += 1;
        if entry.failures < FREE_FAILURES {
            return None;
        }
        let doublings = (entry.failures - FREE_FAILURES).min(10);
        let lockout = (BASE_LOCKOUT * 2u32.pow(doublings)).min(WINDOW);
        entry.locked_until = Some(now + lockout);
        Some(lockout)
    }

    /// A successful login clears the pair's count.
    pub fn record_success(&self, username: &str, client: IpAddr) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&(username.to_owned(), client));
    }
}

/// Drops entries whose window and lockout have passed; if that frees nothing, the
/// entries with the oldest first failure.
fn sweep(entries: &mut HashMap<(String, IpAddr), Entry>, now: Instant) {
    entries.retain(|_, e| now.duration_since(e.first_failure) <= WINDOW || e.locked_until.is_some_and(|t| t > now));
    if entries.len() >= MAX_ENTRIES {
        let mut ages: Vec<Instant> = entries.values().map(|e| e.first_failure).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 2];
        entries.retain(|_, e| e.first_failure > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_fifth_failure_locks_the_pair_and_further_ones_double_the_lockout() {
        let throttle = LoginThrottle::default();
        for _ in 1..FREE_FAILURES {
            assert_eq!(throttle.record_failure("alice", HOME), None);
        }
        assert!(throttle.check("alice", HOME).is_ok());
        assert_eq!(throttle.record_failure("alice", HOME), Some(BASE_LOCKOUT));
        assert!(throttle.check("alice", HOME).is_err());
        assert_eq!(throttle.record_failure("alice", HOME), Some(BASE_LOCKOUT * 2));
    }

    #[test]
    fn other_users_and_other_addresses_are_unaffected() {
        let throttle = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            throttle.record_failure("alice", HOME);
        }
        assert!(throttle.check("alice", HOME).is_err());
        assert!(throttle.check("bob", HOME).is_ok());
        assert!(throttle.check("alice", ELSEWHERE).is_ok());
    }

    #[test]
    fn a_success_clears_the_count() {
        let throttle = LoginThrottle::default();
        for _ in 1..FREE_FAILURES {
            throttle.record_failure("alice", HOME);
        }
        throttle.record_success("alice", HOME);
        assert_eq!(throttle.record_failure("alice", HOME), None, "counting starts again");
    }

    #[test]
    fn the_map_stays_bounded() {
        let throttle = LoginThrottle::default();
        for i in 0..(MAX_ENTRIES + 10) {
            throttle.record_failure(&format!("user{i}"), HOME);
        }
        assert!(throttle.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
