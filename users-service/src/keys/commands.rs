//! The keys commands: `users-service keys list | init | rotate | retire KID`.
//!
//! They work on `JWT_KEYS_DIR` with the service's own settings, and only ever write state
//! files that leave a key to sign with. A running users-service sees their changes within
//! a second (at once on `SIGHUP`). Times are read from the [`Clock`] given: the system's
//! from the command line, the service's own in tests.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use auth_common::clock::Clock;
use auth_common::token::signing_key::SigningKey;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::store::{self, KeyRecord, KeyState, StoredKey};
use super::{KeySet, effective_state};

/// The timings a rotation follows, from the service's configuration.
#[derive(Debug, Clone, Copy)]
pub struct RotationTimes {
    /// `JWKS_MAX_AGE_SECS`: how long a new key is published before it signs, so every
    /// verifier has refetched the JWKS first.
    pub publish_ahead_secs: u64,
    /// `ACCESS_TOKEN_TTL_SECS` + `JWT_LEEWAY_SECS`: how long a replaced key outlives its
    /// last token.
    pub outlive_secs: u64,
}

/// One key as `keys list` shows it, with its state at the moment of listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub activates_at: Option<DateTime<Utc>>,
    pub retires_at: Option<DateTime<Utc>>,
}

/// Every key in `dir`, oldest first, in its state at `clock`'s now.
pub fn list(dir: &Path, clock: &Clock) -> anyhow::Result<Vec<KeyInfo>> {
    let stored = store::load_all(dir, &HashMap::new())?;
    let now = clock.now();
    Ok(stored
        .iter()
        .map(|k| KeyInfo {
            kid: k.record.kid.clone(),
            state: effective_state(&stored, &k.record, now),
            created_at: k.record.created_at,
            activates_at: k.record.activates_at,
            retires_at: k.record.retires_at,
        })
        .collect())
}

/// The first key of an empty folder: active at once.
pub fn create_first_key(dir: &Path, clock: &Clock) -> anyhow::Result<StoredKey> {
    let key = SigningKey::generate()?;
    let now = clock.now();
    let record = KeyRecord {
        kid: key.kid().to_owned(),
        state: KeyState::Active,
        created_at: now,
        activates_at: Some(now),
        retires_at: None,
    };
    store::write_key(dir, &key, &record)?;
    Ok(StoredKey { record, key })
}

/// Creates a first key when `dir` has none that can sign; otherwise does nothing. Safe to
/// run before every start (a Kubernetes init container does).
pub fn init(dir: &Path, clock: &Clock) -> anyhow::Result<Option<KeyInfo>> {
    let stored = store::load_all(dir, &HashMap::new())?;
    if KeySet::at(&stored, clock.now()).is_ok() {
        return Ok(None);
    }
    if !stored.is_empty() {
        bail!("{} holds keys but none can sign; inspect them with `keys list`", dir.display());
    }
    let first = create_first_key(dir, clock)?;
    Ok(Some(info(std::slice::from_ref(&first), &first, clock.now())))
}

/// Adds a pending key that signs `publish_ahead_secs` from now; the key it replaces stops
/// signing then and leaves the JWKS `outlive_secs` later. In an empty folder, the first
/// key is active at once.
pub fn rotate(dir: &Path, times: RotationTimes, clock: &Clock) -> anyhow::Result<KeyInfo> {
    let stored = store::load_all(dir, &HashMap::new())?;
    let now = clock.now();
    if stored.iter().all(|k| effective_state(&stored, &k.record, now) == KeyState::Retired) {
        let first = create_first_key(dir, clock)?;
        return Ok(info(std::slice::from_ref(&first), &first, now));
    }
    if let Some(pending) = stored.iter().find(|k| effective_state(&stored, &k.record, now) == KeyState::Pending) {
        bail!(
            "a rotation is in progress already: key {} signs from {}; wait for it, or retire it first",
            pending.record.kid,
            pending.record.activates_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        );
    }
    let current = KeySet::at(&stored, now)?.signer;
    let activates_at = now + seconds(times.publish_ahead_secs);
    let key = SigningKey::generate()?;
    let record = KeyRecord {
        kid: key.kid().to_owned(),
        state: KeyState::Pending,
        created_at: now,
        activates_at: Some(activates_at),
        retires_at: None,
    };
    store::write_key(dir, &key, &record)?;
    let replaced = stored.iter().find(|k| k.record.kid == current.kid()).context("the signer has no state file")?;
    // The replaced key keeps its state: it goes on signing until the new key activates,
    // and is read as retiring from then on.
    let retiring =
        KeyRecord { retires_at: Some(activates_at + seconds(times.outlive_secs)), ..replaced.record.clone() };
    store::write_record(dir, &retiring)?;
    let new = StoredKey { record, key };
    Ok(info(std::slice::from_ref(&new), &new, now))
}

