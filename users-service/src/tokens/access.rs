//! Minting access tokens (RFC 9068).

use std::sync::Arc;

use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::observability::metrics::Metrics;
use auth_common::token::claims::AccessClaims;
use auth_common::token::scope::ScopeSet;

use super::TokenResponse;
use crate::keys::KeyRing;

/// Who a token is for.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A person: `sub` is their id, and the token carries their username.
    User {
        /// The user's id.
        id: i64,
        /// The user's name.
        username: &'a str,
    },
    /// A service account: `sub` is its client id.
    Client,
}

/// Signs access tokens with the ring's current signer.
pub struct TokenIssuer {
    keys: Arc<KeyRing>,
    issuer: String,
    ttl_secs: u64,
    metrics: Arc<Metrics>,
    clock: Clock,
}

impl TokenIssuer {
    /// An issuer naming itself `issuer`, minting tokens that live `ttl_secs` from `clock`'s now.
    pub fn new(keys: Arc<KeyRing>, issuer: String, ttl_secs: u64, metrics: Arc<Metrics>, clock: Clock) -> Self {
        Self { keys, issuer, ttl_secs, metrics, clock }
    }

    /// A token for `subject` with `scopes`, requested by `client_id` through `grant`
    /// (`login`, `refresh_token`, `client_credentials`: the metric label). Its audience is
    /// the services its scopes belong to, so a narrower scope also means fewer services.
    pub fn issue(
        &self,
        subject: Subject<'_>,
        scopes: &ScopeSet,
        client_id: &str,
        grant: &str,
    ) -> anyhow::Result<TokenResponse> {
        let now = self.clock.unix_now();
        let ttl = i64::try_from(self.ttl_secs).context("ACCESS_TOKEN_TTL_SECS is too large")?;
        let (sub, username) = match subject {
            Subject::User { id, username } => (id.to_string(), Some(username.to_owned())),
            Subject::Client => (client_id.to_owned(), None),
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub,
            aud: scopes.audiences(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: scopes.to_string(),
            client_id: client_id.to_owned(),
            username,
        };
        let access_token = self.keys.current().signer.sign(&claims).context("signing an access token")?;
        self.metrics.token_issued(grant);
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.ttl_secs,
            scope: claims.scope,
            refresh_token: None,
        })
    }
}
