//! `GET /public/posts`: the feed for anonymous readers.

use actix_web::{HttpResponse, web};

use crate::error::ApiResult;
use auth_common::service::errors::ErrorBody;

use crate::api_types::{PageQuery, PostPage};
use crate::feed::{self, LookupAs};
use crate::state::AppState;
use crate::users_client::{CALLS_HEADER, counting_calls};

/// The same list as `GET /posts`, no token needed. With no caller token to pass on, the
/// author lookup uses posts-service's own client-credentials token. This is the only
/// route that does: a request that *sent* a token never gets here with it refused.
#[utoipa::path(
    get, path = "/public/posts", tag = "public",
    params(PageQuery),
    responses(
        (status = 200, description = "A page, newest first, authors looked up with posts-service's own token", body = PostPage,
            headers(("X-Users-Service-Calls" = u32, description = "Calls made to users-service for this request: its token when it has none cached, the lookup, and one retry with a fresh token if refused"))),
        (status = 400, description = "limit, cursor or user_id invalid", body = ErrorBody),
    )
)]
pub async fn list_public_posts(state: web::Data<AppState>, query: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    let (page, calls) = counting_calls(feed::page(&state, query.into_inner(), LookupAs::Service)).await;
    Ok(HttpResponse::Ok().insert_header((CALLS_HEADER, calls)).json(page?))
}
