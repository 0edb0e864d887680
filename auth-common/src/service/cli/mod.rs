//! What both binaries' command lines share: `serve` and `healthcheck` behave the same in
//! each, and so does the `main` around them.
//!
//! Each service keeps its own clap `Cli` (its name, its help, users-service's `keys …`);
//! its `serve` arm runs the server its `startup` builds, its `healthcheck` arm calls
//! [`healthcheck`], and its `main.rs` is `dotenvy`, the parse and [`run_main`].

mod probe;

use std::future::Future;
use std::net::SocketAddr;

/// `<service> healthcheck`: succeeds when the service listening on `bind_addr` answers
/// `GET /health/ready` with 200 within three seconds (a wildcard address is probed on
/// loopback); an error otherwise, which [`run_main`] turns into exit status 1.
pub async fn healthcheck(bind_addr: SocketAddr) -> anyhow::Result<()> {
    if !probe::ready(bind_addr).await {
        anyhow::bail!("not ready");
    }
    Ok(())
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
