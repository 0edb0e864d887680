//! posts-service: stores posts, verifies every caller's token locally against the public
//! keys users-service publishes (a cached JWKS), and fills posts with their authors from
//! users-service in one batched call per page, passing the caller's token on.
//!
//! `main.rs` parses the command line and hands the [`config::Config`] to [`cli::Cli::run`],
//! which serves what [`startup::build`] makes; the tests start the very same application
//! with [`startup::build_with_listener`] on a random port, beside a real users-service.

pub mod api_types;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod feed;
pub mod openapi;
pub mod routes;
pub mod service_token;
pub mod startup;
pub mod state;
pub mod users_client;
