//! posts-service's own access token, for calls that have no user behind them (the public
//! feed). Fetched once, reused until shortly before it expires, refreshed by one request
//! at a time, and dropped when users-service refuses it.

use std::time::{Duration, Instant};

use auth_common::clock::Clock;
use auth_common::token::extractor::BearerToken;
use tokio::sync::{Mutex, RwLock};

use crate::config::Secret;
use crate::users_client::{UpstreamError, UsersClient};

/// The scope the public feed needs.
const SCOPE: &str = "users:read";

struct Cached {
    token: BearerToken,
    refresh_at: Instant,
}

/// The cached service token.
pub struct ServiceTokens {
    client_id: String,
    secret: Secret,
    cached: RwLock<Option<Cached>>,
    fetching: Mutex<()>,
    clock: Clock,
}

impl ServiceTokens {
    /// Tokens for the service account `client_id`, renewed when `clock` says so.
    pub fn new(client_id: String, secret: Secret, clock: Clock) -> Self {
        Self { client_id, secret, cached: RwLock::new(None), fetching: Mutex::new(()), clock }
    }

    /// A live token: the cached one, or a new one from users-service.
    pub async fn get(&self, users: &UsersClient) -> Result<BearerToken, UpstreamError> {
        if let Some(token) = self.fresh().await {
            return Ok(token);
        }
        // One fetch at a time; whoever waited behind it uses its result.
        let _flight = self.fetching.lock().await;
        if let Some(token) = self.fresh().await {
            return Ok(token);
        }
        let (token, lifetime) = users.client_credentials(&self.client_id, &self.secret, SCOPE).await?;
        // Renew at 80 % of the lifetime, so a token never expires in flight. The lifetime is
        // clamped first: an absurd `expires_in` must not overflow the clock arithmetic.
        let lifetime = lifetime.clamp(Duration::from_secs(1), Duration::from_secs(86_400));
        let refresh_at = self.clock.instant() + lifetime.mul_f32(0.8);
        *self.cached.write().await = Some(Cached { token: token.clone(), refresh_at });
        Ok(token)
    }

    /// Forgets `token` (users-service refused it) unless a newer one replaced it already.
    pub async fn invalidate(&self, token: &BearerToken) {
        let mut cached = self.cached.write().await;
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
        }
    }

    async fn fresh(&self) -> Option<BearerToken> {
        let now = self.clock.instant();
        self.cached.read().await.as_ref().filter(|c| now < c.refresh_at).map(|c| c.token.clone())
    }
}
