//! The posts-service binary: `.env`, logging, configuration, then the command (serve by
//! default; `healthcheck`).

use clap::Parser;
use posts_service::cli::Cli;
use posts_service::config::Config;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    dotenvy::dotenv().ok();
    auth_common::service::observability::logging::init();
    auth_common::token::install_crypto_provider();
    let result = match Config::from_env() {
        Ok(config) => cli.run(config).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("posts-service: {e:#}");
        std::process::exit(1);
    }
}
