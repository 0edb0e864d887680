//! posts-service: stores posts and verifies every caller's token locally against the
//! public keys users-service publishes.

pub mod config;
pub mod routes;
pub mod startup;
