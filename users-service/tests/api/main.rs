//! users-service's integration tests: the real application on a random port, a fresh
//! database per test (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set), real HTTP.

// A failed expectation in a test helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorize;
mod authorize_oidc;
mod bad_input;
mod cors;
mod docs;
mod health;
mod helpers;
mod keys;
mod login;
mod logout;
mod oauth;
mod refresh;
mod startup;
mod throttling;
mod users;
mod well_known;
