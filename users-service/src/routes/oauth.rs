//! The OAuth endpoints: `POST /oauth/token` (RFC 6749: `authorization_code` with PKCE,
//! `refresh_token` and `client_credentials`) and `POST /oauth/revoke` (RFC 7009).

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::blocking;
use auth_common::service::errors::ErrorBody;
use auth_common::token::scope::ScopeSet;

use crate::error::{ApiError, ApiResult, OAuthError};
use crate::state::AppState;
use crate::throttle::{Credential, client_address};
use crate::tokens::TokenResponse;
use crate::tokens::access::{IdTokenUser, Subject};
use crate::tokens::authorization_code::{self, Redemption};
use crate::tokens::clients::{LOGIN_CLIENT_ID, OAuthClient};
use crate::tokens::oauth_request::{ClientCredentials, FormParams};
use crate::tokens::refresh::{self, RefreshRequest};

/// The form of `POST /oauth/token` (RFC 6749), for the documentation: the handler reads
/// the raw pairs so it can refuse a repeated parameter.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    #[schema(pattern = "^(authorization_code|refresh_token|client_credentials)$")]
    grant_type: String,
    /// With `authorization_code`: the code from the redirect.
    code: Option<String>,
    /// With `authorization_code`: the redirect URI the code was issued for.
    redirect_uri: Option<String>,
    /// With `authorization_code`: the PKCE verifier whose S256 hash was the challenge.
    code_verifier: Option<String>,
    /// With `refresh_token`: the refresh token to spend.
    refresh_token: Option<String>,
    /// Optional: a subset of the scopes granted (space-separated).
    scope: Option<String>,
    /// `client_secret_post`, or `login` for a user's refresh.
    client_id: Option<String>,
    /// `client_secret_post` (or use HTTP Basic, not both).
    client_secret: Option<String>,
}

/// The form of `POST /oauth/revoke` (RFC 7009), for the documentation.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RevokeForm {
    /// The refresh token to revoke, with its whole family.
    #[schema(min_length = 1)]
    token: String,
    /// Ignored: any token is looked up as a refresh token.
    token_type_hint: Option<String>,
}

/// `POST /oauth/token`.
#[utoipa::path(
    post, path = "/oauth/token", tag = "tokens",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Tokens; never cached. No refresh token for client credentials.", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2: invalid_request, invalid_grant, invalid_scope, unauthorized_client, unsupported_grant_type", body = ErrorBody),
        (status = 401, description = "invalid_client, with WWW-Authenticate: Basic", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 429, description = "Repeated client authentication failures from this address; Retry-After says when to try again", body = ErrorBody),
        (status = 503, description = "The database (and with it the failure counts) is unavailable; retry shortly", body = ErrorBody),
    )
)]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> ApiResult<HttpResponse> {
    let params = FormParams::new(form.into_inner())?;
    let credentials = ClientCredentials::read(req.headers(), &params)?;
    let address = client_address(&req, state.trust_forwarded_for);
    match params.get("grant_type") {
        None => Err(OAuthError::InvalidRequest("grant_type is required").into()),
        Some("authorization_code") => code_grant(&state, &params, credentials, address).await,
        Some("refresh_token") => refresh_grant(&state, &params, credentials, address).await,
        Some("client_credentials") => client_credentials_grant(&state, &params, credentials, address).await,
        Some(_) => Err(OAuthError::UnsupportedGrantType.into()),
    }
}

