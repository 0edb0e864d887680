//! Building the application: the one HTTP client, the JWKS cache and its refresher, the
//! verifier, the database, the routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::cors::cors;
use auth_common::service::http::extractor_configs::{json_config, path_config, query_config};
use auth_common::service::http::json_errors::json_errors;
use auth_common::service::http::security_headers::security_headers;
use auth_common::service::observability::metrics::Metrics;
use auth_common::service::observability::middleware::observe;
use auth_common::token::jwks_cache::{FetchResult, JwksCache};
use auth_common::token::verifier::{Verifier, VerifierSettings};

use crate::config::Config;
use crate::routes;
use crate::service_token::ServiceTokens;
use crate::state::AppState;
use crate::users_client::UsersClient;

/// A post is at most 200 + 10 000 characters; 64 KiB leaves room for JSON escapes.
const BODY_LIMIT: usize = 64 * 1024;

/// A built, listening posts-service.
pub struct Application {
    port: u16,
    server: Server,
    refresher: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Binds `config.bind_addr` and builds the app, telling the time by `clock`
    /// ([`Clock::system`] in production).
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        Self::build_with_listener(config, listener, clock).await
    }

    /// Builds the app on a listener bound already.
    pub async fn build_with_listener(config: Config, listener: TcpListener, clock: Clock) -> anyhow::Result<Self> {
        auth_common::token::install_crypto_provider();
        let port = listener.local_addr()?.port();
        // One client for the process: connection reuse to users-service, and one place for
        // the timeouts. The total timeout bounds connect + request + body. No redirects
        // and no proxy from the environment (`HTTP_PROXY`…): a forwarded token goes to the
        // configured users-service and to no other host.
        let http = reqwest::Client::builder()
            .connect_timeout(config.users_timeout)
            .timeout(config.users_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("posts-service/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let metrics = web::Data::new(Metrics::new().context("registering metrics")?);
        let fetches = metrics.clone();
        let jwks = Arc::new(
            JwksCache::new(http.clone(), config.jwks_url.clone(), config.jwks_min_refetch, clock.clone())
                .with_observer(Arc::new(move |result| {
                    fetches.jwks_fetch(match result {
                        FetchResult::Success => "success",
                        FetchResult::Failure => "failure",
                    })
                })),
        );
        // The server starts at once; readiness waits for the first JWKS. SIGHUP refreshes
        // the keys at once (after an emergency key retirement, say).
        let wake = Arc::new(tokio::sync::Notify::new());
        let refresher = jwks.spawn_refresher(wake.clone());
        spawn_hangup_listener(wake);
        let verifier = web::Data::new(Verifier::new(
            VerifierSettings {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                leeway_secs: config.leeway_secs,
                max_lifetime_secs: config.max_lifetime_secs,
                cache_entries: config.jwt_cache_entries,
            },
            jwks.clone(),
            clock.clone(),
        ));
        let (url, max) = (config.database_url.clone(), config.database_max_connections);
        let pool = tokio::task::spawn_blocking(move || crate::db::connect(&url, max)).await??;
        let state = web::Data::new(AppState {
            pool,
            users: UsersClient::new(http, config.users_service_url.clone(), metrics.clone().into_inner())
                .context("USERS_SERVICE_URL")?,
            service_tokens: ServiceTokens::new(config.client_id.clone(), config.client_secret.clone(), clock.clone()),
            jwks,
            users_timeout: config.users_timeout,
            metrics: metrics.clone().into_inner(),
            clock,
        });
        log::info!("posts-service listening on {} ({config:?})", listener.local_addr()?);
        let cors_origins = config.cors_allowed_origins.clone();
        let (workers, blocking_threads) = auth_common::service::db::server_threads(&state.pool, 0);
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
                .app_data(query_config())
                .app_data(path_config())
                .configure(routes::configure)
        })
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)?
        .run();
        Ok(Self { port, server, refresher })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.refresher.abort();
        result
    }
}

/// Forwards `SIGHUP` to `wake`.
fn spawn_hangup_listener(wake: Arc<tokio::sync::Notify>) {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hangup) => {
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    wake.notify_one();
                }
            });
        }
        Err(e) => log::warn!("cannot listen for SIGHUP: {e}"),
    }
}
