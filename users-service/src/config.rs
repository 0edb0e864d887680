//! The service's settings, read once from the environment at start.
//!
//! The settings both services read are parsed by `auth_common::service::settings`
//! ([`CommonSettings`], with this service's defaults):
//!
//! | variable | default |
//! |---|---|
//! | `BIND_ADDR` | `127.0.0.1:8081` |
//! | `DATABASE_URL` (or `DATABASE_URL_FILE`) | `users.db` (SQLite); a `postgres://` URL selects PostgreSQL |
//! | `DATABASE_MAX_CONNECTIONS` | 10 (PostgreSQL; SQLite uses at most 4) |
//! | `JWT_ISSUER` | `http://127.0.0.1:8081`; no trailing slash, query or fragment (checked here) |
//! | `JWT_AUDIENCE` | `users-service` |
//! | `JWT_LEEWAY_SECS` | 30 |
//! | `JWT_MAX_LIFETIME_SECS` | 3600: longer-lived access tokens are refused |
//! | `JWT_CACHE_ENTRIES` | 1000: verified tokens remembered until their `exp` (0: off) |
//! | `CORS_ALLOWED_ORIGINS` | none: comma-separated browser origins allowed cross-origin |
//! | `APP_ENV` | `development` |
//!
//! The settings of users-service alone, parsed here:
//!
//! | variable | default |
//! |---|---|
//! | `JWT_KEYS_DIR` | `./keys`: in development, where the generated key-encryption key is kept; the key folder of earlier releases, imported when the database has no keys |
//! | `JWT_KEYS_ENCRYPTION_KEY` (or `_FILE`) | none: base64 of 32 random bytes sealing the signing keys in the database; generated into `JWT_KEYS_DIR` in development, required in production |
//! | `JWT_KEYS_ENCRYPTION_KEY_OLD` (or `_FILE`) | none: the key being replaced, read by `keys rekey` only |
//! | `USER_CACHE_ENTRIES` | 10000: public profiles kept in memory for batch lookups (0: off) |
//! | `USER_CACHE_TTL_SECS` | 60: how long a cached profile is served (0: off) |
//! | `ACCESS_TOKEN_TTL_SECS` | 900 |
//! | `REFRESH_TOKEN_TTL_SECS` | 1209600 (14 days): a family's absolute lifetime |
//! | `REFRESH_TOKEN_IDLE_SECS` | 604800 (7 days): a refresh token unused this long is refused |
//! | `SIGNIN_SESSION_SECS` | 1800: how long the sign-in page's browser session spares the password |
//! | `JWKS_MAX_AGE_SECS` | 300 |
//! | `OAUTH_CLIENTS` (or `OAUTH_CLIENTS_FILE`) | none: `id:secret:scope scope;…` |
//! | `TRUST_FORWARDED_FOR` | `false`: login throttling counts the TCP peer's address |

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, bail};
use auth_common::service::env::Env;
use auth_common::service::settings::{CommonDefaults, CommonSettings};

use crate::keys::sealing::Kek;
use crate::tokens::clients::{OAuthClient, registration};

/// Everything users-service needs to start.
#[derive(Clone)]
pub struct Config {
    /// What both services read. Its `issuer` is the `iss` of every token users-service
    /// signs, and the base of the URLs in the discovery documents.
    pub common: CommonSettings,
    /// In development, where the generated key-encryption key is kept; and the key folder
    /// of earlier releases, imported when the database has no keys.
    pub keys_dir: PathBuf,
    /// The key sealing the signing keys' private halves (`None`: development generates one).
    pub keys_encryption_key: Option<Kek>,
    /// The key being replaced, for `keys rekey`.
    pub keys_encryption_key_old: Option<Kek>,
    /// How many public profiles are kept in memory (0: none).
    pub user_cache_entries: usize,
    /// How long a cached profile is served, in seconds (0: the cache is off).
    pub user_cache_ttl_secs: u64,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: u64,
    /// Absolute lifetime of a refresh-token family, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// How long a refresh token may go unused before it is refused, in seconds.
    pub refresh_token_idle_secs: u64,
    /// How long the sign-in page's browser session lasts, in seconds.
    pub signin_session_secs: u64,
    /// `Cache-Control: max-age` of the JWKS, in seconds.
    pub jwks_max_age_secs: u64,
    /// Service accounts for the client-credentials grant.
    pub oauth_clients: Vec<OAuthClient>,
    /// Take the client address for login throttling from the last `X-Forwarded-For`
    /// entry (set by the gateway) instead of the TCP peer. Only behind a proxy you run.
    pub trust_forwarded_for: bool,
}

