//! The posts-service binary.

use posts_service::config::Config;
use posts_service::startup::Application;

#[actix_web::main]
async fn main() {
    dotenvy::dotenv().ok();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    auth_common::install_crypto_provider();
    if let Err(e) = run().await {
        eprintln!("posts-service: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    Application::build(Config::from_env()?).await?.run_until_stopped().await?;
    Ok(())
}
