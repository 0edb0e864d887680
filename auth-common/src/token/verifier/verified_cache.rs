//! A bounded cache of verified tokens, so a client that sends the same token on every
//! request pays for one RSA verification, not one per request (Envoy's `jwt_cache_config`
//! is the model).
//!
//! - Keyed by the SHA-256 of the whole token: a cached signature can never vouch for a
//!   different header or payload, and the map holds no bearer token.
//! - An entry is served only while the token itself would still be accepted (`exp` plus the
//!   leeway), and only while its `kid` is still trusted: the key source is asked again on
//!   every hit, which is a map lookup.
//! - Emptied when the key source reports a new key set (a JWKS refetch that changed
//!   something, a key folder reload).
//! - Bounded: when full, expired entries go first, then everything.

use std::collections::HashMap;
use std::sync::RwLock;

use super::VerifiedToken;

type TokenDigest = [u8; 32];

struct Entry {
    verified: VerifiedToken,
    kid: Box<str>,
    /// Unix seconds after which the token is refused anyway: `exp` + leeway.
    valid_until: i64,
}

struct Inner {
    generation: u64,
    entries: HashMap<TokenDigest, Entry>,
}

/// Verified tokens by digest; see the module docs.
pub(super) struct VerifiedCache {
    capacity: usize,
    inner: RwLock<Inner>,
}

/// A cache hit: the claims, and the `kid` the caller must still find trusted.
pub(super) struct Hit {
    pub verified: VerifiedToken,
    pub kid: Box<str>,
}

impl VerifiedCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { capacity, inner: RwLock::new(Inner { generation: 0, entries: HashMap::new() }) }
    }

    pub(super) fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(super) fn digest(token: &str) -> TokenDigest {
        crate::token::sha256::digest(token.as_bytes())
    }

    /// The cached verification of `digest`, if still good at `now` under key-set `generation`.
    pub(super) fn get(&self, digest: &TokenDigest, generation: u64, now: i64) -> Option<Hit> {
        if self.capacity == 0 {
            return None;
        }
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if inner.generation != generation {
            return None;
        }
        let entry = inner.entries.get(digest).filter(|e| now <= e.valid_until)?;
        Some(Hit { verified: entry.verified.clone(), kid: entry.kid.clone() })
    }

    /// Remembers a verification made under key-set `generation`; `now` decides which
    /// entries have expired when the cache is full.
    pub(super) fn insert(
        &self,
        digest: TokenDigest,
        verified: &VerifiedToken,
        kid: &str,
        generation: u64,
        leeway: i64,
        now: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if generation < inner.generation {
            // Verified against a key set that has been replaced since.
            return;
        }
        if generation > inner.generation {
            // The key set changed: nothing verified before it may be served.
            inner.entries.clear();
            inner.generation = generation;
        }
        if inner.entries.len() >= self.capacity {
            inner.entries.retain(|_, e| now <= e.valid_until);
            if inner.entries.len() >= self.capacity {
                inner.entries.clear();
            }
        }
        let valid_until = verified.claims.exp.saturating_add(leeway);
        inner.entries.insert(digest, Entry { verified: verified.clone(), kid: kid.into(), valid_until });
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{now, user_claims};
    use crate::token::scope::ScopeSet;

    fn verified(exp: i64) -> VerifiedToken {
        let claims = crate::token::claims::AccessClaims { exp, ..user_claims("http://issuer.test") };
        VerifiedToken { scopes: ScopeSet::parse(&claims.scope).unwrap(), claims }
    }

    #[test]
    fn an_entry_is_served_until_exp_plus_leeway_and_not_after() {
        let cache = VerifiedCache::new(10);
        let digest = VerifiedCache::digest("token");
        cache.insert(digest, &verified(1000), "k1", 0, 30, 1000);
        assert!(cache.get(&digest, 0, 1030).is_some());
        assert!(cache.get(&digest, 0, 1031).is_none());
        assert!(cache.get(&VerifiedCache::digest("token2"), 0, 1000).is_none(), "another token misses");
    }

    #[test]
    fn a_new_key_set_empties_the_cache_and_stale_verifications_are_not_kept() {
        let cache = VerifiedCache::new(10);
        let digest = VerifiedCache::digest("token");
        let exp = now() + 300;
        cache.insert(digest, &verified(exp), "k1", 1, 0, now());
        assert!(cache.get(&digest, 2, now()).is_none(), "nothing served under a newer key set");
        cache.insert(VerifiedCache::digest("other"), &verified(exp), "k1", 2, 0, now());
        assert_eq!(cache.len(), 1, "the older entries are gone");
        cache.insert(digest, &verified(exp), "k1", 1, 0, now());
        assert!(cache.get(&digest, 2, now()).is_none(), "a verification under the old key set is dropped");
    }

    #[test]
    fn the_cache_stays_bounded_and_zero_capacity_turns_it_off() {
        let cache = VerifiedCache::new(3);
        for i in 0..10 {
            cache.insert(VerifiedCache::digest(&i.to_string()), &verified(now() + 300), "k1", 0, 0, now());
            assert!(cache.len() <= 3);
        }
        let off = VerifiedCache::new(0);
        let digest = VerifiedCache::digest("token");
        off.insert(digest, &verified(now() + 300), "k1", 0, 0, now());
        assert!(off.get(&digest, 0, now()).is_none());
    }
}