/// users-service's own defaults for the shared settings.
const DEFAULTS: CommonDefaults = CommonDefaults { port: 8081, database_file: "users.db", audience: "users-service" };

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Client secrets are held only as hashes, but even those stay out of logs.
        f.debug_struct("Config")
            .field("common", &self.common)
            .field("keys_dir", &self.keys_dir)
            .field("oauth_clients", &self.oauth_clients.iter().map(|c| &c.id).collect::<Vec<_>>())
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
        let oauth_clients = match env.secret("OAUTH_CLIENTS")? {
            Some(raw) => registration::parse(&raw, common.app_env).context("OAUTH_CLIENTS")?,
            None => Vec::new(),
        };
        // The issuer is the base of the discovery documents' URLs: `{issuer}/…` must be one.
        let issuer = &common.issuer;
        if issuer.ends_with('/') || issuer.contains(['?', '#']) {
            bail!("JWT_ISSUER: expected a URL with no trailing slash, query or fragment, got {issuer:?}");
        }
        let config = Self {
            keys_dir: env.parsed("JWT_KEYS_DIR", PathBuf::from("./keys"))?,
            keys_encryption_key: kek(env, "JWT_KEYS_ENCRYPTION_KEY")?,
            keys_encryption_key_old: kek(env, "JWT_KEYS_ENCRYPTION_KEY_OLD")?,
            user_cache_entries: env.parsed("USER_CACHE_ENTRIES", 10_000)?,
            user_cache_ttl_secs: env.parsed("USER_CACHE_TTL_SECS", 60)?,
            access_token_ttl_secs: env.parsed("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_secs: env.parsed("REFRESH_TOKEN_TTL_SECS", 1_209_600)?,
            refresh_token_idle_secs: env.parsed("REFRESH_TOKEN_IDLE_SECS", 604_800)?,
            signin_session_secs: env.parsed("SIGNIN_SESSION_SECS", 1800)?,
            jwks_max_age_secs: env.parsed("JWKS_MAX_AGE_SECS", 300)?,
            oauth_clients,
            trust_forwarded_for: env.parsed("TRUST_FORWARDED_FOR", false)?,
            common,
        };
        if config.access_token_ttl_secs == 0
            || config.refresh_token_ttl_secs == 0
            || config.refresh_token_idle_secs == 0
            || config.signin_session_secs == 0
        {
            bail!(
                "ACCESS_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS, REFRESH_TOKEN_IDLE_SECS and SIGNIN_SESSION_SECS: expected a positive number of seconds"
            );
        }
        if config.access_token_ttl_secs > config.common.max_lifetime_secs {
            bail!(
                "ACCESS_TOKEN_TTL_SECS ({}) exceeds JWT_MAX_LIFETIME_SECS ({}): every verifier would refuse the tokens",
                config.access_token_ttl_secs,
                config.common.max_lifetime_secs
            );
        }
        Ok(config)
    }
}

