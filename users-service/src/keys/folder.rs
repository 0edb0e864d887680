//! The key folder of earlier releases (`JWT_KEYS_DIR`): one `<kid>.pem` (PKCS#8, mode
//! 0600) per key with its state beside it in `<kid>.json`. Read once, by `keys import`
//! (or at a start that finds the database without keys), to bring an installation's keys
//! into the database without a new key or a refused token.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use auth_common::token::signing_key::SigningKey;

use super::store::{KeyRecord, StoredKey};

/// Every key in `dir`, oldest first. A key file anyone but the owner can read is refused,
/// as is a state file that names another key.
pub fn load_all(dir: &Path) -> anyhow::Result<Vec<StoredKey>> {
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

/// Writes a key the way earlier releases did (for tests of the import).
#[cfg(any(test, feature = "test-support"))]
pub fn write_key(dir: &Path, key: &SigningKey, record: &KeyRecord) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
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

#[cfg(any(test, feature = "test-support"))]
fn write_record(dir: &Path, record: &KeyRecord) -> anyhow::Result<()> {
    let path = dir.join(format!("{}.json", record.kid));
    let tmp = dir.join(format!(".{}.json.tmp", record.kid));
    fs::write(&tmp, serde_json::to_vec_pretty(record)?).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(any(test, feature = "test-support"))]
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
    use crate::keys::store::KeyState;
    use chrono::Utc;

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
        let loaded = load_all(dir.path()).unwrap();
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
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
