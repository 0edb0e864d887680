//! Password hashing: Argon2id with OWASP's parameters (m = 46 MiB, t = 1, p = 1).
//!
//! One hash costs tens of milliseconds of CPU. Hashes run on the blocking pool (never on
//! an async worker), and at most one per core at a time: actix's blocking pool has
//! hundreds of threads, and a burst of logins on all of them would starve every other
//! request of CPU. Their 46 MiB of working memory is reused from hash to hash and given
//! back to the system when logins pause (`memory`).

mod memory;
mod phc;

use std::sync::{Arc, OnceLock};

use anyhow::anyhow;
use argon2::Params;
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::error::ApiError;
use memory::MemoryPool;

/// m = 47104 KiB, t = 1, p = 1: the OWASP cheat sheet's first Argon2id row, as strong as
/// its 19 MiB/t = 2 row. Written out so a dependency update cannot weaken it.
///
/// Why this row and not 19 MiB: memory. glibc's malloc serves blocks under 32 MiB from
/// per-thread arenas once one such block has been freed (its mmap threshold grows to the
/// freed size), and keeps them: with 19 MiB hashes, a burst of logins left users-service
/// holding about a gigabyte. A 46 MiB block is above the threshold's ceiling, so it is
/// always mapped on its own and unmapped when `memory` releases it (docs/benchmarks.md).
const M_COST_KIB: u32 = 47_104;

/// The parameters of new hashes. Written out, they can only be wrong by an edit; argon2
/// would then fall back to its defaults, which are weaker, so the service refuses to
/// start instead.
fn params() -> anyhow::Result<Params> {
    Params::new(M_COST_KIB, 1, 1, None)
        .map_err(|e| anyhow!("the Argon2id parameters (m = {M_COST_KIB} KiB, t = 1, p = 1) are invalid: {e}"))
}

/// A hash of a password nobody has, verified when a login names an unknown user so that
/// the answer takes as long as for a wrong password. Made with the hashers' parameters,
/// which are the same for every hasher.
static DUMMY_HASH: OnceLock<Option<String>> = OnceLock::new();

/// The dummy hash, computed on first use: a whole hash's work, so only off the async workers.
fn dummy_hash(params: &Params) -> Option<&'static str> {
    DUMMY_HASH
        .get_or_init(|| {
            let mut memory = vec![argon2::Block::default(); M_COST_KIB as usize];
            phc::hash(params, b"no user has this password", &mut memory).ok()
        })
        .as_deref()
}

/// Hashes and verifies passwords with bounded concurrency and reused memory.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    concurrency: usize,
    memory: Arc<MemoryPool>,
}

impl PasswordHasher {
    /// A hasher with one permit per core; an error when the parameters are invalid.
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(Self {
            params: params()?,
            permits: Arc::new(Semaphore::new(cores)),
            concurrency: cores,
            memory: Arc::new(MemoryPool::new(M_COST_KIB as usize)),
        })
    }

    /// How many hashes may run at once: one per core.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Computes the dummy hash now rather than on the first login.
    pub fn warm_up(&self) {
        dummy_hash(&self.params);
    }

    /// Gives the hashing memory back to the system whenever logins pause. Call once,
    /// inside the runtime.
    pub fn spawn_releaser(&self) -> tokio::task::JoinHandle<()> {
        let memory = self.memory.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(memory::IDLE_RELEASE / 2);
            loop {
                tick.tick().await;
                memory.release_idle();
            }
        })
    }

    /// The PHC string of a new password, with a fresh random salt.
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let (memory, params) = (self.memory.clone(), self.params.clone());
        self.run(move || {
            let mut buffer = memory.take(M_COST_KIB as usize);
            let hashed = phc::hash(&params, password.expose().as_bytes(), &mut buffer);
            memory.give(buffer);
            hashed
        })
        .await
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown user), checks
    /// against the dummy hash and answers `false`, taking the same time.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, ApiError> {
        let (memory, params) = (self.memory.clone(), self.params.clone());
        self.run(move || {
            let (hash, known) = match stored {
                Some(hash) => (hash, true),
                None => {
                    let dummy = dummy_hash(&params).ok_or_else(|| anyhow!("the dummy hash could not be computed"))?;
                    (dummy.to_owned(), false)
                }
            };
            // A stored hash that does not parse is a wrong password, not a server error.
            let Ok(stored) = phc::Stored::parse(&hash) else {
                return Ok(false);
            };
            let mut buffer = memory.take(stored.blocks);
            let matches = stored.matches(password.expose().as_bytes(), &mut buffer);
            memory.give(buffer);
            Ok(matches? && known)
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
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    use argon2::{Algorithm, Argon2, Version};

    use super::*;

    fn password(p: &str) -> Password {
        Password::parse(p.to_owned()).unwrap()
    }

    #[actix_web::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::new().unwrap();
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
        let hasher = PasswordHasher::new().unwrap();
        assert!(hasher.verify(password("correct horse battery"), Some(hash)).await.unwrap());
    }

    #[actix_web::test]
    async fn our_hashes_are_standard_phc_strings_the_argon2_crate_verifies() {
        let hash = PasswordHasher::new().unwrap().hash(password("correct horse battery")).await.unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", hash.as_str()).is_ok());
        assert!(Argon2::default().verify_password(b"correct horse batterY", hash.as_str()).is_err());
    }

    #[actix_web::test]
    async fn a_corrupt_stored_hash_is_a_wrong_password_not_an_error() {
        let hasher = PasswordHasher::new().unwrap();
        assert!(!hasher.verify(password("correct horse battery"), Some("$argon2id$garbage".into())).await.unwrap());
    }

    #[actix_web::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let hasher = PasswordHasher::new().unwrap();
        let a = hasher.hash(password("same password")).await.unwrap();
        let b = hasher.hash(password("same password")).await.unwrap();
        assert_ne!(a, b);
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new().unwrap();
        assert!(!hasher.verify(password("no user has this password"), None).await.unwrap());
    }
}
