//! users-service: registers and logs in users, issues RS256 access tokens and rotating
//! refresh tokens, runs the OAuth token endpoint and publishes its public keys.
//!
//! `main.rs` reads the [`config::Config`] and runs [`startup::Application`]; the tests
//! start the very same application on a random port.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod keys;
pub mod openapi;
pub mod passwords;
pub mod profiles;
pub mod routes;
pub mod startup;
pub mod state;
pub mod throttle;
pub mod tokens;
