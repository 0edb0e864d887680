//! The users-service binary: configuration from the environment (and `.env`), then serve.

use users_service::config::Config;
use users_service::startup::Application;

#[actix_web::main]
async fn main() {
    dotenvy::dotenv().ok();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    auth_common::install_crypto_provider();
    if let Err(e) = run().await {
        // One line that names what is wrong, e.g. "ACCESS_TOKEN_TTL_SECS: expected u64 …".
        eprintln!("users-service: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    Application::build(config).await?.run_until_stopped().await?;
    Ok(())
}
