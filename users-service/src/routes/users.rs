//! Registration and user lookups.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::{QueryContext, blocking};
use auth_common::service::errors::ErrorBody;
use auth_common::token::extractor::Caller;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::models::{NewUser, UserRow};
use crate::db::users;
use crate::domain::{Email, Password, UserId, UserIds, Username};
use crate::error::{ApiError, ApiResult};
use crate::profiles::PublicUser;
use crate::state::AppState;
use crate::throttle::client_address;

/// `POST /users`. Unknown fields (`role`, `scope`, `id`…) are ignored, never assigned.
/// No `Debug`: it holds a password.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"username": "alice", "email": "alice@example.com", "password": "correct horse battery"}))]
pub struct CreateUserRequest {
    /// 3 to 32 of `a-z 0-9 _ . -` (upper case is folded to lower case).
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9_.-]{3,32}$")]
    username: String,
    /// A plausible address.
    #[schema(min_length = 3, max_length = 254, pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    email: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
}

/// A user as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PrivateUser {
    id: i64,
    username: String,
    email: String,
    #[serde(serialize_with = "auth_common::service::timestamp::serialize")]
    created_at: DateTime<Utc>,
}

impl From<UserRow> for PrivateUser {
    fn from(row: UserRow) -> Self {
        Self { id: row.id, username: row.username, email: row.email, created_at: row.created_at.and_utc() }
    }
}

/// Registers a user: 201, 409 when the name is taken, 422 when a field is invalid. A 409
/// tells that a name exists, so each counts as a failure against the caller's address,
/// like a failed login: probing for names gets the address locked out (429).
#[utoipa::path(
    post, path = "/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Registered", body = PrivateUser),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        (status = 429, description = "Too many failures (taken names, failed logins) from this address; Retry-After says when to try again", body = ErrorBody),
    )
)]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let address = client_address(&req, state.trust_forwarded_for);
    state.guards.check_address(&state.pool, &state.clock, address).await?;
    let body = body.into_inner();
    let username = Username::parse(&body.username)?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password)?;
    let password_hash = state.passwords.hash(password).await?;
    let created_at = state.clock.now().naive_utc();
    let inserted = blocking(&state.pool, move |conn| {
        let new =
            NewUser { username: username.as_str(), email: email.as_str(), password_hash: &password_hash, created_at };
        users::insert(conn, &new).context("inserting a user").map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict("that username is taken"),
            other => other,
        })
    })
    .await;
    if let Err(ApiError::Conflict(_)) = inserted {
        state.guards.address_failed(&state.pool, &state.clock, address).await;
    }
    let row = inserted?;
    Ok(private(HttpResponse::Created()).json(PrivateUser::from(row)))
}

/// `GET /users/me`: the caller, with email. People only.
#[utoipa::path(
    get, path = "/users/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = PrivateUser),
        (status = 401, description = "No token, or a token refused", body = ErrorBody),
        (status = 403, description = "A service account's token", body = ErrorBody),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let row = the_caller(&state, &caller).await?;
    Ok(private(HttpResponse::Ok()).json(PrivateUser::from(row)))
}

/// The user a person's token names (404 if they no longer exist; 403 for a service
/// account): `/users/me` and `/userinfo`.
pub async fn the_caller(state: &AppState, caller: &Caller) -> ApiResult<UserRow> {
    let id = UserId::new(caller.user_id()?);
    blocking(&state.pool, move |conn| {
        users::find_by_id(conn, id).context("loading a user by id").map_err(ApiError::from)
    })
    .await?
    .ok_or(ApiError::NotFound("this user no longer exists"))
}

/// `GET /users/{id}` (scope `users:read`).
#[utoipa::path(
    get, path = "/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user id")),
    security(("bearer" = ["users:read"])),
    responses(
        (status = 200, description = "The user", body = PublicUser),
        (status = 401, description = "No token, or a token refused", body = ErrorBody),
        (status = 403, description = "Missing scope users:read", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn get_user(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_scope("users:read")?;
    let id = UserId::parse(&path).ok_or(ApiError::NotFound("no such user"))?;
    let user = profiles(&state, &[id.get()]).await?.pop().ok_or(ApiError::NotFound("no such user"))?;
    Ok(private(HttpResponse::Ok()).json(user))
}

/// `GET /users?ids=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Comma-separated user ids, 1 to 100.
    #[param(example = "1,2,3", pattern = r"^[0-9]+(,[0-9]+){0,99}$")]
    ids: String,
}

/// The users list of a batch lookup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    users: Vec<PublicUser>,
}

/// `GET /users?ids=1,2,3` (scope `users:read`): at most 100 ids, unknown ones left out.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(ListUsersQuery),
    security(("bearer" = ["users:read"])),
    responses(
        (status = 200, description = "The users found; unknown ids are left out", body = UserList),
        (status = 400, description = "ids missing, malformed or more than 100", body = ErrorBody),
        (status = 401, description = "No token, or a token refused", body = ErrorBody),
        (status = 403, description = "Missing scope users:read", body = ErrorBody),
    )
)]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListUsersQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_scope("users:read")?;
    let ids = UserIds::parse(&query.ids)?;
    Ok(private(HttpResponse::Ok()).json(UserList { users: profiles(&state, &ids.values()).await? }))
}

/// The public profiles among `ids`, in id order: from memory where the profile cache has
/// them, the rest in one query (see `crate::profiles`).
async fn profiles(state: &AppState, ids: &[i64]) -> ApiResult<Vec<PublicUser>> {
    let lookup = state.profiles.lookup(ids);
    let mut found = lookup.found;
    if !lookup.missing.is_empty() {
        let missing = lookup.missing;
        let rows = blocking(&state.pool, move |conn| {
            users::find_many(conn, &missing).context("loading users by id").map_err(ApiError::from)
        })
        .await?;
        let read: Vec<PublicUser> = rows.into_iter().map(PublicUser::from).collect();
        state.profiles.remember(&read);
        found.extend(read);
    }
    found.sort_unstable_by_key(|user| user.id);
    Ok(found)
}

/// Personal data is not for shared caches.
fn private(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    builder
}
