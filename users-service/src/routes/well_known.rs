//! Public key material and discovery: the JWKS, the PEM of the signing key, and the
//! RFC 8414 / OpenID discovery documents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use auth_common::token::scope::{OIDC_SCOPES, USER_SCOPES};
use serde_json::json;

use crate::state::AppState;

/// A public key as the JWKS publishes it (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PublicJwk {
    /// `RSA`.
    kty: String,
    /// `sig`.
    #[schema(rename = "use")]
    use_: String,
    /// `RS256`.
    alg: String,
    /// The RFC 7638 thumbprint.
    kid: String,
    /// Modulus, base64url.
    n: String,
    /// Exponent, base64url.
    e: String,
}

/// The JWKS (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Jwks {
    keys: Vec<PublicJwk>,
}

/// The discovery document (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Discovery {
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
    revocation_endpoint: String,
    grant_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    scopes_supported: Vec<String>,
}

/// `GET /.well-known/jwks.json`: every key still trusted (pending, active, retiring),
/// cacheable for `JWKS_MAX_AGE_SECS`.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Every published key; Cache-Control: public, max-age=JWKS_MAX_AGE_SECS", body = Jwks))
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .json(&keys.jwks)
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server", tag = "keys",
    responses((status = 200, description = "Authorization server metadata", body = Discovery))
)]
pub async fn authorization_server(state: web::Data<AppState>) -> HttpResponse {
    discovery(&state)
}

/// `GET /.well-known/openid-configuration`: the same document, where OpenID clients look.
#[utoipa::path(
    get, path = "/.well-known/openid-configuration", tag = "keys",
    responses((status = 200, description = "Authorization server metadata", body = Discovery))
)]
pub async fn openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    discovery(&state)
}

fn discovery(state: &AppState) -> HttpResponse {
    let issuer = &state.issuer_url;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "response_modes_supported": ["query"],
            // OpenID Connect Discovery §3: omitted, request_uri_parameter_supported means true.
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false,
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "end_session_endpoint": format!("{issuer}/oauth/logout"),
            "scopes_supported": USER_SCOPES.split(' ').chain(OIDC_SCOPES).collect::<Vec<_>>(),
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash",
                "preferred_username", "email", "email_verified"
            ],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "access_token_signing_alg_values_supported": ["RS256"],
        }))
}

/// `GET /public-key`: the signing key's public half as SPKI PEM.
#[utoipa::path(
    get, path = "/public-key", tag = "keys",
    responses((status = 200, description = "The signing key as SPKI PEM", content_type = "application/x-pem-file", body = String))
)]
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file")))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", state.jwks_max_age_secs)))
        .body(keys.signer.public_pem().to_owned())
}
