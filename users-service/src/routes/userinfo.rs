//! `GET` and `POST /userinfo` (OpenID Connect Core §5.3, which asks for both): the
//! signed-in user's claims, for an access token granted `openid`, holding what its other
//! scopes allow. The token comes in the `Authorization` header either way.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use auth_common::service::errors::ErrorBody;
use auth_common::token::extractor::Caller;
use serde_json::json;

use crate::error::ApiResult;
use crate::state::AppState;

/// The claims `/userinfo` answers with.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UserInfo {
    /// The user's id, as in the ID token.
    sub: String,
    /// With scope `profile`: the username.
    preferred_username: Option<String>,
    /// With scope `email`.
    email: Option<String>,
    /// With scope `email`: always false (no address is verified here).
    email_verified: Option<bool>,
}

/// `GET /userinfo` (scope `openid`).
#[utoipa::path(
    get, path = "/userinfo", tag = "sign-in",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "The user's claims; never cached", body = UserInfo),
        (status = 401, description = "No token, or a token refused", body = ErrorBody),
        (status = 403, description = "A token without scope openid, or a service account's", body = ErrorBody),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn userinfo(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    claims(&state, &caller).await
}

/// `POST /userinfo`: the same.
#[utoipa::path(
    post, path = "/userinfo", tag = "sign-in",
    security(("bearer" = ["openid"])),
    responses(
        (status = 200, description = "The user's claims; never cached", body = UserInfo),
        (status = 401, description = "No token, or a token refused", body = ErrorBody),
        (status = 403, description = "A token without scope openid, or a service account's", body = ErrorBody),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn userinfo_post(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    claims(&state, &caller).await
}

async fn claims(state: &AppState, caller: &Caller) -> ApiResult<HttpResponse> {
    caller.require_scope("openid")?;
    let row = crate::routes::users::the_caller(state, caller).await?;
    let mut claims = json!({"sub": row.id.to_string()});
    if caller.scopes.contains("profile") {
        claims["preferred_username"] = row.username.into();
    }
    if caller.scopes.contains("email") {
        claims["email"] = row.email.into();
        claims["email_verified"] = false.into();
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(claims))
}
