//! The users-service binary: `.env`, logging, configuration, then the command (serve by
//! default; `keys list | rotate | retire KID`).

use clap::Parser;
use users_service::cli::Cli;
use users_service::config::Config;

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
        // One line that names what is wrong, e.g. "ACCESS_TOKEN_TTL_SECS: expected u64 …".
        eprintln!("users-service: {e:#}");
        std::process::exit(1);
    }
}
