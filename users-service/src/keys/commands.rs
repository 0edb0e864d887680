//! The keys commands: `users-service keys list | init | rotate | retire KID | import DIR |
//! rekey`.
//!
//! They work on the service's database with the service's own settings, each change in one
//! transaction that serialises it with any other (see [`store::change`]), and only ever
//! commit a key set that leaves a key to sign with. Every running replica sees their
//! changes within a second (at once on `SIGHUP`). Times are read from the [`Clock`] given:
//! the system's from the command line, the service's own in tests.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use auth_common::clock::Clock;
use auth_common::token::signing_key::SigningKey;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::folder;
use super::sealing::Kek;
use super::store::{self, KeyRecord, KeyState};
use super::{effective_state, signer_at};
use crate::db::DbConnection;

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

/// What making sure of a signer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Init {
    /// A key signs already; nothing changed.
    Existing,
    /// The keys of the old key folder were brought in (their kids).
    Imported(Vec<String>),
    /// A first key was made (its kid); it signs now.
    Created(String),
    /// No key, and making one was not allowed.
    Refused,
}

/// Every key, oldest first, in its state at `clock`'s now. Needs no key-encryption key.
pub fn list(conn: &mut DbConnection, clock: &Clock) -> anyhow::Result<Vec<KeyInfo>> {
    let records = store::records(conn)?;
    let now = clock.now();
    Ok(records.iter().map(|r| info(&records, r, now)).collect())
}

/// `keys init`: makes sure a key can sign; safe to run before every start, from any number
/// of pods at once (one of them makes the key, the others find it). A database with no key
/// first gets the keys of `legacy_dir`, the key folder of earlier releases, if it has any.
pub fn init(conn: &mut DbConnection, kek: &Kek, legacy_dir: Option<&Path>, clock: &Clock) -> anyhow::Result<Init> {
    ensure_signer(conn, kek, legacy_dir, true, clock)
}

/// What [`init`] does, with the making of a first key allowed or not (a production start
/// may import but never generates).
pub fn ensure_signer(
    conn: &mut DbConnection,
    kek: &Kek,
    legacy_dir: Option<&Path>,
    create: bool,
    clock: &Clock,
) -> anyhow::Result<Init> {
    if signer_at(&store::records(conn)?, clock.now()).is_some() {
        return Ok(Init::Existing);
    }
    store::change(conn, |tx| {
        let records = store::records(tx)?;
        let now = clock.now();
        if signer_at(&records, now).is_some() {
            return Ok(Init::Existing);
        }
        if !records.is_empty() {
            bail!("the database holds keys but none can sign; inspect them with `keys list`, then `keys rotate`");
        }
        if let Some(dir) = legacy_dir {
            let imported = import_into(tx, kek, dir)?;
            if !imported.is_empty() {
                return Ok(Init::Imported(imported));
            }
        }
        if !create {
            return Ok(Init::Refused);
        }
        Ok(Init::Created(create_first_key(tx, kek, clock)?))
    })
}

/// The first key: active at once.
fn create_first_key(conn: &mut DbConnection, kek: &Kek, clock: &Clock) -> anyhow::Result<String> {
    let now = clock.now();
    add_key(conn, kek, KeyState::Active, now, now)
}

