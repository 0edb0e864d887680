//! Building users-service: its state made once (pool, keys, verifier, hasher, caches),
//! then served the way both services are (`auth_common::service::server`).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::health::Readiness;
use auth_common::service::observability::metrics::Metrics;
use auth_common::service::server::{Server, ServerSettings, SharedData, Threads};
use auth_common::token::verifier::Verifier;

use crate::config::Config;
use crate::keys::{KeyRing, sealing};
use crate::passwords::PasswordHasher;
use crate::profiles::Profiles;
use crate::routes;
use crate::state::AppState;
use crate::throttle::Guards;
use crate::tokens::access::TokenIssuer;
use crate::tokens::clients::ClientRegistry;

/// Bodies here are small JSON or forms; anything bigger is refused with 413.
const BODY_LIMIT: usize = 16 * 1024;

/// Binds `config.common.bind_addr` and builds the app, telling the time by `clock`
/// ([`Clock::system`] in production).
pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Server> {
    let listener = Server::bind(config.common.bind_addr)?;
    build_with_listener(config, listener, clock).await
}

/// Builds the app on a listener bound already (tests bind port 0 first, so they know
/// the address the issuer URL must name).
pub async fn build_with_listener(config: Config, listener: TcpListener, clock: Clock) -> anyhow::Result<Server> {
    auth_common::token::install_crypto_provider();
    let (url, max) = (config.common.database_url.clone(), config.common.database_max_connections);
    let pool = tokio::task::spawn_blocking(move || crate::db::connect(&url, max)).await??;
    let keys = Arc::new(open_keys(&config, &pool, &clock).await?);
    let (hangups, hangup_listener) = auth_common::service::hangup::forward_hangups("signing keys reload");
    let key_reloader = crate::keys::reloader::spawn(keys.clone(), pool.clone(), hangups);
    let verifier = web::Data::new(Verifier::new(config.common.verifier_settings(), keys.clone(), clock.clone()));
    let metrics = web::Data::new(Metrics::new().context("registering metrics")?);
    let passwords = PasswordHasher::new()?;
    passwords.warm_up();
    let memory_releaser = passwords.spawn_releaser();
    let state = web::Data::new(AppState {
        pool,
        issuer: TokenIssuer::new(
            keys.clone(),
            config.common.issuer.clone(),
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
        issuer_url: config.common.issuer.clone(),
        jwks_max_age_secs: config.jwks_max_age_secs,
        refresh_token_ttl_secs: config.refresh_token_ttl_secs,
        refresh_token_idle_secs: config.refresh_token_idle_secs,
        signin_session_secs: config.signin_session_secs,
        guards: Guards::default(),
        trust_forwarded_for: config.trust_forwarded_for,
        clock,
    });
    let sweeper = crate::sweeper::spawn_sweeper(state.pool.clone(), state.clock.clone());
    let shared =
        SharedData { metrics, verifier, readiness: web::Data::new(Readiness::default().database(state.pool.clone())) };
    let settings = ServerSettings {
        name: "users-service",
        cors_allowed_origins: config.common.cors_allowed_origins.clone(),
        body_limit: BODY_LIMIT,
        // Password hashes run on the blocking pool too, up to one per core at a time.
        threads: Threads::beside_pool(state.pool.max_size(), state.passwords.concurrency()),
        drain: Duration::from_secs(config.common.shutdown_drain_secs),
    };
    let server = Server::start(listener, settings, shared, &config, move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone());
        routes::configure(cfg);
    })?;
    Ok(server
        .with_background(key_reloader)
        .with_background(hangup_listener)
        .with_background(memory_releaser)
        .with_background(sweeper))
}

/// The signing keys from the database, opened with the key-encryption key.
async fn open_keys(config: &Config, pool: &auth_common::service::db::DbPool, clock: &Clock) -> anyhow::Result<KeyRing> {
    let app_env = config.common.app_env;
    let kek = sealing::resolve(config.keys_encryption_key.as_ref(), &config.keys_dir, app_env)?;
    let (pool, dir, clock) = (pool.clone(), config.keys_dir.clone(), clock.clone());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().context("no database connection for the signing keys")?;
        KeyRing::open(&mut conn, kek, &dir, app_env, clock)
    })
    .await?
}