/// Trades a refresh token for a new access token and its successor refresh token.
async fn refresh_grant(
    state: &AppState,
    params: &FormParams,
    credentials: ClientCredentials,
    address: IpAddr,
) -> ApiResult<HttpResponse> {
    let presented =
        params.get("refresh_token").ok_or(OAuthError::InvalidRequest("refresh_token is required"))?.to_owned();
    let client_id = match credentials {
        ClientCredentials::None => None,
        // The login client and registered public clients (PKCE apps) have no secret;
        // every other client must prove who it is.
        ClientCredentials::Public(id) if is_public(state, &id) => Some(id),
        ClientCredentials::Public(id) => return Err(client_failed(state, &id, address).await),
        ClientCredentials::Secret { id, secret } => Some(authenticate(state, &id, &secret, address).await?.id.clone()),
    };
    let scope = requested_scope(params)?;
    let request = RefreshRequest { client_id, scope, max_idle_secs: state.refresh_token_idle_secs };
    let now = state.clock.now().naive_utc();
    // Without client authentication, only a secret-less client's token (RFC 6749 §6).
    let clients = state.clients.clone();
    let rotated = blocking(&state.pool, move |conn| {
        refresh::rotate(conn, &presented, &request, now, |id| clients.has_secret(id))
    })
    .await?;
    let subject = Subject::User { id: rotated.user.id, username: &rotated.user.username };
    let mut response = state.issuer.issue(subject, &rotated.scopes, &rotated.client_id, "refresh_token")?;
    response.refresh_token = Some(rotated.refresh_token.into_string());
    Ok(response.into_response())
}

/// Whether `id` is a client with no secret: the first-party login, or a registered app.
fn is_public(state: &AppState, id: &str) -> bool {
    id == LOGIN_CLIENT_ID || state.clients.app(id).is_some_and(|c| c.secret.is_none())
}

/// Trades an authorization code (with its PKCE verifier) for tokens (RFC 6749 §4.1.3).
async fn code_grant(
    state: &AppState,
    params: &FormParams,
    credentials: ClientCredentials,
    address: IpAddr,
) -> ApiResult<HttpResponse> {
    let client_id = match credentials {
        ClientCredentials::None => return Err(OAuthError::InvalidRequest("client_id is required").into()),
        ClientCredentials::Public(id) if id != LOGIN_CLIENT_ID && is_public(state, &id) => id,
        ClientCredentials::Public(id) => return Err(client_failed(state, &id, address).await),
        ClientCredentials::Secret { id, secret } => authenticate(state, &id, &secret, address).await?.id.clone(),
    };
    let code = params.get("code").ok_or(OAuthError::InvalidRequest("code is required"))?.to_owned();
    let redirect_uri = params.get("redirect_uri").map(str::to_owned);
    let verifier = params.get("code_verifier").map(str::to_owned);
    let (now, ttl) = (state.clock.now().naive_utc(), state.refresh_token_ttl_secs);
    let owner = client_id.clone();
    let redeemed = blocking(&state.pool, move |conn| {
        let presented = Redemption {
            code: &code,
            client_id: &owner,
            redirect_uri: redirect_uri.as_deref(),
            verifier: verifier.as_deref(),
        };
        authorization_code::redeem(conn, &presented, now, ttl)
    })
    .await?;
    let user = &redeemed.user;
    let subject = Subject::User { id: user.id, username: &user.username };
    let mut response = state.issuer.issue(subject, &redeemed.scopes, &client_id, "authorization_code")?;
    if redeemed.scopes.contains("openid") {
        let about = IdTokenUser {
            id: user.id,
            username: &user.username,
            email: &user.email,
            scopes: &redeemed.scopes,
            nonce: redeemed.nonce.as_deref(),
            auth_time: redeemed.auth_time.and_utc().timestamp(),
        };
        response.id_token = Some(state.issuer.id_token(&about, &client_id, &response.access_token)?);
    }
    response.refresh_token = Some(redeemed.refresh_token.into_string());
    Ok(response.into_response())
}

/// A service account's token (RFC 6749 §4.4): no refresh token, scopes within its grant.
async fn client_credentials_grant(
    state: &AppState,
    params: &FormParams,
    credentials: ClientCredentials,
    address: IpAddr,
) -> ApiResult<HttpResponse> {
    let (id, secret) = match credentials {
        ClientCredentials::Secret { id, secret } => (id, secret),
        ClientCredentials::Public(id) => return Err(client_failed(state, &id, address).await),
        ClientCredentials::None => return Err(OAuthError::InvalidClient.into()),
    };
    let client = authenticate(state, &id, &secret, address).await?;
    let scopes = match requested_scope(params)? {
        None => client.scopes.clone(),
        Some(asked) if asked.is_subset(&client.scopes) && !asked.is_empty() => asked,
        Some(_) => {
            return Err(OAuthError::InvalidScope("the scope asked for exceeds what this client is granted").into());
        }
    };
    let response = state.issuer.issue(Subject::Client, &scopes, &client.id, "client_credentials")?;
    Ok(response.into_response())
}