/// A fresh key in `state`, made at `now`, signing from `activates_at`; its kid.
fn add_key(
    conn: &mut DbConnection,
    kek: &Kek,
    state: KeyState,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> anyhow::Result<String> {
    let key = SigningKey::generate()?;
    let record = KeyRecord {
        kid: key.kid().to_owned(),
        state,
        created_at: now,
        activates_at: Some(activates_at),
        retires_at: None,
    };
    store::insert(conn, kek, &key, &record)?;
    Ok(record.kid)
}

/// Adds a pending key that signs `publish_ahead_secs` from now; the key it replaces stops
/// signing then and leaves the JWKS `outlive_secs` later. With no key left, the first key
/// is active at once. Of two rotations at once, the second finds the first's key pending
/// and is refused.
pub fn rotate(conn: &mut DbConnection, kek: &Kek, times: RotationTimes, clock: &Clock) -> anyhow::Result<KeyInfo> {
    store::change(conn, |tx| {
        let records = store::records(tx)?;
        let now = clock.now();
        if records.iter().all(|r| effective_state(&records, r, now) == KeyState::Retired) {
            let kid = create_first_key(tx, kek, clock)?;
            return info_of(tx, &kid, now);
        }
        if let Some(pending) = records.iter().find(|r| effective_state(&records, r, now) == KeyState::Pending) {
            bail!(
                "a rotation is in progress already: key {} signs from {}; wait for it, or retire it first",
                pending.kid,
                pending.activates_at.map(|t| t.to_rfc3339()).unwrap_or_default()
            );
        }
        let replaced = signer_at(&records, now).context("no key can sign: run `keys init`")?.clone();
        let activates_at = now + seconds(times.publish_ahead_secs);
        let kid = add_key(tx, kek, KeyState::Pending, now, activates_at)?;
        // The replaced key keeps its state: it goes on signing until the new key activates,
        // and is read as retiring from then on.
        store::update_record(
            tx,
            &KeyRecord { retires_at: Some(activates_at + seconds(times.outlive_secs)), ..replaced },
        )?;
        info_of(tx, &kid, now)
    })
}

fn info_of(conn: &mut DbConnection, kid: &str, now: DateTime<Utc>) -> anyhow::Result<KeyInfo> {
    let records = store::records(conn)?;
    let record = records.iter().find(|r| r.kid == kid).context("the new key is missing")?;
    Ok(info(&records, record, now))
}

/// Emergency: `kid` leaves signing and the JWKS at once. If it signs now, the pending key
/// takes over at once; with no pending key, it is refused and nothing changes. Needs no
/// key-encryption key.
pub fn retire(conn: &mut DbConnection, kid: &str, clock: &Clock) -> anyhow::Result<Vec<KeyInfo>> {
    wait_for_successor_to_be_published(conn, kid, clock)?;
    store::change(conn, |tx| {
        let records = store::records(tx)?;
        let now = clock.now();
        let target = records.iter().find(|r| r.kid == kid).with_context(|| format!("no key {kid}"))?;
        let state = effective_state(&records, target, now);
        if state == KeyState::Retired {
            bail!("key {kid} is retired already");
        }
        if state == KeyState::Active {
            let successor = records
                .iter()
                .filter(|r| effective_state(&records, r, now) == KeyState::Pending)
                .max_by_key(|r| r.created_at)
                .with_context(|| {
                    format!(
                        "refusing to retire {kid}: it is the only key that can sign. Run `users-service keys rotate` \
                         first, then retire {kid}: the new key takes over at once"
                    )
                })?;
            store::update_record(
                tx,
                &KeyRecord { state: KeyState::Active, activates_at: Some(now), ..successor.clone() },
            )?;
        }
        store::update_record(tx, &KeyRecord { state: KeyState::Retired, retires_at: Some(now), ..target.clone() })?;
        Ok(())
    })?;
    list(conn, clock)
}

/// How long a key must have been in the database before it may take over signing at
/// once: two of the replicas' polls (`reloader::INTERVAL`), so every replica publishes it
/// before any replica signs with it, and no replica refuses the first tokens it signs.
pub const HANDOVER_AFTER: Duration = Duration::milliseconds(1000);

/// Retiring the signer hands over to the pending key at once. A pending key made a moment
/// ago (`keys rotate` and `keys retire` run back to back) is given the rest of
/// [`HANDOVER_AFTER`] first: a second at most, against a window in which one replica signs
/// with a key another has not loaded yet.
fn wait_for_successor_to_be_published(conn: &mut DbConnection, kid: &str, clock: &Clock) -> anyhow::Result<()> {
    let records = store::records(conn)?;
    let now = clock.now();
    if signer_at(&records, now).is_none_or(|signer| signer.kid != kid) {
        return Ok(());
    }
    let newest_pending =
        records.iter().filter(|r| effective_state(&records, r, now) == KeyState::Pending).map(|r| r.created_at).max();
    if let Some(wait) = newest_pending.map(|created| created + HANDOVER_AFTER - now).and_then(|w| w.to_std().ok()) {
        log::info!("waiting {} ms so every replica publishes the new key before it signs", wait.as_millis());
        std::thread::sleep(wait);
    }
    Ok(())
}

/// What `keys import` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Keys brought in.
    pub imported: Vec<String>,
    /// Keys the database held already, left as they are.
    pub skipped: Vec<String>,
}

/// `keys import DIR`: brings the keys of an earlier release's key folder into the database
/// with their states and times, so the tokens they signed stay valid. Keys the database
/// holds already are skipped, so running it twice changes nothing.
pub fn import(conn: &mut DbConnection, kek: &Kek, dir: &Path, clock: &Clock) -> anyhow::Result<Imported> {
    let present: HashSet<String> = store::records(conn)?.into_iter().map(|r| r.kid).collect();
    let in_folder: Vec<String> = folder::load_all(dir)?.into_iter().map(|k| k.record.kid).collect();
    if in_folder.is_empty() {
        bail!("{} holds no keys (expected <kid>.pem and <kid>.json files)", dir.display());
    }
    let imported = store::change(conn, |tx| {
        let imported = import_into(tx, kek, dir)?;
        if signer_at(&store::records(tx)?, clock.now()).is_none() {
            bail!("after the import no key could sign; nothing was imported");
        }
        Ok(imported)
    })?;
    let skipped = in_folder.into_iter().filter(|kid| present.contains(kid) && !imported.contains(kid)).collect();
    Ok(Imported { imported, skipped })
}

