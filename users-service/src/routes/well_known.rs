//! Public key material and discovery: the JWKS, the PEM of the signing key, and the
//! RFC 8414 / OpenID discovery documents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use auth_common::scope::USER_SCOPES;
use serde_json::json;

use crate::state::AppState;

/// `GET /.well-known/jwks.json`: every key still trusted (pending, active, retiring),
/// cacheable for `JWKS_MAX_AGE_SECS`.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .json(&keys.jwks)
}

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    let issuer = &state.issuer_url;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "grant_types_supported": ["refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": USER_SCOPES.split(' ').collect::<Vec<_>>(),
            "response_types_supported": [],
            "subject_types_supported": ["public"],
            "access_token_signing_alg_values_supported": ["RS256"],
        }))
}

/// `GET /public-key`: the signing key's public half as SPKI PEM.
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file")))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .body(keys.signer.public_pem().to_owned())
}
