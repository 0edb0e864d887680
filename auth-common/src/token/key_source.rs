//! Where a verifier gets the public keys it trusts.
//!
//! users-service answers from its own key store; posts-service from a cached JWKS that
//! refetches when an unknown `kid` arrives. Both sit behind [`KeySource`], so the verifier
//! (and its unit tests) do not care which.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

/// Public keys by `kid`.
pub type KeyMap = HashMap<String, Arc<DecodingKey>>;

/// A source of trusted public keys.
pub trait KeySource: Send + Sync {
    /// The key named `kid`, or `None` when it is not trusted. An implementation may do I/O
    /// first (a JWKS refetch), but must bound it: a request waits on this.
    fn key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Option<Arc<DecodingKey>>>;

    /// A number that grows whenever the set of trusted keys changes. The verifier's cache
    /// of verified tokens is emptied when it does. A source whose keys never change may
    /// keep the default.
    fn generation(&self) -> u64 {
        0
    }
}

/// A fixed set of keys, known up front.
#[derive(Default, Clone)]
pub struct StaticKeys(KeyMap);

impl StaticKeys {
    /// The keys of a JWKS (see [`keys_from_jwks`]).
    pub fn from_jwks(set: &JwkSet) -> Self {
        Self(keys_from_jwks(set))
    }
}

impl KeySource for StaticKeys {
    fn key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Option<Arc<DecodingKey>>> {
        let found = self.0.get(kid).cloned();
        Box::pin(async move { found })
    }
}

/// The RS256 signing keys of a JWKS, by `kid`.
///
/// Anything else is skipped rather than trusted: keys without a `kid`, non-RSA keys (an
/// `oct` key would become an HMAC secret), keys marked for encryption, or for another
/// algorithm.
pub fn keys_from_jwks(set: &JwkSet) -> KeyMap {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|jwk| matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature)))
        .filter(|jwk| matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)))
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rsa_signing_keys_with_a_kid_are_kept() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "use": "sig", "alg": "RS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "alg": "RS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "sXch", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]}))
        .unwrap();
        let keys = keys_from_jwks(&set);
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["good"]);
    }
}