/// Inserts the folder's keys the database does not hold; returns their kids.
fn import_into(conn: &mut DbConnection, kek: &Kek, dir: &Path) -> anyhow::Result<Vec<String>> {
    let present: HashSet<String> = store::records(conn)?.into_iter().map(|r| r.kid).collect();
    let mut imported = Vec::new();
    for key in folder::load_all(dir)? {
        if present.contains(&key.record.kid) {
            continue;
        }
        store::insert(conn, kek, &key.key, &key.record)?;
        imported.push(key.record.kid);
    }
    Ok(imported)
}

/// `keys rekey`: every key sealed with `old` is sealed again with `new`, in one
/// transaction. A key that `old` does not open refuses the whole change.
pub fn rekey(conn: &mut DbConnection, old: &Kek, new: &Kek) -> anyhow::Result<usize> {
    if old.id() == new.id() {
        bail!("JWT_KEYS_ENCRYPTION_KEY_OLD and JWT_KEYS_ENCRYPTION_KEY are the same key");
    }
    store::change(conn, |tx| store::reseal(tx, old, new))
}

fn info(records: &[KeyRecord], record: &KeyRecord, now: DateTime<Utc>) -> KeyInfo {
    KeyInfo {
        kid: record.kid.clone(),
        state: effective_state(records, record, now),
        created_at: record.created_at,
        activates_at: record.activates_at,
        retires_at: record.retires_at,
    }
}

fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::folder;

    const TIMES: RotationTimes = RotationTimes { publish_ahead_secs: 300, outlive_secs: 930 };

    fn clock() -> Clock {
        Clock::system()
    }

    /// A database file with the migrations applied, and a key-encryption key.
    fn db() -> (tempfile::TempDir, auth_common::service::db::DbPool, Kek) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(dir.path().join("keys.db").to_str().unwrap(), 2).unwrap();
        (dir, pool, Kek::generate().unwrap().0)
    }

    fn created(init: Init) -> String {
        match init {
            Init::Created(kid) => kid,
            other => panic!("expected a new key, got {other:?}"),
        }
    }

    #[test]
    fn rotate_publishes_a_pending_key_and_schedules_the_old_ones_retirement() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        let first = created(init(conn, &kek, None, &clock()).unwrap());
        let new = rotate(conn, &kek, TIMES, &clock()).unwrap();
        assert_eq!(new.state, KeyState::Pending);
        let keys = list(conn, &clock()).unwrap();
        let old = keys.iter().find(|k| k.kid == first).unwrap();
        assert_eq!(old.state, KeyState::Active, "the old key signs until the new one activates");
        assert_eq!(old.retires_at, Some(new.activates_at.unwrap() + Duration::seconds(930)));
        let err = rotate(conn, &kek, TIMES, &clock()).unwrap_err().to_string();
        assert!(err.contains("in progress"), "{err}");
    }

    #[test]
    fn init_creates_a_key_once() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        created(init(conn, &kek, None, &clock()).unwrap());
        assert_eq!(init(conn, &kek, None, &clock()).unwrap(), Init::Existing);
        assert_eq!(list(conn, &clock()).unwrap().len(), 1);
        assert_eq!(ensure_signer(&mut pool.get().unwrap(), &kek, None, false, &clock()).unwrap(), Init::Existing);
    }

    #[test]
    fn without_leave_to_create_an_empty_database_is_refused() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        assert_eq!(ensure_signer(conn, &kek, None, false, &clock()).unwrap(), Init::Refused);
        assert!(list(conn, &clock()).unwrap().is_empty());
    }

    #[test]
    fn retiring_the_only_signer_is_refused_and_changes_nothing() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        let only = created(init(conn, &kek, None, &clock()).unwrap());
        let before = list(conn, &clock()).unwrap();
        let version = store::version(conn).unwrap();
        let err = retire(conn, &only, &clock()).unwrap_err().to_string();
        assert!(err.contains("only key that can sign"), "{err}");
        assert_eq!(list(conn, &clock()).unwrap(), before);
        assert_eq!(store::version(conn).unwrap(), version, "a refused change is rolled back whole");
    }

    #[test]
    fn retiring_the_signer_hands_over_to_the_pending_key_at_once() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        let clock = auth_common::clock::TestClock::new();
        let old = created(init(conn, &kek, None, &clock.clock()).unwrap());
        let new = rotate(conn, &kek, TIMES, &clock.clock()).unwrap();
        // Every replica has had its two polls since the rotation: no wait.
        clock.advance(HANDOVER_AFTER.to_std().unwrap());
        let keys = retire(conn, &old, &clock.clock()).unwrap();
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!((state(&old), state(&new.kid)), (KeyState::Retired, KeyState::Active));
        assert!(retire(conn, "no-such-kid", &clock.clock()).is_err());
    }

    #[test]
    fn private_halves_are_stored_sealed_and_open_only_with_their_key() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        created(init(conn, &kek, None, &clock()).unwrap());
        let key = store::load_all(conn, &kek, &Default::default()).unwrap().remove(0).key;
        use diesel::prelude::*;
        let sealed: Vec<u8> = crate::db::schema::signing_keys::table
            .select(crate::db::schema::signing_keys::sealed_private_key)
            .first(&mut ***conn)
            .unwrap();
        let pem = key.private_pem().as_bytes();
        assert!(!sealed.windows(pem.len().min(64)).any(|w| w == &pem[..pem.len().min(64)]), "no plaintext stored");
        let wrong = Kek::generate().unwrap().0;
        let err = store::load_all(conn, &wrong, &Default::default()).unwrap_err().to_string();
        assert!(err.contains("sealed with key-encryption key") && err.contains(kek.id()), "{err}");
    }

    #[test]
    fn rekey_reseals_every_key_and_a_wrong_old_key_changes_nothing() {
        let (_dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        created(init(conn, &kek, None, &clock()).unwrap());
        rotate(conn, &kek, TIMES, &clock()).unwrap();
        let (new, wrong) = (Kek::generate().unwrap().0, Kek::generate().unwrap().0);
        let err = rekey(conn, &wrong, &new).unwrap_err().to_string();
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(store::load_all(conn, &kek, &Default::default()).unwrap().len(), 2, "still sealed with the old key");
        assert_eq!(rekey(conn, &kek, &new).unwrap(), 2);
        assert_eq!(store::load_all(conn, &new, &Default::default()).unwrap().len(), 2);
        assert!(store::load_all(conn, &kek, &Default::default()).is_err());
        assert_eq!(rekey(conn, &kek, &new).unwrap(), 0, "done already: nothing to reseal");
        assert!(rekey(conn, &new, &new).is_err());
    }

    #[test]
    fn import_brings_a_key_folder_over_once_with_its_states() {
        let (dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        let legacy = dir.path().join("keys");
        let (old, new) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
        let now = clock().now();
        let record = |key: &SigningKey, state, activates_at, retires_at| KeyRecord {
            kid: key.kid().to_owned(),
            state,
            created_at: now - Duration::seconds(60),
            activates_at,
            retires_at,
        };
        let later = now + Duration::seconds(100);
        folder::write_key(&legacy, &old, &record(&old, KeyState::Active, Some(now), Some(later))).unwrap();
        folder::write_key(&legacy, &new, &record(&new, KeyState::Pending, Some(later), None)).unwrap();
        let done = import(conn, &kek, &legacy, &clock()).unwrap();
        assert_eq!(done.imported.len(), 2);
        let keys = list(conn, &clock()).unwrap();
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!((state(old.kid()), state(new.kid())), (KeyState::Active, KeyState::Pending));
        let again = import(conn, &kek, &legacy, &clock()).unwrap();
        assert_eq!((again.imported.len(), again.skipped.len()), (0, 2), "a second import changes nothing");
        assert!(import(conn, &kek, &dir.path().join("empty"), &clock()).is_err());
    }

    #[test]
    fn a_start_on_an_empty_database_imports_the_old_folder_instead_of_making_a_key() {
        let (dir, pool, kek) = db();
        let conn = &mut pool.get().unwrap();
        let legacy = dir.path().join("keys");
        let key = SigningKey::generate().unwrap();
        let now = clock().now();
        let record = KeyRecord {
            kid: key.kid().to_owned(),
            state: KeyState::Active,
            created_at: now,
            activates_at: Some(now),
            retires_at: None,
        };
        folder::write_key(&legacy, &key, &record).unwrap();
        let init = ensure_signer(conn, &kek, Some(&legacy), false, &clock()).unwrap();
        assert_eq!(init, Init::Imported(vec![key.kid().to_owned()]));
    }

    #[test]
    fn two_rotations_at_once_from_two_connections_leave_exactly_one_new_key() {
        let (_dir, pool, kek) = db();
        created(init(&mut pool.get().unwrap(), &kek, None, &clock()).unwrap());
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| s.spawn(|| rotate(&mut pool.get().unwrap(), &kek, TIMES, &clock()).map(|k| k.kid)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        let keys = list(&mut pool.get().unwrap(), &clock()).unwrap();
        assert_eq!(keys.iter().filter(|k| k.state == KeyState::Pending).count(), 1);
    }
}
