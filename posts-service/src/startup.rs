//! Building posts-service: the one HTTP client, the JWKS cache and its refresher, the
//! verifier, the database and the state, then served the way both services are
//! (`auth_common::service::server`).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::health::Readiness;
use auth_common::service::observability::metrics::Metrics;
use auth_common::service::server::{Server, ServerSettings, SharedData, Threads};
use auth_common::token::jwks_cache::{FetchResult, JwksCache};
use auth_common::token::verifier::Verifier;

use crate::config::Config;
use crate::routes;
use crate::service_token::ServiceTokens;
use crate::state::AppState;
use crate::users_client::UsersClient;

/// A post is at most 200 + 10 000 characters; 64 KiB leaves room for JSON escapes.
const BODY_LIMIT: usize = 64 * 1024;

/// Binds `config.common.bind_addr` and builds the app, telling the time by `clock`
/// ([`Clock::system`] in production).
pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Server> {
    let listener = Server::bind(config.common.bind_addr)?;
    build_with_listener(config, listener, clock).await
}

/// Builds the app on a listener bound already.
pub async fn build_with_listener(config: Config, listener: TcpListener, clock: Clock) -> anyhow::Result<Server> {
    auth_common::token::install_crypto_provider();
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
        JwksCache::new(http.clone(), config.jwks_url.clone(), config.jwks_min_refetch, clock.clone()).with_observer(
            Arc::new(move |result| {
                fetches.jwks_fetch(match result {
                    FetchResult::Success => "success",
                    FetchResult::Failure => "failure",
                })
            }),
        ),
    );
    // The server starts at once; readiness waits for the first JWKS. SIGHUP refreshes
    // the keys at once (after an emergency key retirement, say).
    let (hangups, hangup_listener) = auth_common::service::hangup::forward_hangups("the JWKS refreshes");
    let refresher = jwks.spawn_refresher(hangups);
    let verifier = web::Data::new(Verifier::new(config.common.verifier_settings(), jwks.clone(), clock.clone()));
    let (url, max) = (config.common.database_url.clone(), config.common.database_max_connections);
    let pool = tokio::task::spawn_blocking(move || crate::db::connect(&url, max)).await??;
    let readiness = Readiness::default().database(pool.clone()).flag(
        "jwks",
        "not_loaded",
        "the JWKS has not been loaded from users-service yet",
        move || jwks.is_loaded(),
    );
    let state = web::Data::new(AppState {
        pool,
        users: UsersClient::new(http, config.users_service_url.clone(), metrics.clone().into_inner())
            .context("USERS_SERVICE_URL")?,
        service_tokens: ServiceTokens::new(config.client_id.clone(), config.client_secret.clone(), clock.clone()),
        users_timeout: config.users_timeout,
        metrics: metrics.clone().into_inner(),
        clock,
    });
    let settings = ServerSettings {
        name: "posts-service",
        cors_allowed_origins: config.common.cors_allowed_origins.clone(),
        body_limit: BODY_LIMIT,
        threads: Threads::beside_pool(state.pool.max_size(), 0),
        drain: std::time::Duration::from_secs(config.common.shutdown_drain_secs),
    };
    let shared = SharedData { metrics, verifier, readiness: web::Data::new(readiness) };
    let server = Server::start(listener, settings, shared, &config, move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone());
        routes::configure(cfg);
    })?;
    Ok(server.with_background(refresher).with_background(hangup_listener))
}
