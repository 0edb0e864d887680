//! What both services share, in two halves a reader can tell apart by name, and the
//! clock both halves read.
//!
//! - [`token`]: the token itself, so that the issuer and every verifier agree on one
//!   definition: claims, scopes, signing keys, key sources, the JWKS cache, the verifier
//!   (and its cache of verified tokens), the refusal reasons and the actix extractor.
//! - [`service`]: the plumbing of an actix-web service: HTTP error handling, the JSON
//!   error shape, CORS, OpenAPI serving, observability, health, settings from the
//!   environment, the database layer and JSON timestamps.
//! - [`clock`]: the time every decision by time reads (token expiry, key activation,
//!   cooldowns), so tests can move it by hand.
//! - `testing` (feature `test-support`): keys, claims and databases for tests.

pub mod clock;
pub mod service;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod token;
