//! The key-encryption key (`JWT_KEYS_ENCRYPTION_KEY`): the private halves of the signing
//! keys are stored sealed with it, so a copy of the database (a backup, a replica, a
//! leaked dump) holds no usable signing key. This is what Hydra does with its system
//! secret and Keycloak with its vault.
//!
//! AES-256-GCM from aws-lc-rs (the crypto library jsonwebtoken already uses here), with a
//! random 96-bit nonce per seal and the key id as associated data: a sealed key moved to
//! another row does not open. Stored as `nonce ‖ ciphertext ‖ tag`.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use auth_common::service::env::AppEnv;
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The length of the key-encryption key, in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The name of the key-encryption key generated for development, in `JWT_KEYS_DIR`.
pub const DEV_KEY_FILE: &str = "encryption.key";

/// A key-encryption key, parsed and checked. Cheap to clone.
#[derive(Clone)]
pub struct Kek {
    key: Arc<RandomizedNonceKey>,
    id: String,
    weak: bool,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Kek {
    /// Parses base64 (standard or URL-safe, padding optional) of exactly 32 bytes.
    pub fn parse(encoded: &str) -> anyhow::Result<Self> {
        let trimmed = encoded.trim();
        let bytes =
            STANDARD.decode(trimmed).or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('='))).map_err(
                |_| anyhow::anyhow!("expected base64 of {KEY_LEN} random bytes (`head -c 32 /dev/urandom | base64`)"),
            )?;
        if bytes.len() != KEY_LEN {
            bail!(
                "expected {KEY_LEN} bytes once base64-decoded, got {} (`head -c 32 /dev/urandom | base64`)",
                bytes.len()
            );
        }
        Self::from_bytes(&bytes)
    }

    /// A fresh random key, with its base64 form.
    pub fn generate() -> anyhow::Result<(Self, String)> {
        let mut bytes = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
        Ok((Self::from_bytes(&bytes)?, STANDARD.encode(bytes)))
    }

    fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("not an AES-256 key"))?;
        // A fingerprint, not the key: it names which key sealed a row, so a wrong key is
        // reported as such. A 256-bit random key cannot be recovered from its hash.
        let digest = auth_common::token::sha256::digest(&[b"users-service key-encryption key\0", bytes].concat());
        let id = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let mut distinct = bytes.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        // 32 random bytes have about 30 distinct values; fewer than 16 is a typed or
        // patterned key, not a random one.
        Ok(Self { key: Arc::new(key), id, weak: distinct.len() < 16 })
    }

    /// The key's fingerprint, stored beside what it sealed.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` bound to `kid`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| anyhow::anyhow!("sealing key {kid} failed"))?;
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Opens what [`Kek::seal`] sealed for `kid`; an error if the key, the kid or a single
    /// byte differs.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let fail =
            || anyhow::anyhow!("key {kid} does not open with this key-encryption key (wrong key, or a damaged row)");
        if sealed.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self.key.open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out).map_err(|_| fail())?;
        Ok(plaintext.to_vec())
    }
}

/// The key-encryption key the service and its commands use: the configured one; in
/// development, when none is configured, the one generated into `state_dir` (made on first
/// use). Production refuses a missing or weak key with one line.
pub fn resolve(configured: Option<&Kek>, state_dir: &Path, app_env: AppEnv) -> anyhow::Result<Kek> {
    match (configured, app_env) {
        (Some(kek), AppEnv::Production) if kek.weak => bail!(
            "JWT_KEYS_ENCRYPTION_KEY is weak (fewer than 16 distinct bytes); production needs 32 random bytes: \
             `head -c 32 /dev/urandom | base64`"
        ),
        (Some(kek), _) => Ok(kek.clone()),
        (None, AppEnv::Production) => bail!(
            "JWT_KEYS_ENCRYPTION_KEY (or JWT_KEYS_ENCRYPTION_KEY_FILE) is not set, and production never generates one: \
             make one with `head -c 32 /dev/urandom | base64`, keep it in a secret store, never in the database"
        ),
        (None, AppEnv::Development) => dev_key(state_dir),
    }
}

/// The development key in `dir`, made on first use (owner-only, like the keys were).
fn dev_key(dir: &Path) -> anyhow::Result<Kek> {
    let path = dir.join(DEV_KEY_FILE);
    if path.exists() {
        let mode = fs::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{}: mode {:o} lets others read the key-encryption key; run `chmod 600` on it",
                path.display(),
                mode & 0o777
            );
        }
        let encoded = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Kek::parse(&encoded).with_context(|| path.display().to_string());
    }
    if !dir.exists() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let (kek, encoded) = Kek::generate()?;
    // Written whole under a name of its own, then linked into place: a link never replaces
    // a file, so of two processes starting at once one's key wins and the other reads it,
    // and no reader ever sees a half-written file.
    let tmp = dir.join(format!(".{DEV_KEY_FILE}.{}.tmp", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(format!("{encoded}\n").as_bytes())?;
    file.sync_all()?;
    let linked = fs::hard_link(&tmp, &path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            log::info!("generated a key-encryption key in {} (development only)", path.display());
            Ok(kek)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => dev_key(dir),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_the_same_key_and_kid() {
        let (kek, _) = Kek::generate().unwrap();
        let (other, _) = Kek::generate().unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err(), "bound to its kid");
        assert!(other.open("kid-1", &sealed).is_err(), "bound to its key");
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN] ^= 1;
        assert!(kek.open("kid-1", &flipped).is_err(), "authenticated");
        assert!(kek.open("kid-1", &sealed[..4]).is_err());
        assert_ne!(kek.seal("kid-1", b"private").unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn only_32_bytes_of_base64_parse_and_the_fingerprint_is_stable() {
        let (kek, encoded) = Kek::generate().unwrap();
        assert_eq!(Kek::parse(&encoded).unwrap().id(), kek.id());
        let url_safe = encoded.replace('+', "-").replace('/', "_");
        assert_eq!(Kek::parse(url_safe.trim_end_matches('=')).unwrap().id(), kek.id());
        assert!(Kek::parse(&STANDARD.encode([7u8; 16])).unwrap_err().to_string().contains("got 16"));
        assert!(Kek::parse("not base64!").is_err());
        assert!(!format!("{kek:?}").contains(&encoded));
    }

    #[test]
    fn production_refuses_a_missing_or_patterned_key_and_development_makes_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(None, dir.path(), AppEnv::Production).unwrap_err().to_string();
        assert!(err.contains("JWT_KEYS_ENCRYPTION_KEY") && err.contains("never generates"), "{err}");
        let patterned = Kek::parse(&STANDARD.encode([1u8, 2].repeat(16))).unwrap();
        assert!(resolve(Some(&patterned), dir.path(), AppEnv::Production).unwrap_err().to_string().contains("weak"));
        assert!(resolve(Some(&patterned), dir.path(), AppEnv::Development).is_ok());

        let made = resolve(None, dir.path(), AppEnv::Development).unwrap();
        let again = resolve(None, dir.path(), AppEnv::Development).unwrap();
        assert_eq!(made.id(), again.id(), "made once, then read");
        let mode = fs::metadata(dir.path().join(DEV_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
