//! The authenticated post routes. Each handler authenticates first (the `Caller`
//! extractor: 401 before anything else happens), checks the scope (403), then parses.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use auth_common::service::db::{QueryContext, blocking};
use auth_common::service::errors::ErrorBody;
use auth_common::token::extractor::Caller;
use serde::Deserialize;

use crate::api_types::{Author, PageQuery, PostPage, PostView};
use crate::db::models::NewPost;
use crate::db::posts::{self, OwnedWrite};
use crate::domain::{PostContent, PostId, PostTitle};
use crate::error::{ApiError, ApiResult};
use crate::feed::{self, LookupAs};
use crate::state::AppState;
use crate::users_client::{CALLS_HEADER, counting_calls};

/// The body of create and update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"title": "Hello", "content": "My first post"}))]
pub struct PostBody {
    /// 1 to 200 characters on one line, not blank.
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// 1 to 10 000 characters, not blank.
    #[schema(min_length = 1, max_length = 10000)]
    content: String,
}

impl PostBody {
    fn parse(self) -> Result<(PostTitle, PostContent), ApiError> {
        Ok((PostTitle::parse(self.title)?, PostContent::parse(self.content)?))
    }
}

/// The caller as author: the token already names them, so no lookup is needed.
fn author_of(caller: &Caller, id: i64) -> Option<Author> {
    caller.claims.username.clone().map(|username| Author { id, username })
}

/// `POST /posts` (scope `posts:write`, users only): 201 with the post.
#[utoipa::path(
    post, path = "/posts", tag = "posts",
    request_body = PostBody,
    security(("bearer" = ["posts:write"])),
    responses(
        (status = 201, description = "Created; Location names the post (the author is the token's: no lookup)", body = PostView,
            headers(("X-Users-Service-Calls" = u32, description = "Calls made to users-service for this request: 0"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No token, or a token refused (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "Missing scope posts:write, or a service account", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Title (1-200) or content (1-10000) invalid", body = ErrorBody),
    )
)]
pub async fn create_post(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PostBody>,
) -> ApiResult<HttpResponse> {
    caller.require_scope("posts:write")?;
    let author = caller.user_id()?;
    let (title, content) = body.into_inner().parse()?;
    let now = state.clock.now().naive_utc();
    let row = blocking(&state.pool, move |conn| {
        let new = NewPost {
            user_id: author,
            title: title.as_str(),
            content: content.as_str(),
            created_at: now,
            updated_at: now,
        };
        posts::insert(conn, &new).context("inserting a post").map_err(ApiError::from)
    })
    .await?;
    let location = format!("/posts/{}", row.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, HeaderValue::from_str(&location).map_err(anyhow::Error::from)?))
        .insert_header((CALLS_HEADER, 0))
        .json(PostView::new(row, author_of(&caller, author))))
}

/// `GET /posts` (scope `posts:read`): a page, newest first, authors looked up with the
/// caller's own token.
#[utoipa::path(
    get, path = "/posts", tag = "posts",
    params(PageQuery),
    security(("bearer" = ["posts:read"])),
    responses(
        (status = 200, description = "A page, newest first; authors null and degraded true when users-service did not answer", body = PostPage,
            headers(("X-Users-Service-Calls" = u32, description = "Calls made to users-service for this request, all with the caller's token: 1 (0 for an empty page)"))),
        (status = 400, description = "limit, cursor or user_id invalid", body = ErrorBody),
        (status = 401, description = "No token, or a token refused (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "Missing scope posts:read", body = ErrorBody),
    )
)]
pub async fn list_posts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_scope("posts:read")?;
    let (page, calls) = counting_calls(feed::page(&state, query.into_inner(), LookupAs::Caller(&caller.token))).await;
    Ok(HttpResponse::Ok().insert_header((CALLS_HEADER, calls)).json(page?))
}

/// `GET /posts/{id}` (scope `posts:read`).
#[utoipa::path(
    get, path = "/posts/{id}", tag = "posts",
    params(("id" = i64, Path, description = "The post id")),
    security(("bearer" = ["posts:read"])),
    responses(
        (status = 200, description = "The post with its author", body = PostView,
            headers(("X-Users-Service-Calls" = u32, description = "Calls made to users-service for this request, with the caller's token: 1"))),
        (status = 401, description = "No token, or a token refused (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "Missing scope posts:read", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    )
)]
pub async fn get_post(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_scope("posts:read")?;
    let id = PostId::parse(&path)?;
    let row = blocking(&state.pool, move |conn| {
        posts::find(conn, id).context("loading a post by id").map_err(ApiError::from)
    })
    .await?;
    let row = row.ok_or(ApiError::NotFound("no such post"))?;
    let (post, calls) = counting_calls(feed::single(&state, row, LookupAs::Caller(&caller.token))).await;
    Ok(HttpResponse::Ok().insert_header((CALLS_HEADER, calls)).json(post))
}

/// `PUT /posts/{id}` (scope `posts:write`, the author only): 200 with the post.
#[utoipa::path(
    put, path = "/posts/{id}", tag = "posts",
    params(("id" = i64, Path, description = "The post id")),
    request_body = PostBody,
    security(("bearer" = ["posts:write"])),
    responses(
        (status = 200, description = "Updated", body = PostView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No token, or a token refused (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "Missing scope posts:write, or not the author", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Title or content invalid", body = ErrorBody),
    )
)]
pub async fn update_post(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<PostBody>,
) -> ApiResult<HttpResponse> {
    caller.require_scope("posts:write")?;
    let author = caller.user_id()?;
    let id = PostId::parse(&path)?;
    let (title, content) = body.into_inner().parse()?;
    let now = state.clock.now().naive_utc();
    let outcome = blocking(&state.pool, move |conn| {
        posts::update(conn, id, author, &title, &content, now)
            .context("updating a post of its author")
            .map_err(ApiError::from)
    })
    .await?;
    match outcome {
        OwnedWrite::Done(row) => Ok(HttpResponse::Ok().json(PostView::new(row, author_of(&caller, author)))),
        OwnedWrite::NotOwner => Err(ApiError::Forbidden("only the author may change this post")),
        OwnedWrite::Missing => Err(ApiError::NotFound("no such post")),
    }
}

/// `DELETE /posts/{id}` (scope `posts:write`, the author only): 204.
#[utoipa::path(
    delete, path = "/posts/{id}", tag = "posts",
    params(("id" = i64, Path, description = "The post id")),
    security(("bearer" = ["posts:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or a token refused (WWW-Authenticate: Bearer)", body = ErrorBody),
        (status = 403, description = "Missing scope posts:write, or not the author", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    )
)]
pub async fn delete_post(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_scope("posts:write")?;
    let author = caller.user_id()?;
    let id = PostId::parse(&path)?;
    match blocking(&state.pool, move |conn| {
        posts::delete(conn, id, author).context("deleting a post of its author").map_err(ApiError::from)
    })
    .await?
    {
        OwnedWrite::Done(()) => Ok(HttpResponse::NoContent().finish()),
        OwnedWrite::NotOwner => Err(ApiError::Forbidden("only the author may delete this post")),
        OwnedWrite::Missing => Err(ApiError::NotFound("no such post")),
    }
}
