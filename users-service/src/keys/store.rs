//! Signing keys on disk, in `JWT_KEYS_DIR`: one `<kid>.pem` (PKCS#8, mode 0600) per key
//! with its state beside it in `<kid>.json`.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use auth_common::token::signing_key::SigningKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Every key in `dir`, oldest first. Keys in `known` are not parsed again (RSA parsing is
/// the costly part of a reload). A key file anyone but the owner can read is refused, as
/// is a state file that names another key.
pub fn load_all(dir: &Path, known: &HashMap<String, SigningKey>) -> anyhow::Result<Vec<StoredKey>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let record: KeyRecord = serde_json::from_slice(&fs::read(&path)?)
            .with_context(|| format!("{}: not a key state file", path.display()))?;
        if let Some(key) = known.get(&record.kid) {
            keys.push(StoredKey { record, key: key.clone() });
            continue;
        }
        let pem_path = path.with_extension("pem");
        let mode =
            fs::metadata(&pem_path).with_context(|| format!("{}: missing", pem_path.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{}: mode {:o} lets others read the private key; run `chmod 600` on it",
                pem_path.display(),
                mode & 0o777
            );
        }
        let pem = fs::read_to_string(&pem_path).with_context(|| format!("reading {}", pem_path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem).with_context(|| format!("{}", pem_path.display()))?;
        if key.kid() != record.kid {
            bail!("{}: names key {} but holds key {}", path.display(), record.kid, key.kid());
        }
        keys.push(StoredKey { record, key });
    }
    keys.sort_by_key(|k| k.record.created_at);
    Ok(keys)
}

/// Writes a new key: the PEM owner-only, then its state.
pub fn write_key(dir: &Path, key: &SigningKey, record: &KeyRecord) -> anyhow::Result<()> {
    create_dir(dir)?;
    let pem_path = dir.join(format!("{}.pem", key.kid()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&pem_path)
        .with_context(|| format!("creating {}", pem_path.display()))?;
    file.write_all(key.private_pem().as_bytes())?;
    file.sync_all()?;
    write_record(dir, record)
}

/// Rewrites a key's state atomically (a reader sees the old file or the new, never half).
pub fn write_record(dir: &Path, record: &KeyRecord) -> anyhow::Result<()> {
    let path = dir.join(format!("{}.json", record.kid));
    let tmp = dir.join(format!(".{}.json.tmp", record.kid));
    fs::write(&tmp, serde_json::to_vec_pretty(record)?).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &SigningKey) -> KeyRecord {
        KeyRecord {
            kid: key.kid().to_owned(),
            state: KeyState::Active,
            created_at: Utc::now(),
            activates_at: Some(Utc::now()),
            retires_at: None,
        }
    }

    #[test]
    fn a_written_key_reads_back_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = auth_common::testing::test_key();
        write_key(dir.path(), key, &record(key)).unwrap();
        let pem = dir.path().join(format!("{}.pem", key.kid()));
        assert_eq!(fs::metadata(&pem).unwrap().permissions().mode() & 0o777, 0o600);
        let loaded = load_all(dir.path(), &HashMap::new()).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].key.kid(), key.kid());
    }

    #[test]
    fn a_world_readable_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = auth_common::testing::test_key();
        write_key(dir.path(), key, &record(key)).unwrap();
        let pem = dir.path().join(format!("{}.pem", key.kid()));
        fs::set_permissions(&pem, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_all(dir.path(), &HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
