//! Minting access tokens (RFC 9068) and OpenID Connect ID tokens.

use std::sync::Arc;

use anyhow::Context;
use auth_common::clock::Clock;
use auth_common::service::observability::metrics::Metrics;
use auth_common::token::claims::AccessClaims;
use auth_common::token::scope::ScopeSet;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
            id_token: None,
        })
    }

    /// An OpenID Connect ID token (Core §2) for `user`, signed by the same key as access
    /// tokens, but `typ: JWT` and `aud` = the client, so no resource server takes it for an
    /// access token. `at_hash` binds it to `access_token` (Core §3.1.3.6).
    pub fn id_token(&self, user: &IdTokenUser<'_>, client_id: &str, access_token: &str) -> anyhow::Result<String> {
        let now = self.clock.unix_now();
        let ttl = i64::try_from(self.ttl_secs).context("ACCESS_TOKEN_TTL_SECS is too large")?;
        let digest = auth_common::token::sha256::digest(access_token.as_bytes());
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "sub": user.id.to_string(),
            "aud": client_id,
            "azp": client_id,
            "exp": now + ttl,
            "iat": now,
            "auth_time": user.auth_time,
            "at_hash": URL_SAFE_NO_PAD.encode(&digest[..16]),
        });
        if let Some(nonce) = user.nonce {
            claims["nonce"] = nonce.into();
        }
        if user.scopes.contains("profile") {
            claims["preferred_username"] = user.username.into();
        }
        if user.scopes.contains("email") {
            claims["email"] = user.email.into();
            // Nothing here proves an address belongs to its user.
            claims["email_verified"] = false.into();
        }
        let signer = self.keys.current().signer.clone();
        let mut header = signer.access_token_header();
        header.typ = Some("JWT".to_owned());
        let token = signer.sign_with_header(&header, &claims).context("signing an ID token")?;
        self.metrics.token_issued("id_token");
        Ok(token)
    }
}

/// Who an ID token is about, and what the client may know of them.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenUser<'a> {
    pub id: i64,
    pub username: &'a str,
    pub email: &'a str,
    /// The scopes granted: `profile` adds `preferred_username`, `email` the address.
    pub scopes: &'a ScopeSet,
    /// The nonce of the authorization request, echoed.
    pub nonce: Option<&'a str>,
    /// When the user signed in, in seconds since the epoch.
    pub auth_time: i64,
}
