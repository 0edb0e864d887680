//! Argon2id to and from PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), hashing
//! into memory the caller provides (see `memory`), which the `argon2` crate's
//! `PasswordHasher` API does not allow.

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Salt length (RFC 9106 recommends 16 bytes) and hash length.
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// Hashes `password` with a fresh random salt under `params`, in `memory`.
pub fn hash(params: &Params, password: &[u8], memory: &mut [Block]) -> anyhow::Result<String> {
    let mut salt = [0u8; SALT_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow!("no randomness for a salt"))?;
    let mut out = [0u8; OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, memory)
        .map_err(|e| anyhow!("hashing a password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into().map_err(|e| anyhow!("encoding the parameters: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow!("encoding the salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow!("encoding the hash: {e}"))?),
    };
    Ok(phc.to_string())
}

/// A stored hash, parsed: what to recompute and what to compare with.
pub struct Stored {
    argon2: Argon2<'static>,
    salt: Salt,
    expected: Output,
    /// Blocks the recomputation needs (`m`).
    pub blocks: usize,
}

impl Stored {
    pub fn parse(phc: &str) -> anyhow::Result<Self> {
        let phc = PasswordHash::new(phc).map_err(|e| anyhow!("a stored hash is not a PHC string: {e}"))?;
        let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(|e| anyhow!("stored hash: {e}"))?;
        let version = match phc.version {
            Some(v) => Version::try_from(v).map_err(|e| anyhow!("stored hash: {e}"))?,
            None => Version::default(),
        };
        let params = Params::try_from(&phc).map_err(|e| anyhow!("stored hash parameters: {e}"))?;
        let blocks = usize::try_from(params.m_cost()).context("stored hash memory")?;
        let salt = phc.salt.context("stored hash has no salt")?;
        let expected = phc.hash.context("stored hash has no hash")?;
        Ok(Self { argon2: Argon2::new(algorithm, version, params), salt, expected, blocks })
    }

    /// Whether `password` hashes to this, compared in constant time.
    pub fn matches(&self, password: &[u8], memory: &mut [Block]) -> anyhow::Result<bool> {
        let mut out = vec![0u8; self.expected.len()];
        self.argon2
            .hash_password_into_with_memory(password, self.salt.as_ref(), &mut out, memory)
            .map_err(|e| anyhow!("hashing a password: {e}"))?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(&out).map_err(|e| anyhow!("hash output: {e}"))? == self.expected)
    }
}
