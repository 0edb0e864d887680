//! The command line both binaries share: `serve` (the default) and `healthcheck`, and the
//! `main` around them.
//!
//! A service's own `Cli` flattens [`ServiceCommand`] into its subcommands (users-service
//! adds `keys …`), and its `main.rs` is `dotenvy`, the parse and [`run_main`].

pub mod healthcheck;

use std::future::Future;
use std::net::SocketAddr;

use crate::service::server::Server;

/// The commands every service has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Subcommand)]
pub enum ServiceCommand {
    /// Serve HTTP (the default).
    #[default]
    Serve,
    /// Exit 0 if this service answers /health/ready on BIND_ADDR, 1 otherwise.
    Healthcheck,
}

impl ServiceCommand {
    /// Runs the command: `build` makes the server to serve; the probe asks `bind_addr`.
    pub async fn run<F, B>(self, bind_addr: SocketAddr, build: F) -> anyhow::Result<()>
    where
        F: FnOnce() -> B,
        B: Future<Output = anyhow::Result<Server>>,
    {
        match self {
            Self::Serve => build().await?.run_until_stopped().await?,
            Self::Healthcheck => {
                if !healthcheck::ready(bind_addr).await {
                    anyhow::bail!("not ready");
                }
            }
        }
        Ok(())
    }
}

/// The body of a service binary's `main`: logging (`RUST_LOG`) and the crypto provider
/// first, then `run` on the actix runtime. An error ends the process with status 1 and
/// one line naming what is wrong (`users-service: ACCESS_TOKEN_TTL_SECS: expected u64 …`).
pub fn run_main(name: &str, run: impl Future<Output = anyhow::Result<()>>) {
    crate::service::observability::logging::init();
    crate::token::install_crypto_provider();
    if let Err(e) = actix_web::rt::System::new().block_on(run) {
        eprintln!("{name}: {e:#}");
        std::process::exit(1);
    }
}
