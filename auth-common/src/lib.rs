//! What both services share, so that the issuer and every verifier agree on one
//! definition of a token.
//!
//! - [`claims`]: the access-token claims (RFC 9068) and the token type.
//! - [`scope`]: scopes as a parsed type, and the audience each scope belongs to.
//! - [`keys`]: where a verifier gets its public keys ([`keys::KeySource`]).
//! - [`signing`]: RSA signing keys, named by their RFC 7638 thumbprint.
//! - [`verifier`]: RS256 verification with every check jsonwebtoken leaves to the caller.
//! - [`extractor`]: the actix extractor that turns a `Bearer` header into a [`extractor::Caller`].
//! - [`error`]: the JSON error shape both services answer with, and the auth errors.
//! - `jwks` (feature `jwks`): the cached JWKS a resource server verifies with.
//! - `healthcheck` (feature `healthcheck`): the probe behind `<service> healthcheck`.
//! - [`http`]: extractor configurations and middleware that keep every error in that shape.
//! - `db` (feature `db`): the database layer both services share.
//! - [`observability`]: request ids, access logs, Prometheus metrics.
//! - [`timestamp`]: how timestamps are written in JSON.
//! - [`env`]: reading typed settings from the environment with errors that name the key.

pub mod claims;
#[cfg(feature = "db")]
pub mod db;
pub mod env;
pub mod error;
pub mod extractor;
#[cfg(feature = "healthcheck")]
pub mod healthcheck;
pub mod http;
#[cfg(feature = "jwks")]
pub mod jwks;
pub mod keys;
pub mod observability;
pub mod scope;
pub mod signing;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod timestamp;
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
