//! Signing keys in the service's database, shared by every replica: table `signing_keys`
//! (states, times, the private half sealed with the key-encryption key, see [`sealing`])
//! and the one-row `key_set_version`, which every change bumps.
//!
//! Changes go through [`change`]: one transaction whose first statement bumps the version.
//! That write takes the lock every other change needs (PostgreSQL's row lock; SQLite's
//! write lock), so two operators or two init containers acting at once run one after the
//! other, and the second decides on what the first committed.
//!
//! [`sealing`]: super::sealing

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use auth_common::service::db::QueryContext;
use auth_common::token::signing_key::SigningKey;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::sealing::Kek;
use crate::db::DbConnection;
use crate::db::schema::{key_set_version, signing_keys};

/// A key's state as written by the keys commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS; signs from `activates_at` on.
    Pending,
    /// The signer (unless a newer key has activated since).
    Active,
    /// Published, no longer signing; leaves the JWKS at `retires_at`.
    Retiring,
    /// Gone: neither published nor trusted.
    Retired,
}

/// The state file of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key's RFC 7638 thumbprint.
    pub kid: String,
    /// Its state as last written.
    pub state: KeyState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it signs (or signed) first.
    pub activates_at: Option<DateTime<Utc>>,
    /// When it leaves the JWKS.
    pub retires_at: Option<DateTime<Utc>>,
}

/// A key with its state.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The state file.
    pub record: KeyRecord,
    /// The key.
    pub key: SigningKey,
}

impl KeyState {
    /// The state as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }

    fn parse(raw: &str) -> anyhow::Result<Self> {
        Ok(match raw {
            "pending" => Self::Pending,
            "active" => Self::Active,
            "retiring" => Self::Retiring,
            "retired" => Self::Retired,
            other => bail!("signing_keys: unknown state {other:?}"),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct Row {
    kid: String,
    state: String,
    created_at: chrono::NaiveDateTime,
    activates_at: Option<chrono::NaiveDateTime>,
    retires_at: Option<chrono::NaiveDateTime>,
}

impl Row {
    fn record(self) -> anyhow::Result<KeyRecord> {
        Ok(KeyRecord {
            state: KeyState::parse(&self.state)?,
            kid: self.kid,
            created_at: self.created_at.and_utc(),
            activates_at: self.activates_at.map(|t| t.and_utc()),
            retires_at: self.retires_at.map(|t| t.and_utc()),
        })
    }
}

/// The key set's version: it grows with every change.
pub fn version(conn: &mut DbConnection) -> anyhow::Result<i64> {
    Ok(key_set_version::table
        .select(key_set_version::version)
        .filter(key_set_version::id.eq(1))
        .first(conn)
        .context("reading the key set version")?)
}

/// Every key's record, oldest first. Needs no key-encryption key.
pub fn records(conn: &mut DbConnection) -> anyhow::Result<Vec<KeyRecord>> {
    let rows: Vec<Row> = signing_keys::table
        .select(Row::as_select())
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .load(conn)
        .context("loading the signing key records")?;
    rows.into_iter().map(Row::record).collect()
}

/// Every key, oldest first, its private half opened with `kek`. Keys in `known` are not
/// opened and parsed again (RSA parsing is the costly part of a reload).
pub fn load_all(
    conn: &mut DbConnection,
    kek: &Kek,
    known: &HashMap<String, SigningKey>,
) -> anyhow::Result<Vec<StoredKey>> {
    let rows: Vec<(Row, Vec<u8>, String)> = signing_keys::table
        .select((Row::as_select(), signing_keys::sealed_private_key, signing_keys::kek_id))
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .load(conn)
        .context("loading the signing keys")?;
    rows.into_iter()
        .map(|(row, sealed, kek_id)| {
            let record = row.record()?;
            let key = match known.get(&record.kid) {
                Some(key) => key.clone(),
                None => open(kek, &record.kid, &sealed, &kek_id)?,
            };
            Ok(StoredKey { record, key })
        })
        .collect()
}

/// Opens one sealed key, naming a wrong key-encryption key as such.
fn open(kek: &Kek, kid: &str, sealed: &[u8], kek_id: &str) -> anyhow::Result<SigningKey> {
    if kek_id != kek.id() {
        bail!(
            "signing key {kid} was sealed with key-encryption key {kek_id}, but this process has {}: every replica \
             needs the same JWT_KEYS_ENCRYPTION_KEY (in development, the same JWT_KEYS_DIR/encryption.key); \
             to change the key, run `users-service keys rekey`",
            kek.id()
        );
    }
    let pem = String::from_utf8(kek.open(kid, sealed)?).map_err(|_| anyhow!("key {kid}: not a PEM"))?;
    let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| anyhow!("key {kid}: {e}"))?;
    if key.kid() != kid {
        bail!("signing_keys: row {kid} holds key {}", key.kid());
    }
    Ok(key)
}

/// Runs `f` as one change of the key set: in a transaction that first bumps the version,
/// so concurrent changes run one after the other (see the module docs).
pub fn change<T>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>) -> anyhow::Result<T> {
    conn.transaction(|tx| {
        diesel::update(key_set_version::table.filter(key_set_version::id.eq(1)))
            .set(key_set_version::version.eq(key_set_version::version + 1))
            .execute(tx)
            .context("bumping the key set version")?;
        f(tx)
    })
}

/// Stores a new key, sealed with `kek`.
pub fn insert(conn: &mut DbConnection, kek: &Kek, key: &SigningKey, record: &KeyRecord) -> anyhow::Result<()> {
    let sealed = kek.seal(key.kid(), key.private_pem().as_bytes())?;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&record.kid),
            signing_keys::state.eq(record.state.as_str()),
            signing_keys::created_at.eq(record.created_at.naive_utc()),
            signing_keys::activates_at.eq(record.activates_at.map(|t| t.naive_utc())),
            signing_keys::retires_at.eq(record.retires_at.map(|t| t.naive_utc())),
            signing_keys::sealed_private_key.eq(sealed),
            signing_keys::kek_id.eq(kek.id()),
        ))
        .execute(conn)
        .context("storing a signing key")?;
    Ok(())
}

