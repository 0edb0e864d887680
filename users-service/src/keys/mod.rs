//! users-service's signing keys: which key signs, which are published, and the key source
//! its own verifier uses.
//!
//! A key's place is decided by its recorded times, not only its recorded state, so that
//! scheduled transitions happen on time without anyone rewriting files: a `pending` key
//! whose `activates_at` has passed signs; the newest activated key is the signer and older
//! ones are retiring; a key whose `retires_at` has passed is gone.

pub mod store;

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use auth_common::env::AppEnv;
use auth_common::keys::{KeyMap, KeySource};
use auth_common::signing::SigningKey;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;

use self::store::{KeyRecord, KeyState, StoredKey};

/// The keys in force at one moment.
#[derive(Debug)]
pub struct KeySet {
    /// The key that signs new tokens.
    pub signer: SigningKey,
    /// Every key still published: the signer, pending keys and retiring keys.
    pub jwks: JwkSet,
    decoding: KeyMap,
}

impl KeySet {
    /// The keys of `stored` in force at `now`; an error when none can sign.
    pub fn at(stored: &[StoredKey], now: DateTime<Utc>) -> anyhow::Result<Self> {
        let live: Vec<&StoredKey> =
            stored.iter().filter(|k| effective_state(&k.record, now) != KeyState::Retired).collect();
        let signer = live
            .iter()
            .filter(|k| effective_state(&k.record, now) == KeyState::Active)
            .max_by_key(|k| (k.record.activates_at.unwrap_or(k.record.created_at), k.record.created_at))
            .map(|k| k.key.clone())
            .context("no key can sign: every key is pending or retired")?;
        let jwks = JwkSet { keys: live.iter().map(|k| k.key.jwk().clone()).collect() };
        let decoding = auth_common::keys::keys_from_jwks(&jwks);
        Ok(Self { signer, jwks, decoding })
    }
}

/// What a key's record means at `now`.
pub fn effective_state(record: &KeyRecord, now: DateTime<Utc>) -> KeyState {
    if record.state == KeyState::Retired || record.retires_at.is_some_and(|t| t <= now) {
        return KeyState::Retired;
    }
    match record.state {
        KeyState::Pending if record.activates_at.is_some_and(|t| t <= now) => KeyState::Active,
        state => state,
    }
}

/// The live key set, shared by the token issuer, the JWKS endpoint and the verifier.
pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
}

impl KeyRing {
    /// A ring holding `set`.
    pub fn new(set: KeySet) -> Self {
        Self { current: RwLock::new(Arc::new(set)) }
    }

    /// Loads the keys in `dir`. In development an empty folder gets a fresh key; in
    /// production a missing key stops the start.
    pub fn load(dir: &Path, app_env: AppEnv) -> anyhow::Result<Self> {
        let mut stored = store::load_all(dir)?;
        if stored.is_empty() {
            if app_env == AppEnv::Production {
                bail!(
                    "JWT_KEYS_DIR {}: no signing key, and production never generates one; \
                     create one with `users-service keys rotate` and keep the folder on a persistent volume",
                    dir.display()
                );
            }
            stored.push(generate_first_key(dir)?);
        }
        Ok(Self::new(KeySet::at(&stored, Utc::now())?))
    }

    /// The keys in force now. Cheap: a clone of an `Arc`.
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            // A poisoned lock only means a writer panicked mid-swap; the Arc inside is whole.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the key set.
    pub fn replace(&self, set: KeySet) {
        match self.current.write() {
            Ok(mut guard) => *guard = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
    }
}

impl KeySource for KeyRing {
    fn key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Option<Arc<DecodingKey>>> {
        let found = self.current().decoding.get(kid).cloned();
        Box::pin(async move { found })
    }
}

fn generate_first_key(dir: &Path) -> anyhow::Result<StoredKey> {
    let key = SigningKey::generate()?;
    let now = Utc::now();
    let record = KeyRecord {
        kid: key.kid().to_owned(),
        state: KeyState::Active,
        created_at: now,
        activates_at: Some(now),
        retires_at: None,
    };
    store::write_key(dir, &key, &record)?;
    log::info!("generated signing key {} in {} (development only)", key.kid(), dir.display());
    Ok(StoredKey { record, key })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn stored(state: KeyState, activates: Option<i64>, retires: Option<i64>, created: i64) -> StoredKey {
        let key = SigningKey::generate().unwrap();
        let base = DateTime::from_timestamp(1_000_000, 0).unwrap();
        StoredKey {
            record: KeyRecord {
                kid: key.kid().to_owned(),
                state,
                created_at: base + Duration::seconds(created),
                activates_at: activates.map(|s| base + Duration::seconds(s)),
                retires_at: retires.map(|s| base + Duration::seconds(s)),
            },
            key,
        }
    }

    #[test]
    fn a_pending_key_signs_once_its_time_has_come_and_the_old_key_stays_published() {
        let old = stored(KeyState::Active, Some(0), Some(500), 0);
        let new = stored(KeyState::Pending, Some(100), None, 50);
        let base = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let keys = [old.clone(), new.clone()];
        let before = KeySet::at(&keys, base + Duration::seconds(99)).unwrap();
        assert_eq!(before.signer.kid(), old.key.kid());
        assert_eq!(before.jwks.keys.len(), 2, "the pending key is published before it signs");
        let after = KeySet::at(&keys, base + Duration::seconds(100)).unwrap();
        assert_eq!(after.signer.kid(), new.key.kid());
        assert_eq!(after.jwks.keys.len(), 2, "the old key stays until it retires");
        let later = KeySet::at(&keys, base + Duration::seconds(500)).unwrap();
        assert_eq!(later.jwks.keys.len(), 1);
    }

    #[test]
    fn a_set_with_no_possible_signer_is_refused() {
        let pending = stored(KeyState::Pending, Some(100), None, 0);
        let base = DateTime::from_timestamp(1_000_000, 0).unwrap();
        assert!(KeySet::at(&[pending], base).is_err());
    }
}
