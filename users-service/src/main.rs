//! The users-service binary: `.env`, then the command (serve by default; `healthcheck`;
//! `keys list | init | rotate | retire KID`).

use clap::Parser;
use users_service::cli::Cli;
use users_service::config::Config;

fn main() {
    let cli = Cli::parse();
    dotenvy::dotenv().ok();
    auth_common::service::cli::run_main("users-service", async move { cli.run(Config::from_env()?).await });
}
