//! The command line: serve (the default) or probe readiness, the commands every service
//! has (`auth_common::service::cli`).

use auth_common::service::cli::ServiceCommand;
use clap::Parser;

use crate::config::Config;

/// posts-service: posts, verified locally against users-service's public keys.
#[derive(Debug, Parser)]
#[command(name = "posts-service", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<ServiceCommand>,
}

impl Cli {
    /// Runs the command.
    pub async fn run(self, config: Config) -> anyhow::Result<()> {
        let bind_addr = config.common.bind_addr;
        self.command.unwrap_or_default().run(bind_addr, || crate::startup::build(config)).await
    }
}
