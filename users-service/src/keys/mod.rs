//! users-service's signing keys: which key signs, which are published, and the key source
//! its own verifier uses.
//!
//! A key's place follows from its recorded times, evaluated at the moment of each use, so
//! scheduled transitions happen exactly on time with nobody rewriting files: a `pending`
//! key signs from its `activates_at`; of the keys that may sign, the most recently
//! activated one does and the others are retiring (published, not signing); a key whose
//! `retires_at` has passed is gone from the JWKS and from the verifier.
//!
//! "Now" is the ring's [`Clock`]: the service's own, which tests move by hand.
//!
//! The keys commands (`users-service keys …`, see [`commands`]) change the files; a
//! running service picks the change up through [`reloader`] within a second, or at once
//! on `SIGHUP`.

pub mod commands;
pub mod reloader;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use auth_common::clock::Clock;
use auth_common::service::env::AppEnv;
use auth_common::token::key_source::{KeyMap, KeySource};
use auth_common::token::signing_key::SigningKey;
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
            stored.iter().filter(|k| effective_state(stored, &k.record, now) != KeyState::Retired).collect();
        let signer = signer_at(stored, now)
            .map(|k| k.key.clone())
            .context("no key can sign: every key is pending or retired")?;
        let jwks = JwkSet { keys: live.iter().map(|k| k.key.jwk().clone()).collect() };
        let decoding = auth_common::token::key_source::keys_from_jwks(&jwks);
        Ok(Self { signer, jwks, decoding })
    }
}

/// Whether a record may sign at `now` (the signer is the newest of these).
fn may_sign(record: &KeyRecord, now: DateTime<Utc>) -> bool {
    let retired = record.state == KeyState::Retired || record.retires_at.is_some_and(|t| t <= now);
    let activated = match record.state {
        KeyState::Active => true,
        KeyState::Pending => record.activates_at.is_some_and(|t| t <= now),
        KeyState::Retiring | KeyState::Retired => false,
    };
    activated && !retired
}

/// The key that signs at `now`: of those that may, the most recently activated.
fn signer_at(stored: &[StoredKey], now: DateTime<Utc>) -> Option<&StoredKey> {
    stored
        .iter()
        .filter(|k| may_sign(&k.record, now))
        .max_by_key(|k| (k.record.activates_at.unwrap_or(k.record.created_at), k.record.created_at))
}

/// What a key is at `now`, given the others: `active` (the signer), `pending`,
/// `retiring` or `retired`.
pub fn effective_state(stored: &[StoredKey], record: &KeyRecord, now: DateTime<Utc>) -> KeyState {
    if record.state == KeyState::Retired || record.retires_at.is_some_and(|t| t <= now) {
        return KeyState::Retired;
    }
    if signer_at(stored, now).is_some_and(|s| s.record.kid == record.kid) {
        return KeyState::Active;
    }
    match record.state {
        KeyState::Pending if record.activates_at.is_none_or(|t| t > now) => KeyState::Pending,
        _ => KeyState::Retiring,
    }
}

/// The next moment at which the key set changes by itself.
fn next_transition(stored: &[StoredKey], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    stored.iter().flat_map(|k| [k.record.activates_at, k.record.retires_at]).flatten().filter(|t| *t > now).min()
}

struct RingState {
    stored: Vec<StoredKey>,
    set: Arc<KeySet>,
    valid_until: Option<DateTime<Utc>>,
}

/// The live key set, shared by the token issuer, the JWKS endpoint and the verifier.
pub struct KeyRing {
    state: RwLock<RingState>,
    /// Grows with every change of the key set: a transition or a reload that changed
    /// something (the verifier empties its cache of verified tokens then).
    generation: AtomicU64,
    clock: Clock,
}

impl KeyRing {
    /// A ring over `stored`, evaluated at each use by `clock`.
    pub fn new(stored: Vec<StoredKey>, clock: Clock) -> anyhow::Result<Self> {
        let now = clock.now();
        let set = Arc::new(KeySet::at(&stored, now)?);
        let valid_until = next_transition(&stored, now);
        Ok(Self { state: RwLock::new(RingState { stored, set, valid_until }), generation: AtomicU64::new(0), clock })
    }

    /// Loads the keys in `dir`. In development an empty folder gets a fresh key; in
    /// production a missing key stops the start.
    pub fn load(dir: &Path, app_env: AppEnv, clock: Clock) -> anyhow::Result<Self> {
        let mut stored = store::load_all(dir, &HashMap::new())?;
        if stored.is_empty() {
            if app_env == AppEnv::Production {
                bail!(
                    "JWT_KEYS_DIR {}: no signing key, and production never generates one; \
                     create one with `users-service keys rotate` and keep the folder on a persistent volume",
                    dir.display()
                );
            }
            stored.push(commands::create_first_key(dir, &clock)?);
            log::info!("generated a signing key in {} (development only)", dir.display());
        }
        Self::new(stored, clock)
    }

    /// The keys in force now. Cheap (a clone of an `Arc`) except at a scheduled
    /// transition, when the set is recomputed once.
    pub fn current(&self) -> Arc<KeySet> {
        let now = self.clock.now();
        {
            let state = self.read();
            if state.valid_until.is_none_or(|t| now < t) {
                return state.set.clone();
            }
        }
        let mut state = self.write();
        if state.valid_until.is_some_and(|t| now >= t) {
            match KeySet::at(&state.stored, now) {
                Ok(set) => {
                    log_change(&state.set, &set);
                    state.set = Arc::new(set);
                    self.generation.fetch_add(1, Ordering::SeqCst);
                }
                // Cannot happen for sets the commands write; keep the last good set.
                Err(e) => log::error!("key transition failed, keeping the current keys: {e:#}"),
            }
            state.valid_until = next_transition(&state.stored, now);
        }
        state.set.clone()
    }

    /// Re-reads `dir`, parsing only keys not seen before. A folder that leaves no key to
    /// sign with is refused and the current keys kept.
    pub fn reload(&self, dir: &Path) -> anyhow::Result<()> {
        let known: HashMap<String, SigningKey> =
            self.read().stored.iter().map(|k| (k.record.kid.clone(), k.key.clone())).collect();
        let stored = store::load_all(dir, &known)?;
        let now = self.clock.now();
        let set = KeySet::at(&stored, now)?;
        let mut state = self.write();
        if state.stored.iter().map(|k| &k.record).ne(stored.iter().map(|k| &k.record)) {
            log_change(&state.set, &set);
            state.valid_until = next_transition(&stored, now);
            state.set = Arc::new(set);
            state.stored = stored;
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RingState> {
        // A poisoned lock only means a writer panicked mid-update; the state is whole.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, RingState> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn log_change(old: &KeySet, new: &KeySet) {
    let kids = |s: &KeySet| s.jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect::<Vec<_>>();
    if old.signer.kid() != new.signer.kid() || kids(old) != kids(new) {
        log::info!("signing keys changed: signer {}, published {:?}", new.signer.kid(), kids(new));
    }
}

impl KeySource for KeyRing {
    fn key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Option<Arc<DecodingKey>>> {
        let found = self.current().decoding.get(kid).cloned();
        Box::pin(async move { found })
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests;