/// Rewrites a key's state and times.
pub fn update_record(conn: &mut DbConnection, record: &KeyRecord) -> anyhow::Result<()> {
    diesel::update(signing_keys::table.filter(signing_keys::kid.eq(&record.kid)))
        .set((
            signing_keys::state.eq(record.state.as_str()),
            signing_keys::activates_at.eq(record.activates_at.map(|t| t.naive_utc())),
            signing_keys::retires_at.eq(record.retires_at.map(|t| t.naive_utc())),
        ))
        .execute(conn)
        .context("updating a signing key's state")?;
    Ok(())
}

/// Every key sealed with `old`, opened and sealed again with `new`; nothing is written
/// unless every key opens. Returns how many keys were resealed.
pub fn reseal(conn: &mut DbConnection, old: &Kek, new: &Kek) -> anyhow::Result<usize> {
    let rows: Vec<(String, Vec<u8>, String)> = signing_keys::table
        .select((signing_keys::kid, signing_keys::sealed_private_key, signing_keys::kek_id))
        .load(conn)
        .context("loading the sealed signing keys")?;
    let mut resealed = Vec::new();
    for (kid, sealed, kek_id) in rows {
        if kek_id == new.id() {
            continue;
        }
        if kek_id != old.id() {
            bail!(
                "key {kid} was sealed with key-encryption key {kek_id}, not with JWT_KEYS_ENCRYPTION_KEY_OLD ({}); \
                 nothing was changed",
                old.id()
            );
        }
        let plaintext = old.open(&kid, &sealed).map_err(|e| e.context("nothing was changed"))?;
        resealed.push((new.seal(&kid, &plaintext)?, kid));
    }
    for (sealed, kid) in &resealed {
        diesel::update(signing_keys::table.filter(signing_keys::kid.eq(kid)))
            .set((signing_keys::sealed_private_key.eq(sealed), signing_keys::kek_id.eq(new.id())))
            .execute(conn)
            .context("resealing a signing key")?;
    }
    Ok(resealed.len())
}