/// A key-encryption key from `key` or `key_FILE`, checked as it is read (the weakness check
/// is production's, in `keys::sealing::resolve`).
fn kek(env: &Env, key: &str) -> anyhow::Result<Option<Kek>> {
    env.secret(key)?.map(|raw| Kek::parse(&raw).with_context(|| key.to_owned())).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let config = Config::from(&Env::from_pairs(&[])).unwrap();
        assert_eq!(config.common.bind_addr.to_string(), "127.0.0.1:8081");
        assert_eq!(config.common.issuer, "http://127.0.0.1:8081");
        assert_eq!(config.common.audience, "users-service");
        assert_eq!((config.access_token_ttl_secs, config.refresh_token_ttl_secs), (900, 1_209_600));
        assert_eq!((config.jwks_max_age_secs, config.common.leeway_secs), (300, 30));
    }

    #[test]
    fn clients_split_at_the_first_two_colons() {
        let config = Config::from(&Env::from_pairs(&[(
            "OAUTH_CLIENTS",
            "posts-service:s3cret:users:read; ci:x:posts:read posts:write",
        )]))
        .unwrap();
        assert_eq!(config.oauth_clients.len(), 2);
        assert_eq!(config.oauth_clients[0].id, "posts-service");
        assert!(config.oauth_clients[0].secret.as_ref().unwrap().matches("s3cret"));
        assert_eq!(config.oauth_clients[1].scopes.to_string(), "posts:read posts:write");
        // A colon in the secret shifts the split: "cr:et:users:read" is not a scope list.
        let err = Config::from(&Env::from_pairs(&[("OAUTH_CLIENTS", "a:s3:cr:et:users:read")])).err().unwrap();
        assert!(format!("{err:#}").contains("OAUTH_CLIENTS"), "{err:#}");
        assert!(!format!("{err:#}").contains("cr:et"), "the error must not quote the secret: {err:#}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (key, value) in [
            ("BIND_ADDR", "nowhere"),
            ("ACCESS_TOKEN_TTL_SECS", "-1"),
            ("ACCESS_TOKEN_TTL_SECS", "7200"),
            ("APP_ENV", "staging"),
            ("JWT_ISSUER", "http://x/"),
            ("OAUTH_CLIENTS", "123:secret:users:read"),
            ("OAUTH_CLIENTS", "a:secret:"),
            ("JWT_KEYS_ENCRYPTION_KEY", "too-short"),
            ("JWT_KEYS_ENCRYPTION_KEY_OLD", "dG9vIHNob3J0"),
        ] {
            let err = Config::from(&Env::from_pairs(&[(key, value)]))
                .err()
                .unwrap_or_else(|| panic!("{key}={value} was accepted"));
            assert!(format!("{err:#}").contains(key), "{key}={value}: {err:#}");
        }
    }

    #[test]
    fn a_bad_key_encryption_key_is_named_but_never_quoted() {
        let value = "bm90IDMyIGJ5dGVzIGxvbmcsIHNvIHJlZnVzZWQ=";
        let err = Config::from(&Env::from_pairs(&[("JWT_KEYS_ENCRYPTION_KEY", value)])).err().unwrap();
        let message = format!("{err:#}");
        assert!(message.contains("JWT_KEYS_ENCRYPTION_KEY") && message.contains("32 bytes"), "{message}");
        assert!(!message.contains(value), "{message}");
    }

    #[test]
    fn production_refuses_weak_and_placeholder_client_secrets() {
        for secret in ["tiny-1", "<posts-client-secret>", "aaaaaaaaaaaaaaaaaaaa"] {
            let clients = format!("svc:{secret}:users:read");
            let err = Config::from(&Env::from_pairs(&[("APP_ENV", "production"), ("OAUTH_CLIENTS", &clients)]))
                .err()
                .unwrap();
            assert!(format!("{err:#}").contains("strong secret"), "{secret}: {err:#}");
            assert!(!format!("{err:#}").contains(secret), "the error must not quote the secret: {err:#}");
            assert!(
                Config::from(&Env::from_pairs(&[("OAUTH_CLIENTS", &clients)])).is_ok(),
                "development accepts {secret}"
            );
        }
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let config = Config::from(&Env::from_pairs(&[("OAUTH_CLIENTS", "svc:topsecretvalue123:users:read")])).unwrap();
        assert!(!format!("{config:?}").contains("topsecret"));
    }
}
