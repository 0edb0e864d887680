//! `GET /public/posts`: the feed for anonymous readers.

use actix_web::{HttpResponse, web};

use crate::error::ApiResult;
use crate::feed::{self, LookupAs, PageQuery};
use crate::state::AppState;

/// The same list as `GET /posts`, no token needed. With no caller token to pass on, the
/// author lookup uses posts-service's own client-credentials token. This is the only
/// route that does: a request that *sent* a token never gets here with it refused.
pub async fn list_public_posts(state: web::Data<AppState>, query: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    let page = feed::page(&state, query.into_inner(), LookupAs::Service).await?;
    Ok(HttpResponse::Ok().json(page))
}
