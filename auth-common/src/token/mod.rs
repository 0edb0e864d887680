//! The token side: what an access token is, how users-service signs one and how every
//! service verifies one, so that the issuer and every verifier agree on one definition.
//!
//! - [`claims`]: the access-token claims (RFC 9068) and the token type.
//! - [`scope`]: scopes as a parsed type, and the audience each scope belongs to.
//! - [`signing_key`]: RSA signing keys, named by their RFC 7638 thumbprint.
//! - [`key_source`]: where a verifier gets its public keys ([`key_source::KeySource`]).
//! - `jwks_cache` (feature `jwks`): the cached JWKS a resource server verifies with.
//! - [`sha256`]: the digest of tokens and secrets.
//! - [`verifier`]: RS256 verification with every check jsonwebtoken leaves to the caller,
//!   and its cache of verified tokens.
//! - [`reject_reason`]: why a token was refused, as a metric label and a client sentence.
//! - [`auth_error`]: the errors of bearer authentication and the 401/403 each becomes.
//! - [`extractor`]: the actix extractor that turns a `Bearer` header into a [`extractor::Caller`].

pub mod auth_error;
pub mod claims;
pub mod extractor;
#[cfg(feature = "jwks")]
pub mod jwks_cache;
pub mod key_source;
pub mod reject_reason;
pub mod scope;
pub mod sha256;
pub mod signing_key;
pub mod verifier;

/// Makes aws-lc-rs jsonwebtoken's process-wide crypto provider.
///
/// jsonwebtoken picks its backend at run time and panics on the first signature when it
/// cannot tell which one to use (for instance when feature unification turned on both).
/// Installing it explicitly turns that run-time panic into a compile error when the
/// `aws_lc_rs` feature is missing. Safe to call any number of times.
pub fn install_crypto_provider() {
    // An Err only says a provider is installed already, which is what we want.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
