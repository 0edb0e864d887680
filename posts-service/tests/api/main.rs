//! posts-service's integration tests: the real posts-service and the real users-service,
//! each on a random port with a fresh database, a recording proxy between them, real HTTP.

// A failed expectation in a test helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adversarial;
mod degradation;
mod flow;
mod helpers;
mod input;
mod jwks;
mod observability;
mod ownership;
mod proxy;
mod public_feed;
mod rotation;
mod verification;
