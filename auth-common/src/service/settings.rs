//! The settings both services read, parsed once here so their names and defaults cannot
//! drift apart. Each service's `config.rs` embeds a [`CommonSettings`] and parses only its
//! own keys; where the defaults differ by service (its port, its SQLite file, its
//! audience), the service passes them in as [`CommonDefaults`].
//!
//! | variable | default |
//! |---|---|
//! | `BIND_ADDR` | `127.0.0.1:<the service's port>` |
//! | `DATABASE_URL` (or `DATABASE_URL_FILE`) | the service's SQLite file; a `postgres://` URL selects PostgreSQL |
//! | `DATABASE_MAX_CONNECTIONS` | 10 (PostgreSQL; SQLite uses at most 4) |
//! | `JWT_ISSUER` | `http://127.0.0.1:8081` |
//! | `JWT_AUDIENCE` | the service's name |
//! | `SHUTDOWN_DRAIN_SECS` | 0: on `SIGTERM`, how long readiness answers 503 while requests are still served, before the graceful stop |
//! | `JWT_LEEWAY_SECS` | 30 |
//! | `JWT_MAX_LIFETIME_SECS` | 3600: longer-lived access tokens are refused |
//! | `JWT_CACHE_ENTRIES` | 1000: verified tokens remembered until their `exp` (0: off) |
//! | `CORS_ALLOWED_ORIGINS` | none: comma-separated browser origins allowed cross-origin |
//! | `APP_ENV` | `development` |

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use crate::service::cors::parse_origins;
use crate::service::db::Backend;
use crate::service::env::{AppEnv, Env};
use crate::token::verifier::VerifierSettings;

/// The defaults that differ between the services.
#[derive(Debug, Clone, Copy)]
pub struct CommonDefaults {
    /// The port of the default `BIND_ADDR` (on 127.0.0.1).
    pub port: u16,
    /// The default `DATABASE_URL`: a SQLite file.
    pub database_file: &'static str,
    /// The default `JWT_AUDIENCE`: the service's own name.
    pub audience: &'static str,
}

/// What both services read from the environment.
#[derive(Clone)]
pub struct CommonSettings {
    /// Where to listen; port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// SQLite path or `postgres://` URL.
    pub database_url: String,
    /// PostgreSQL pool size.
    pub database_max_connections: u32,
    /// The `iss` users-service signs and every verifier accepts: its public URL.
    pub issuer: String,
    /// This service's own audience: a token is accepted only if its `aud` holds it.
    pub audience: String,
    /// Clock skew allowed when verifying, in seconds.
    pub leeway_secs: u64,
    /// The longest access-token lifetime (`exp − iat`) accepted, in seconds.
    pub max_lifetime_secs: u64,
    /// How many verified tokens the verifier remembers (0: none).
    pub jwt_cache_entries: usize,
    /// Browser origins allowed to call this API cross-origin (none by default).
    pub cors_allowed_origins: Vec<String>,
    /// Development or production.
    pub app_env: AppEnv,
    /// Seconds between `SIGTERM` and the stop, during which `/health/ready` answers 503
    /// while requests are still served, so a load balancer takes the instance out first.
    pub shutdown_drain_secs: u64,
}

impl fmt::Debug for CommonSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The database URL may hold a password: show only which backend it selects.
        f.debug_struct("CommonSettings")
            .field("bind_addr", &self.bind_addr)
            .field("database", &Backend::of(&self.database_url))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("app_env", &self.app_env)
            .finish_non_exhaustive()
    }
}

