//! users-service's signing keys: which key signs, which are published, and the key source
//! its own verifier uses.
//!
//! The keys live in the service's database ([`store`]), their private halves sealed with
//! the key-encryption key ([`sealing`]), so every replica signs with the same key and
//! publishes the same JWKS. A key's place follows from its recorded times, evaluated at
//! the moment of each use, so scheduled transitions happen exactly on time everywhere with
//! nobody writing anything: a `pending` key signs from its `activates_at`; of the keys that
//! may sign, the most recently activated one does and the others are retiring (published,
//! not signing); a key whose `retires_at` has passed is gone from the JWKS and from the
//! verifier.
//!
//! "Now" is the ring's [`Clock`]: the service's own, which tests move by hand.
//!
//! The keys commands (`users-service keys …`, see [`commands`]) change the rows; every
//! running replica picks the change up through [`reloader`] within a second (it polls the
//! key set's version), or at once on `SIGHUP`.

pub mod commands;
pub mod folder;
pub mod reloader;
pub mod sealing;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::env::AppEnv;
use auth_common::token::key_source::{KeyMap, KeySource};
use auth_common::token::signing_key::SigningKey;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;

use self::sealing::Kek;
use self::store::{KeyRecord, KeyState, StoredKey};
use crate::db::DbConnection;

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
        let records: Vec<KeyRecord> = stored.iter().map(|k| k.record.clone()).collect();
        let live: Vec<&StoredKey> =
            stored.iter().filter(|k| effective_state(&records, &k.record, now) != KeyState::Retired).collect();
        let signer_kid =
            signer_at(&records, now).context("no key can sign: every key is pending or retired")?.kid.clone();
        let signer = stored.iter().find(|k| k.record.kid == signer_kid).map(|k| k.key.clone()).context("no signer")?;
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
pub fn signer_at(records: &[KeyRecord], now: DateTime<Utc>) -> Option<&KeyRecord> {
    records.iter().filter(|r| may_sign(r, now)).max_by_key(|r| (r.activates_at.unwrap_or(r.created_at), r.created_at))
}

/// What a key is at `now`, given the others: `active` (the signer), `pending`,
/// `retiring` or `retired`.
pub fn effective_state(records: &[KeyRecord], record: &KeyRecord, now: DateTime<Utc>) -> KeyState {
    if record.state == KeyState::Retired || record.retires_at.is_some_and(|t| t <= now) {
        return KeyState::Retired;
    }
    if signer_at(records, now).is_some_and(|s| s.kid == record.kid) {
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
    /// The key set version these keys were read at (`None`: not read from a database).
    version: Option<i64>,
}

/// The live key set, shared by the token issuer, the JWKS endpoint and the verifier.
pub struct KeyRing {
    state: RwLock<RingState>,
    /// Grows with every change of the key set: a transition or a reload that changed
    /// something (the verifier empties its cache of verified tokens then).
    generation: AtomicU64,
    clock: Clock,
    /// Opens the keys a reload finds (`None`: a ring that never reloads, for tests).
    kek: Option<Kek>,
}

impl KeyRing {
    /// A ring over `stored`, evaluated at each use by `clock`.
    pub fn new(stored: Vec<StoredKey>, clock: Clock) -> anyhow::Result<Self> {
        let now = clock.now();
        let set = Arc::new(KeySet::at(&stored, now)?);
        let valid_until = next_transition(&stored, now);
        Ok(Self {
            state: RwLock::new(RingState { stored, set, valid_until, version: None }),
            generation: AtomicU64::new(0),
            clock,
            kek: None,
        })
    }

    /// Loads the keys from the database. A database with no key gets the keys of the
    /// old key folder `legacy_dir` if it holds any (see [`folder`]); failing that, a fresh
    /// key in development, and a refusal in production (`keys init` makes the first key).
    pub fn open(
        conn: &mut DbConnection,
        kek: Kek,
        legacy_dir: &Path,
        app_env: AppEnv,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let records = store::records(conn)?;
        if signer_at(&records, clock.now()).is_none() {
            let create = app_env == AppEnv::Development;
            match commands::ensure_signer(conn, &kek, Some(legacy_dir), create, &clock)? {
                commands::Init::Existing => {}
                commands::Init::Imported(kids) => {
                    log::info!("imported {} signing key(s) from {} into the database", kids.len(), legacy_dir.display())
                }
                commands::Init::Created(kid) => {
                    log::info!("generated signing key {kid} in the database (development only)")
                }
                commands::Init::Refused => anyhow::bail!(
                    "the database holds no signing key, and production never generates one: run \
                     `users-service keys init` once (the Kubernetes init container does), or \
                     `users-service keys import DIR` to bring over the keys of an earlier release"
                ),
            }
        }
        let version = store::version(conn)?;
        let stored = store::load_all(conn, &kek, &HashMap::new())?;
        let ring = Self::new(stored, clock)?;
        ring.write().version = Some(version);
        Ok(Self { kek: Some(kek), ..ring })
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

    /// Re-reads the keys if the key set's version has moved, opening only keys not seen
    /// before. A set that leaves no key to sign with is refused and the current keys kept.
    pub fn reload(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        let Some(kek) = &self.kek else { return Ok(()) };
        let version = store::version(conn)?;
        let known: HashMap<String, SigningKey> = {
            let state = self.read();
            if state.version == Some(version) {
                return Ok(());
            }
            state.stored.iter().map(|k| (k.record.kid.clone(), k.key.clone())).collect()
        };
        let stored = store::load_all(conn, kek, &known)?;
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
        state.version = Some(version);
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
