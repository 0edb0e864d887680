//! The probe behind `users-service healthcheck` and `posts-service healthcheck`: slim
//! container images have no curl, so the binary checks its own readiness.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Whether the service listening on `bind_addr` answers `GET /health/ready` with 200
/// within three seconds. A wildcard address (`0.0.0.0`, `::`) is probed on loopback.
pub async fn ready(bind_addr: SocketAddr) -> bool {
    let mut target = bind_addr;
    if target.ip().is_unspecified() {
        target.set_ip(if target.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() else {
        return false;
    };
    let url = format!("http://{target}/health/ready");
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            eprintln!("{url}: {}", response.status());
            false
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            false
        }
    }
}