impl CommonSettings {
    /// Reads the shared settings from `env`, with the service's own `defaults`.
    pub fn from_env(env: &Env, defaults: CommonDefaults) -> anyhow::Result<Self> {
        Ok(Self {
            bind_addr: env.parsed("BIND_ADDR", SocketAddr::from((Ipv4Addr::LOCALHOST, defaults.port)))?,
            database_url: env.secret("DATABASE_URL")?.unwrap_or_else(|| defaults.database_file.to_owned()),
            database_max_connections: env.parsed("DATABASE_MAX_CONNECTIONS", 10)?,
            issuer: env.string("JWT_ISSUER", "http://127.0.0.1:8081"),
            audience: env.string("JWT_AUDIENCE", defaults.audience),
            leeway_secs: env.parsed("JWT_LEEWAY_SECS", 30)?,
            max_lifetime_secs: env.parsed("JWT_MAX_LIFETIME_SECS", 3600)?,
            jwt_cache_entries: env.parsed("JWT_CACHE_ENTRIES", 1000)?,
            cors_allowed_origins: parse_origins(&env.string("CORS_ALLOWED_ORIGINS", ""))
                .map_err(|e| anyhow::anyhow!("CORS_ALLOWED_ORIGINS: {e}"))?,
            app_env: env.parsed("APP_ENV", AppEnv::Development)?,
            shutdown_drain_secs: env.parsed("SHUTDOWN_DRAIN_SECS", 0)?,
        })
    }

    /// What this service's verifier accepts: the issuer, its audience, the leeway, the
    /// longest lifetime and the size of its cache of verified tokens.
    pub fn verifier_settings(&self) -> VerifierSettings {
        VerifierSettings {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            leeway_secs: self.leeway_secs,
            max_lifetime_secs: self.max_lifetime_secs,
            cache_entries: self.jwt_cache_entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: CommonDefaults = CommonDefaults { port: 9999, database_file: "svc.db", audience: "svc-service" };

    #[test]
    fn defaults_come_from_the_contract_and_the_service() {
        let settings = CommonSettings::from_env(&Env::from_pairs(&[]), DEFAULTS).unwrap();
        assert_eq!(settings.bind_addr.to_string(), "127.0.0.1:9999");
        assert_eq!((settings.database_url.as_str(), settings.database_max_connections), ("svc.db", 10));
        assert_eq!((settings.issuer.as_str(), settings.audience.as_str()), ("http://127.0.0.1:8081", "svc-service"));
        assert_eq!((settings.leeway_secs, settings.max_lifetime_secs, settings.jwt_cache_entries), (30, 3600, 1000));
        assert!(settings.cors_allowed_origins.is_empty());
        assert_eq!(settings.app_env, AppEnv::Development);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (key, value) in [
            ("BIND_ADDR", "nowhere"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("JWT_LEEWAY_SECS", "-1"),
            ("JWT_MAX_LIFETIME_SECS", "1h"),
            ("JWT_CACHE_ENTRIES", "lots"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("APP_ENV", "staging"),
        ] {
            let err = CommonSettings::from_env(&Env::from_pairs(&[(key, value)]), DEFAULTS)
                .err()
                .unwrap_or_else(|| panic!("{key}={value} was accepted"));
            assert!(format!("{err:#}").contains(key), "{key}={value}: {err:#}");
        }
    }

    #[test]
    fn the_verifier_gets_what_was_read() {
        let settings = CommonSettings::from_env(
            &Env::from_pairs(&[("JWT_LEEWAY_SECS", "5"), ("JWT_CACHE_ENTRIES", "0")]),
            DEFAULTS,
        )
        .unwrap();
        let verifier = settings.verifier_settings();
        assert_eq!((verifier.audience.as_str(), verifier.leeway_secs, verifier.cache_entries), ("svc-service", 5, 0));
    }

    #[test]
    fn debug_output_shows_the_backend_not_the_database_url() {
        let settings =
            CommonSettings::from_env(&Env::from_pairs(&[("DATABASE_URL", "postgres://u:db-password@h/d")]), DEFAULTS)
                .unwrap();
        let shown = format!("{settings:?}");
        assert!(shown.contains("Postgres") && !shown.contains("db-password"), "{shown}");
    }
}
