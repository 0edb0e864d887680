//! What every handler shares, built once in `startup`.

use std::sync::Arc;

use auth_common::clock::Clock;
use auth_common::service::db::DbPool;

use crate::keys::KeyRing;
use crate::passwords::PasswordHasher;
use crate::profiles::Profiles;
use crate::throttle::Guards;
use crate::tokens::access::TokenIssuer;
use crate::tokens::clients::ClientRegistry;

/// The application state, registered as `web::Data<AppState>`.
pub struct AppState {
    /// The database.
    pub pool: DbPool,
    /// The signing keys.
    pub keys: Arc<KeyRing>,
    /// Mints access tokens.
    pub issuer: TokenIssuer,
    /// The service accounts.
    pub clients: ClientRegistry,
    /// Public profiles remembered for lookups.
    pub profiles: Profiles,
    /// Hashes and checks passwords.
    pub passwords: PasswordHasher,
    /// The public base URL, `iss` of every token.
    pub issuer_url: String,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age_secs: u64,
    /// Lifetime of a refresh-token family.
    pub refresh_token_ttl_secs: u64,
    /// How long a refresh token may go unused.
    pub refresh_token_idle_secs: u64,
    /// How long a sign-in page session lasts.
    pub signin_session_secs: u64,
    /// Failure counts and rate limits for credentials.
    pub guards: Guards,
    /// Whether the client address comes from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The time: refresh-token lifetimes and idle limits, record timestamps.
    pub clock: Clock,
}
