//! The command line: serve (the default) or probe readiness.

use auth_common::clock::Clock;
use clap::{Parser, Subcommand};

use crate::config::Config;

/// posts-service: posts, verified locally against users-service's public keys.
#[derive(Debug, Parser)]
#[command(name = "posts-service", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Exit 0 if this service answers /health/ready on BIND_ADDR, 1 otherwise.
    Healthcheck,
}

impl Cli {
    /// Runs the command.
    pub async fn run(self, config: Config) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::startup::build(config, Clock::system()).await?.run_until_stopped().await?,
            Command::Healthcheck => auth_common::service::cli::healthcheck(config.common.bind_addr).await?,
        }
        Ok(())
    }
}
