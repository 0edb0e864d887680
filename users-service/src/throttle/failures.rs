//! Failure counting with lockouts: after `free_failures` failures for one key within
//! `window`, the key is refused for `base_lockout`, doubling with each further failure up
//! to `window`. A token bucket (governor's model) cannot be reset by a success, which this
//! policy needs, so the state is a small map, bounded and swept of stale entries.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a key is locked out.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before the key is locked out.
    pub free_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub base_lockout: Duration,
    /// How long failures are remembered, and the longest lockout.
    pub window: Duration,
    /// Entries kept at most; beyond that, stale ones are swept and then the oldest dropped.
    pub max_entries: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
}

/// Failure counts per key.
pub struct FailureThrottle<K> {
    policy: Policy,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Hash + Eq> FailureThrottle<K> {
    pub fn new(policy: Policy) -> Self {
        Self { policy, entries: Mutex::default() }
    }

    /// `Err(retry_after)` while `key` is locked out.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lockout it starts, if any.
    pub fn record_failure(&self, key: K) -> Option<Duration> {
        let Policy { free_failures, base_lockout, window, max_entries } = self.policy;
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= max_entries {
            sweep(&mut entries, now, &self.policy);
        }
        let entry = entries.entry(key).or_insert(Entry { failures: 0, first_failure: now, locked_until: None });
        if now.duration_since(entry.first_failure) > window {
            *entry = Entry { failures: 0, first_failure: now, locked_until: None };
        }
        entry.failures += 1;
        if entry.failures < free_failures {
            return None;
        }
        let doublings = (entry.failures - free_failures).min(10);
        let lockout = (base_lockout * 2u32.pow(doublings)).min(window);
        entry.locked_until = Some(now + lockout);
        Some(lockout)
    }

    /// A success clears the key's count.
    pub fn record_success(&self, key: &K) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Drops entries whose window and lockout have passed; if that frees nothing, the
/// entries with the oldest first failure.
fn sweep<K>(entries: &mut HashMap<K, Entry>, now: Instant, policy: &Policy) {
    entries
        .retain(|_, e| now.duration_since(e.first_failure) <= policy.window || e.locked_until.is_some_and(|t| t > now));
    if entries.len() >= policy.max_entries {
        let mut ages: Vec<Instant> = entries.values().map(|e| e.first_failure).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 2];
        entries.retain(|_, e| e.first_failure > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        free_failures: 5,
        base_lockout: Duration::from_secs(30),
        window: Duration::from_secs(900),
        max_entries: 1000,
    };

    #[test]
    fn the_fifth_failure_locks_the_key_and_further_ones_double_the_lockout() {
        let throttle = FailureThrottle::new(POLICY);
        for _ in 1..POLICY.free_failures {
            assert_eq!(throttle.record_failure("alice"), None);
        }
        assert!(throttle.check(&"alice").is_ok());
        assert_eq!(throttle.record_failure("alice"), Some(POLICY.base_lockout));
        assert!(throttle.check(&"alice").is_err());
        assert_eq!(throttle.record_failure("alice"), Some(POLICY.base_lockout * 2));
        assert!(throttle.check(&"bob").is_ok(), "other keys are unaffected");
    }

    #[test]
    fn lockouts_stop_doubling_at_the_window() {
        let throttle = FailureThrottle::new(POLICY);
        let last = (0..40).filter_map(|_| throttle.record_failure("alice")).last();
        assert_eq!(last, Some(POLICY.window));
    }

    #[test]
    fn a_success_clears_the_count() {
        let throttle = FailureThrottle::new(POLICY);
        for _ in 1..POLICY.free_failures {
            throttle.record_failure("alice");
        }
        throttle.record_success(&"alice");
        assert_eq!(throttle.record_failure("alice"), None, "counting starts again");
    }

    #[test]
    fn the_map_stays_bounded() {
        let throttle = FailureThrottle::new(POLICY);
        for i in 0..(POLICY.max_entries + 10) {
            throttle.record_failure(i);
        }
        assert!(throttle.len() <= POLICY.max_entries);
    }
}
