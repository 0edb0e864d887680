//! `POST /auth/login`: the first-party login. Not the OAuth password grant, which RFC 9700
//! forbids and discovery does not advertise; it answers with the same token response.

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::{QueryContext, blocking};
use auth_common::service::errors::ErrorBody;
use auth_common::token::scope::{ScopeSet, USER_SCOPES};
use serde::Deserialize;

use crate::db::models::UserRow;
use crate::db::users;
use crate::domain::{Password, UserId, Username};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::throttle::{Credential, client_address};
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
/// Five failures for one name from one address lock that pair out, twenty across names
/// lock the address (429 with `Retry-After`, see `throttle`), on every replica: the counts
/// are in the database, and a database that cannot be read refuses the attempt (503).
#[utoipa::path(
    post, path = "/auth/login", tag = "tokens",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens; never cached", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Any bad username/password pair: one answer for all", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this account, or across accounts, from this address; Retry-After says when to try again", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        (status = 503, description = "The database (and with it the failure counts) is unavailable; retry shortly", body = ErrorBody),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let client = client_address(&req, state.trust_forwarded_for);
    let user = verify_user(&state, &body.username, body.password, client).await?;
    let scopes = ScopeSet::parse(USER_SCOPES).map_err(|e| anyhow::anyhow!("USER_SCOPES: {e}"))?;
    let mut response = state.issuer.issue(
        Subject::User { id: user.id, username: &user.username },
        &scopes,
        LOGIN_CLIENT_ID,
        "login",
    )?;
    let (ttl, now) = (state.refresh_token_ttl_secs, state.clock.now().naive_utc());
    let refresh = blocking(&state.pool, move |conn| {
        refresh::start_family(conn, UserId::new(user.id), LOGIN_CLIENT_ID, &scopes, now, ttl)
    })
    .await?;
    response.refresh_token = Some(refresh.into_string());
    Ok(response.into_response())
}

/// The user `username` if `password` is theirs, under the lockout rules (`throttle`): the
/// check of `/auth/login` and of the sign-in page alike. An unknown name costs a hash like
/// a wrong password.
pub async fn verify_user(state: &AppState, username: &str, password: String, client: IpAddr) -> ApiResult<UserRow> {
    let attempt = state.guards.check(&state.pool, &state.clock, Credential::Login, username, client).await?;
    let Some(password) = Password::presented(password) else {
        state.guards.failed(&state.pool, &state.clock, attempt).await;
        return Err(ApiError::InvalidCredentials);
    };
    let user = match Username::parse(username) {
        Ok(username) => {
            blocking(&state.pool, move |conn| {
                users::find_by_username(conn, &username).context("loading a user by username").map_err(ApiError::from)
            })
            .await?
        }
        Err(_) => None,
    };
    let verified = state.passwords.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if verified => {
            state.guards.succeeded(&state.pool, attempt).await;
            Ok(user)
        }
        _ => {
            state.guards.failed(&state.pool, &state.clock, attempt).await;
            Err(ApiError::InvalidCredentials)
        }
    }
}
