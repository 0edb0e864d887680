//! The posts-service binary: `.env`, then the command (serve by default; `healthcheck`).

use clap::Parser;
use posts_service::cli::Cli;
use posts_service::config::Config;

fn main() {
    let cli = Cli::parse();
    dotenvy::dotenv().ok();
    auth_common::service::cli::run_main("posts-service", async move { cli.run(Config::from_env()?).await });
}