/// Emergency: `kid` leaves signing and the JWKS at once. If it signs now, the pending key
/// takes over at once; with no pending key, it is refused and nothing changes.
pub fn retire(dir: &Path, kid: &str, clock: &Clock) -> anyhow::Result<Vec<KeyInfo>> {
    let stored = store::load_all(dir, &HashMap::new())?;
    let now = clock.now();
    let target =
        stored.iter().find(|k| k.record.kid == kid).with_context(|| format!("no key {kid} in {}", dir.display()))?;
    let state = effective_state(&stored, &target.record, now);
    if state == KeyState::Retired {
        bail!("key {kid} is retired already");
    }
    let mut writes = vec![KeyRecord { state: KeyState::Retired, retires_at: Some(now), ..target.record.clone() }];
    if state == KeyState::Active {
        let successor = stored
            .iter()
            .filter(|k| effective_state(&stored, &k.record, now) == KeyState::Pending)
            .max_by_key(|k| k.record.created_at)
            .with_context(|| {
                format!(
                    "refusing to retire {kid}: it is the only key that can sign. Run `users-service keys rotate` \
                     first, then retire {kid}: the new key takes over at once"
                )
            })?;
        writes.push(KeyRecord { state: KeyState::Active, activates_at: Some(now), ..successor.record.clone() });
    }
    // The successor is written first, so a reader never sees a folder with no signer.
    for record in writes.iter().rev() {
        store::write_record(dir, record)?;
    }
    list(dir, clock)
}

fn info(stored: &[StoredKey], key: &StoredKey, now: DateTime<Utc>) -> KeyInfo {
    KeyInfo {
        kid: key.record.kid.clone(),
        state: effective_state(stored, &key.record, now),
        created_at: key.record.created_at,
        activates_at: key.record.activates_at,
        retires_at: key.record.retires_at,
    }
}

fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMES: RotationTimes = RotationTimes { publish_ahead_secs: 300, outlive_secs: 930 };

    fn clock() -> Clock {
        Clock::system()
    }

    #[test]
    fn rotate_publishes_a_pending_key_and_schedules_the_old_ones_retirement() {
        let dir = tempfile::tempdir().unwrap();
        let first = create_first_key(dir.path(), &clock()).unwrap();
        let new = rotate(dir.path(), TIMES, &clock()).unwrap();
        assert_eq!(new.state, KeyState::Pending);
        let keys = list(dir.path(), &clock()).unwrap();
        let old = keys.iter().find(|k| k.kid == first.record.kid).unwrap();
        assert_eq!(old.state, KeyState::Active, "the old key signs until the new one activates");
        assert_eq!(old.retires_at, Some(new.activates_at.unwrap() + Duration::seconds(930)));
        let err = rotate(dir.path(), TIMES, &clock()).unwrap_err().to_string();
        assert!(err.contains("in progress"), "{err}");
    }

    #[test]
    fn init_creates_a_key_once() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(init(dir.path(), &clock()).unwrap().map(|k| k.state), Some(KeyState::Active));
        assert!(init(dir.path(), &clock()).unwrap().is_none());
        assert_eq!(list(dir.path(), &clock()).unwrap().len(), 1);
    }

    #[test]
    fn retiring_the_only_signer_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let only = create_first_key(dir.path(), &clock()).unwrap();
        let before = list(dir.path(), &clock()).unwrap();
        let err = retire(dir.path(), &only.record.kid, &clock()).unwrap_err().to_string();
        assert!(err.contains("only key that can sign"), "{err}");
        assert_eq!(list(dir.path(), &clock()).unwrap(), before);
    }

    #[test]
    fn retiring_the_signer_hands_over_to_the_pending_key_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let old = create_first_key(dir.path(), &clock()).unwrap();
        let new = rotate(dir.path(), TIMES, &clock()).unwrap();
        let keys = retire(dir.path(), &old.record.kid, &clock()).unwrap();
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!((state(&old.record.kid), state(&new.kid)), (KeyState::Retired, KeyState::Active));
        assert!(retire(dir.path(), "no-such-kid", &clock()).is_err());
    }
}
