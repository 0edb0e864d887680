//! users-service: registers and logs in users, issues RS256 access tokens and rotating
//! refresh tokens, runs the OAuth token endpoint and publishes its public keys.
//!
//! `main.rs` parses the command line and hands the [`config::Config`] to [`cli::Cli::run`],
//! which serves what [`startup::build`] makes; the tests start the very same application
//! with [`startup::build_with_listener`] on a random port.

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
pub mod signin;
pub mod startup;
pub mod state;
pub mod sweeper;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod throttle;
pub mod tokens;
