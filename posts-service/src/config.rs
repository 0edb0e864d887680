//! The service's settings, read once from the environment at start.
//!
//! The settings both services read are parsed by `auth_common::service::settings`
//! ([`CommonSettings`], with this service's defaults):
//!
//! | variable | default |
//! |---|---|
//! | `BIND_ADDR` | `127.0.0.1:8082` |
//! | `DATABASE_URL` (or `DATABASE_URL_FILE`) | `posts.db` (SQLite); a `postgres://` URL selects PostgreSQL |
//! | `DATABASE_MAX_CONNECTIONS` | 10 (PostgreSQL; SQLite uses at most 4) |
//! | `JWT_ISSUER` | `http://127.0.0.1:8081`: users-service's public URL, the only accepted `iss` |
//! | `JWT_AUDIENCE` | `posts-service` |
//! | `JWT_LEEWAY_SECS` | 30 |
//! | `JWT_MAX_LIFETIME_SECS` | 3600: longer-lived access tokens are refused |
//! | `JWT_CACHE_ENTRIES` | 1000: verified tokens remembered until their `exp` (0: off) |
//! | `CORS_ALLOWED_ORIGINS` | none: comma-separated browser origins allowed cross-origin |
//! | `APP_ENV` | `development` |
//!
//! The settings of posts-service alone, parsed here:
//!
//! | variable | default |
//! |---|---|
//! | `USERS_SERVICE_URL` | `http://127.0.0.1:8081` |
//! | `JWKS_URL` | `$USERS_SERVICE_URL/.well-known/jwks.json` |
//! | `JWKS_MIN_REFETCH_SECS` | 10 |
//! | `USERS_TIMEOUT_MS` | 2000 |
//! | `POSTS_CLIENT_ID`, `POSTS_CLIENT_SECRET` (or `POSTS_CLIENT_SECRET_FILE`) | `posts-service`, none |

use std::fmt;
use std::time::Duration;

use anyhow::bail;
use auth_common::service::env::{AppEnv, Env, weak_secret};
use auth_common::service::settings::{CommonDefaults, CommonSettings};

/// A secret that does not print.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, to send to the token endpoint only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "Secret(unset)" } else { "Secret([redacted])" })
    }
}

/// Everything posts-service needs to start.
#[derive(Clone)]
pub struct Config {
    /// What both services read.
    pub common: CommonSettings,
    /// users-service's internal base URL (for `/users` and `/oauth/token`).
    pub users_service_url: String,
    /// Where the JWKS is fetched from.
    pub jwks_url: String,
    /// Least time between two JWKS fetches caused by unknown `kid`s.
    pub jwks_min_refetch: Duration,
    /// Whole budget of one call to users-service, connect included.
    pub users_timeout: Duration,
    /// posts-service's own service account.
    pub client_id: String,
    /// Its secret; without one, the public feed answers without authors.
    pub client_secret: Secret,
}

/// posts-service's own defaults for the shared settings.
const DEFAULTS: CommonDefaults = CommonDefaults { port: 8082, database_file: "posts.db", audience: "posts-service" };

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("common", &self.common)
            .field("users_service_url", &self.users_service_url)
            .field("jwks_url", &self.jwks_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from(&Env::from_process())
    }

    /// Reads any [`Env`].
    pub fn from(env: &Env) -> anyhow::Result<Self> {
        let common = CommonSettings::from_env(env, DEFAULTS)?;
        let users_service_url =
            env.string("USERS_SERVICE_URL", "http://127.0.0.1:8081").trim_end_matches('/').to_owned();
        if !users_service_url.starts_with("http://") && !users_service_url.starts_with("https://") {
            bail!("USERS_SERVICE_URL: expected an http:// or https:// URL, got {users_service_url:?}");
        }
        let jwks_url = env.string("JWKS_URL", &format!("{users_service_url}/.well-known/jwks.json"));
        let client_secret = Secret::new(env.secret("POSTS_CLIENT_SECRET")?.unwrap_or_default());
        if let Some(why) = weak_secret(client_secret.expose()).filter(|_| common.app_env == AppEnv::Production) {
            bail!("POSTS_CLIENT_SECRET: production needs the service account's strong secret, and {why}");
        }
        let timeout_ms: u64 = env.parsed("USERS_TIMEOUT_MS", 2000)?;
        if timeout_ms == 0 {
            bail!("USERS_TIMEOUT_MS: expected a positive number of milliseconds");
        }
        Ok(Self {
            common,
            users_service_url,
            jwks_url,
            jwks_min_refetch: Duration::from_secs(env.parsed("JWKS_MIN_REFETCH_SECS", 10)?),
            users_timeout: Duration::from_millis(timeout_ms),
            client_id: env.string("POSTS_CLIENT_ID", "posts-service"),
            client_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract_and_jwks_url_follows_users_service_url() {
        let config = Config::from(&Env::from_pairs(&[("USERS_SERVICE_URL", "http://users:8081/")])).unwrap();
        assert_eq!(config.common.bind_addr.to_string(), "127.0.0.1:8082");
        assert_eq!(config.common.audience, "posts-service");
        assert_eq!(config.jwks_url, "http://users:8081/.well-known/jwks.json");
        assert_eq!((config.jwks_min_refetch.as_secs(), config.users_timeout.as_millis()), (10, 2000));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (key, value) in [
            ("USERS_TIMEOUT_MS", "fast"),
            ("USERS_TIMEOUT_MS", "0"),
            ("USERS_SERVICE_URL", "users:8081"),
            ("JWKS_MIN_REFETCH_SECS", "-1"),
        ] {
            let err = Config::from(&Env::from_pairs(&[(key, value)]))
                .err()
                .unwrap_or_else(|| panic!("{key}={value} accepted"));
            assert!(format!("{err:#}").contains(key), "{key}: {err:#}");
        }
    }

    #[test]
    fn production_needs_a_client_secret_and_debug_hides_it() {
        assert!(Config::from(&Env::from_pairs(&[("APP_ENV", "production")])).is_err());
        for placeholder in ["<secret>", "changeme-changeme-changeme"] {
            let err =
                Config::from(&Env::from_pairs(&[("APP_ENV", "production"), ("POSTS_CLIENT_SECRET", placeholder)]));
            assert!(format!("{:#}", err.err().unwrap()).contains("POSTS_CLIENT_SECRET"), "{placeholder} was accepted");
        }
        let config = Config::from(&Env::from_pairs(&[
            ("POSTS_CLIENT_SECRET", "a-long-enough-secret"),
            ("DATABASE_URL", "postgres://posts:db-password@db/posts"),
        ]))
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("a-long-enough-secret") && !shown.contains("db-password"), "{shown}");
    }
}
