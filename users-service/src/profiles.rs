//! Public profiles (`{id, username, created_at}`) by id, remembered in memory.
//!
//! Every page of posts asks for its authors (`GET /users?ids=`), so this lookup is the
//! hottest read in the system. The profiling in `docs/benchmarks.md` found a batch lookup
//! spending more time preparing and running its SQL, and handing the work to the blocking
//! pool and back, than everything else users-service does for the request.
//!
//! **Why a cache cannot serve a wrong answer here.** A profile never changes once its row
//! exists: there is no rename, and the id, name and creation time are fixed at
//! registration. So a cached profile is never *outdated*, whatever another replica does,
//! and each replica can keep its own cache without any invalidation protocol. What a cache
//! could get wrong is a user deleted behind the service's back (there is no API for it):
//! entries therefore live at most `USER_CACHE_TTL_SECS` (60 s), like the bounded lifespan
//! of Keycloak's user cache, and `USER_CACHE_TTL_SECS=0` turns the cache off.
//!
//! - Only found users are remembered. An unknown id is asked of the database every time,
//!   so a user registered a moment later is found at once.
//! - No e-mail address or password hash is cached: `GET /users/me` reads the database.
//! - Bounded (`USER_CACHE_ENTRIES`, 10 000 by default), with S3-FIFO eviction
//!   ([`quick_cache`]): a scan of many ids cannot push out the authors everyone reads.

use std::time::{Duration, Instant};

use auth_common::clock::Clock;
use chrono::{DateTime, Utc};
use quick_cache::sync::Cache;
use serde::Serialize;

use crate::db::models::UserRow;

/// A user as any authorised caller sees it: no e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    #[serde(serialize_with = "auth_common::service::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for PublicUser {
    fn from(row: UserRow) -> Self {
        Self { id: row.id, username: row.username, created_at: row.created_at.and_utc() }
    }
}

#[derive(Clone)]
struct Entry {
    user: PublicUser,
    stored: Instant,
}

/// The profile cache; see the module docs.
pub struct Profiles {
    /// `None` when turned off.
    cache: Option<Cache<i64, Entry>>,
    ttl: Duration,
    clock: Clock,
}

/// What the cache knew of a batch of ids.
pub struct Lookup {
    /// Profiles found in memory.
    pub found: Vec<PublicUser>,
    /// Ids the database must be asked for.
    pub missing: Vec<i64>,
}

impl Profiles {
    /// Up to `entries` profiles, each kept for `ttl` as `clock` counts it; either at zero
    /// turns the cache off.
    pub fn new(entries: usize, ttl: Duration, clock: Clock) -> Self {
        let cache = (entries > 0 && !ttl.is_zero()).then(|| Cache::new(entries));
        Self { cache, ttl, clock }
    }

    /// Splits `ids` into the profiles in memory and the ids still to look up.
    pub fn lookup(&self, ids: &[i64]) -> Lookup {
        let Some(cache) = &self.cache else {
            return Lookup { found: Vec::new(), missing: ids.to_vec() };
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        let now = self.clock.instant();
        for &id in ids {
            match cache.get(&id) {
                Some(entry) if now.saturating_duration_since(entry.stored) < self.ttl => found.push(entry.user),
                _ => missing.push(id),
            }
        }
        Lookup { found, missing }
    }

    /// Remembers profiles just read from the database.
    pub fn remember(&self, users: &[PublicUser]) {
        if let Some(cache) = &self.cache {
            let stored = self.clock.instant();
            for user in users {
                cache.insert(user.id, Entry { user: user.clone(), stored });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> PublicUser {
        PublicUser { id, username: format!("user{id}"), created_at: DateTime::UNIX_EPOCH }
    }

    #[test]
    fn remembered_profiles_are_found_and_the_rest_reported_missing() {
        let profiles = Profiles::new(100, Duration::from_secs(60), Clock::system());
        assert_eq!(profiles.lookup(&[1, 2]).missing, [1, 2], "nothing cached yet");
        profiles.remember(&[user(1), user(3)]);
        let lookup = profiles.lookup(&[1, 2, 3]);
        assert_eq!(lookup.found, [user(1), user(3)]);
        assert_eq!(lookup.missing, [2], "an unknown id is never remembered as absent");
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let clock = auth_common::clock::TestClock::new();
        let profiles = Profiles::new(100, Duration::from_millis(1), clock.clock());
        profiles.remember(&[user(1)]);
        clock.advance(Duration::from_millis(5));
        assert_eq!(profiles.lookup(&[1]).missing, [1]);
    }

    #[test]
    fn zero_entries_or_zero_ttl_turn_it_off() {
        for profiles in [
            Profiles::new(0, Duration::from_secs(60), Clock::system()),
            Profiles::new(100, Duration::ZERO, Clock::system()),
        ] {
            profiles.remember(&[user(1)]);
            let lookup = profiles.lookup(&[1]);
            assert!(lookup.found.is_empty());
            assert_eq!(lookup.missing, [1]);
        }
    }
}
