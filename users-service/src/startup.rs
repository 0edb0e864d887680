//! Building the application: state made once, routes registered, the listener bound.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::cors::cors;
use auth_common::service::http::extractor_configs::{form_config, json_config, path_config, query_config};
use auth_common::service::http::json_errors::json_errors;
use auth_common::service::http::security_headers::security_headers;
use auth_common::service::observability::metrics::Metrics;
use auth_common::service::observability::middleware::observe;
use auth_common::token::verifier::{Verifier, VerifierSettings};

use crate::config::Config;
use crate::keys::KeyRing;
use crate::passwords::PasswordHasher;
use crate::profiles::Profiles;
use crate::routes;
use crate::state::AppState;
use crate::throttle::Guards;
use crate::tokens::access::TokenIssuer;
use crate::tokens::clients::ClientRegistry;

/// Bodies here are small JSON or forms; anything bigger is refused with 413.
const BODY_LIMIT: usize = 16 * 1024;

/// A built, listening users-service.
pub struct Application {
    port: u16,
    server: Server,
    key_reloader: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Binds `config.bind_addr` and builds the app, telling the time by `clock`
    /// ([`Clock::system`] in production).
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        Self::build_with_listener(config, listener, clock).await
    }

    /// Builds the app on a listener bound already (tests bind port 0 first, so they know
    /// the address the issuer URL must name).
    pub async fn build_with_listener(config: Config, listener: TcpListener, clock: Clock) -> anyhow::Result<Self> {
        auth_common::token::install_crypto_provider();
        let port = listener.local_addr()?.port();
        let (url, max) = (config.database_url.clone(), config.database_max_connections);
        let pool = tokio::task::spawn_blocking(move || crate::db::connect(&url, max)).await??;
        let keys = Arc::new(KeyRing::load(&config.keys_dir, config.app_env, clock.clone())?);
        let key_reloader = crate::keys::reloader::spawn(keys.clone(), config.keys_dir.clone());
        let verifier = web::Data::new(Verifier::new(
            VerifierSettings {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                leeway_secs: config.leeway_secs,
                max_lifetime_secs: config.max_lifetime_secs,
                cache_entries: config.jwt_cache_entries,
            },
            keys.clone(),
            clock.clone(),
        ));
        let metrics = web::Data::new(Metrics::new().context("registering metrics")?);
        let passwords = PasswordHasher::default();
        passwords.warm_up();
        passwords.spawn_releaser();
        let state = web::Data::new(AppState {
            pool,
            issuer: TokenIssuer::new(
                keys.clone(),
                config.issuer.clone(),
                config.access_token_ttl_secs,
                metrics.clone().into_inner(),
                clock.clone(),
            ),
            keys,
            clients: ClientRegistry::new(config.oauth_clients.clone()),
            passwords,
            profiles: Profiles::new(
                config.user_cache_entries,
                Duration::from_secs(config.user_cache_ttl_secs),
                clock.clone(),
            ),
            issuer_url: config.issuer.clone(),
            jwks_max_age_secs: config.jwks_max_age_secs,
            refresh_token_ttl_secs: config.refresh_token_ttl_secs,
            refresh_token_idle_secs: config.refresh_token_idle_secs,
            guards: Guards::default(),
            trust_forwarded_for: config.trust_forwarded_for,
            clock,
        });
        log::info!("users-service listening on {} ({config:?})", listener.local_addr()?);
        let cors_origins = config.cors_allowed_origins.clone();
        // Password hashes run on the blocking pool too, up to one per core at a time.
        let (workers, blocking_threads) =
            auth_common::service::db::server_threads(&state.pool, state.passwords.concurrency());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&cors_origins))
                .wrap(json_errors())
                .wrap(security_headers())
                .wrap(from_fn(observe))
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(verifier.clone())
                .app_data(json_config(BODY_LIMIT))
                .app_data(form_config(BODY_LIMIT))
                .app_data(query_config())
                .app_data(path_config())
                .configure(routes::configure)
        })
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)?
        .run();
        Ok(Self { port, server, key_reloader })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.key_reloader.abort();
        result
    }
}
