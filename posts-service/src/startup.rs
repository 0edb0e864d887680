//! Building the application.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::{App, HttpServer};
use anyhow::Context;
use auth_common::http::{json_errors, security_headers};

use crate::config::Config;
use crate::routes;

/// A built, listening posts-service.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `config.bind_addr` and builds the app.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        Self::build_with_listener(config, listener).await
    }

    /// Builds the app on a listener bound already.
    pub async fn build_with_listener(_config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(|| {
            App::new().wrap(json_errors()).wrap(security_headers()).wrap(Logger::default()).configure(routes::configure)
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
