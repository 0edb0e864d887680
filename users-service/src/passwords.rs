//! Password hashing: Argon2id with OWASP's parameters (m = 46 MiB, t = 1, p = 1).
//!
//! One hash costs tens of milliseconds of CPU. Hashes run on the blocking pool (never on
//! an async worker), and at most one per core at a time: actix's blocking pool has
//! hundreds of threads, and a burst of logins on all of them would starve every other
//! request of CPU.

use std::sync::{Arc, LazyLock};

use anyhow::anyhow;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::error::ApiError;

fn argon2() -> Argon2<'static> {
    // m = 47104 KiB, t = 1, p = 1: the OWASP cheat sheet's first Argon2id row, as strong
    // as its 19 MiB/t = 2 row. Written out so a dependency update cannot weaken it.
    //
    // Why this row and not 19 MiB: memory. glibc's malloc serves blocks under 32 MiB from
    // per-thread arenas once one such block has been freed (its mmap threshold grows to
    // the freed size), and keeps them: with 19 MiB hashes, a burst of logins left
    // users-service holding about a gigabyte. A 46 MiB block is above the threshold's
    // ceiling, so it is always mapped for the hash and unmapped after it, and the service
    // goes back to its idle size (docs/benchmarks.md).
    let params = Params::new(47_104, 1, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when a login names an unknown user so that
/// the answer takes as long as for a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| argon2().hash_password(b"no user has this password").ok().map(|h| h.to_string()));

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self { permits: Arc::new(Semaphore::new(cores)) }
    }
}

impl PasswordHasher {
    /// Computes the dummy hash now rather than on the first login.
    pub fn warm_up(&self) {
        LazyLock::force(&DUMMY_HASH);
    }

    /// The PHC string of a new password, with a fresh random salt.
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        self.run(move || {
            argon2()
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow!("hashing a password: {e}"))
        })
        .await
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown user), checks
    /// against the dummy hash and answers `false`, taking the same time.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move || {
            let (hash, known) = match stored {
                Some(hash) => (hash, true),
                None => (DUMMY_HASH.clone().ok_or_else(|| anyhow!("the dummy hash could not be computed"))?, false),
            };
            let matches = argon2().verify_password(password.expose().as_bytes(), hash.as_str()).is_ok();
            Ok(matches && known)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(|e| anyhow!("password hasher closed: {e}"))?;
        actix_web::web::block(work)
            .await
            .map_err(|e| anyhow!("password hashing task failed: {e}"))?
            .map_err(ApiError::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(p: &str) -> Password {
        Password::parse(p.to_owned()).unwrap()
    }

    #[actix_web::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash(password("correct horse battery")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=47104,t=1,p=1$"), "{hash}");
        assert!(hasher.verify(password("correct horse battery"), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify(password("CORRECT HORSE BATTERY"), Some(hash)).await.unwrap());
    }

    #[actix_web::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        // A database filled before the parameters changed keeps working: each PHC string
        // carries its own parameters.
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).unwrap());
        let hash = old.hash_password(b"correct horse battery").unwrap().to_string();
        let hasher = PasswordHasher::default();
        assert!(hasher.verify(password("correct horse battery"), Some(hash)).await.unwrap());
    }

    #[actix_web::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let hasher = PasswordHasher::default();
        let a = hasher.hash(password("same password")).await.unwrap();
        let b = hasher.hash(password("same password")).await.unwrap();
        assert_ne!(a, b);
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::default();
        assert!(!hasher.verify(password("no user has this password"), None).await.unwrap());
    }
}
