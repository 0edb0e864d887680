//! `POST /auth/login`: the first-party login. Not the OAuth password grant, which RFC 9700
//! forbids and discovery does not advertise; it answers with the same token response.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::db::blocking;
use auth_common::error::ErrorBody;
use auth_common::scope::{ScopeSet, USER_SCOPES};
use chrono::Utc;
use serde::Deserialize;

use crate::db::users;
use crate::domain::{Password, UserId, Username};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tokens::TokenResponse;
use crate::tokens::access::Subject;
use crate::tokens::clients::LOGIN_CLIENT_ID;
use crate::tokens::refresh;

/// The login body.
/// No `Debug`: it holds a password.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// 200 with tokens, or 401 with one answer for every bad pair: an unknown name costs a
/// hash like a wrong password, so neither the body nor the timing tells them apart.
/// Five failures for one name from one address lock that pair out (429, see `throttle`).
#[utoipa::path(
    post, path = "/auth/login", tag = "tokens",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens; never cached", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Any bad username/password pair: one answer for all", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this account from this address; Retry-After says when to try again", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let client = client_address(&req, state.trust_forwarded_for);
    let throttle_key = throttle_key(&body.username);
    state.throttle.check(&throttle_key, client).map_err(ApiError::TooManyRequests)?;
    let Some(password) = Password::presented(body.password) else {
        state.throttle.record_failure(&throttle_key, client);
        return Err(ApiError::InvalidCredentials);
    };
    let user = match Username::parse(&body.username) {
        Ok(username) => {
            blocking(&state.pool, move |conn| users::find_by_username(conn, &username).map_err(ApiError::from)).await?
        }
        Err(_) => None,
    };
    let verified = state.passwords.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            if let Some(lockout) = state.throttle.record_failure(&throttle_key, client) {
                log::warn!("login locked for {}s after repeated failures from {client}", lockout.as_secs());
            }
            return Err(ApiError::InvalidCredentials);
        }
    };
    state.throttle.record_success(&throttle_key, client);
    let scopes = ScopeSet::parse(USER_SCOPES).map_err(|e| anyhow::anyhow!("USER_SCOPES: {e}"))?;
    let mut response = state.issuer.issue(
        Subject::User { id: user.id, username: &user.username },
        &scopes,
        LOGIN_CLIENT_ID,
        "login",
    )?;
    let ttl = state.refresh_token_ttl_secs;
    let refresh = blocking(&state.pool, move |conn| {
        refresh::start_family(conn, UserId::new(user.id), LOGIN_CLIENT_ID, &scopes, Utc::now().naive_utc(), ttl)
    })
    .await?;
    response.refresh_token = Some(refresh.into_string());
    Ok(response.into_response())
}

/// The address failures are counted against: the TCP peer, or, behind a gateway we run
/// (`TRUST_FORWARDED_FOR`), the last `X-Forwarded-For` entry, which that gateway appended.
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get_all("x-forwarded-for").last())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok());
    forwarded.or_else(|| req.peer_addr().map(|a| a.ip())).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The username as throttling counts it: normalised when valid, else the first 64
/// characters lower-cased (so a long junk name cannot grow the map's keys).
fn throttle_key(raw: &str) -> String {
    match Username::parse(raw) {
        Ok(name) => name.as_str().to_owned(),
        Err(_) => raw.chars().take(64).collect::<String>().to_lowercase(),
    }
}