/// Authenticates a confidential client. Failures are counted per (client id, address) and
/// per address: repeated ones are answered 429 before any secret is compared (and 503
/// when the counts cannot be read).
async fn authenticate<'a>(state: &'a AppState, id: &str, secret: &str, address: IpAddr) -> ApiResult<&'a OAuthClient> {
    let attempt = state.guards.check(&state.pool, &state.clock, Credential::Client, id, address).await?;
    match state.clients.authenticate(id, secret) {
        Ok(client) => {
            state.guards.succeeded(&state.pool, attempt).await;
            Ok(client)
        }
        Err(e) => {
            state.guards.failed(&state.pool, &state.clock, attempt).await;
            Err(e.into())
        }
    }
}

/// A client that must authenticate and did not (no secret): counted like a wrong secret.
async fn client_failed(state: &AppState, id: &str, address: IpAddr) -> ApiError {
    match state.guards.check(&state.pool, &state.clock, Credential::Client, id, address).await {
        Err(refused) => refused,
        Ok(attempt) => {
            state.guards.failed(&state.pool, &state.clock, attempt).await;
            OAuthError::InvalidClient.into()
        }
    }
}

fn requested_scope(params: &FormParams) -> Result<Option<ScopeSet>, OAuthError> {
    params
        .get("scope")
        .map(|raw| {
            ScopeSet::parse(raw).map_err(|_| {
                OAuthError::InvalidScope("scope must be scopes like `posts:read` separated by single spaces")
            })
        })
        .transpose()
}

/// `POST /oauth/revoke`: revokes a refresh token and its family. Always 200 for a
/// well-formed request, whether or not the token existed (RFC 7009 §2.2), so the endpoint
/// tells nobody which tokens exist. Access tokens are self-contained JWTs and cannot be
/// revoked: they lapse at `exp`, at most `ACCESS_TOKEN_TTL_SECS` later.
#[utoipa::path(
    post, path = "/oauth/revoke", tag = "tokens",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke: the answer is the same"),
        (status = 400, description = "token missing", body = ErrorBody),
        (status = 401, description = "Client credentials sent and wrong", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 429, description = "Over 30 revocations a minute, or repeated client failures, from this address; Retry-After says when to try again", body = ErrorBody),
    )
)]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> ApiResult<HttpResponse> {
    let address = client_address(&req, state.trust_forwarded_for);
    state.guards.check_revocation(address).map_err(ApiError::TooManyRequests)?;
    let params = FormParams::new(form.into_inner())?;
    let client_id = match ClientCredentials::read(req.headers(), &params)? {
        ClientCredentials::None => None,
        // A confidential client revokes only after proving who it is (RFC 7009 §2.1).
        ClientCredentials::Public(id) if is_public(&state, &id) => Some(id),
        ClientCredentials::Public(id) => return Err(client_failed(&state, &id, address).await),
        ClientCredentials::Secret { id, secret } => Some(authenticate(&state, &id, &secret, address).await?.id.clone()),
    };
    let token = params.get("token").ok_or(OAuthError::InvalidRequest("token is required"))?.to_owned();
    let now = state.clock.now().naive_utc();
    // Unnamed, only a secret-less client's token: a confidential client's is not revoked
    // by whoever holds it (answered 200 all the same, as for any token not revoked).
    let clients = state.clients.clone();
    blocking(&state.pool, move |conn| {
        refresh::revoke(conn, &token, client_id.as_deref(), now, |id| clients.has_secret(id))
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}
