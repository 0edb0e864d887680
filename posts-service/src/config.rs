//! The service's settings, read once from the environment at start.

use std::net::SocketAddr;

use auth_common::env::Env;

/// Everything posts-service needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from(&Env::from_process())
    }

    /// Reads any [`Env`].
    pub fn from(env: &Env) -> anyhow::Result<Self> {
        Ok(Self { bind_addr: env.parsed("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8082)))? })
    }
}
