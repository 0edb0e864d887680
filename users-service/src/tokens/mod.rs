//! Issuing tokens: access tokens ([`access`]), refresh tokens ([`refresh`]), the service
//! accounts of the client-credentials grant ([`clients`]), and the token response.

pub mod access;
pub mod authorization_code;
pub mod clients;
pub mod oauth_request;
pub mod refresh;

use std::fmt;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};

/// The token response (RFC 6749 §5.1). Its `Debug` hides the tokens.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The signed access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scopes.
    pub scope: String,
    /// For users only: the refresh token to use next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// With scope `openid` at the authorization code grant: the OpenID Connect ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl TokenResponse {
    /// The response, never cached (RFC 6749 §5.1).
    pub fn into_response(self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
            .json(self)
    }
}
