//! Pages of posts with their authors: the one place posts meet users-service.
//!
//! A page costs at most one call to users-service, whatever the number of posts or
//! authors: the distinct author ids go into one `GET /users?ids=`. When that call fails or
//! runs out of time, the page still answers, with `author: null` on every post and
//! `"degraded": true`; the next page tries again.

use std::collections::{BTreeSet, HashMap};

use auth_common::service::db::{QueryContext, blocking};
use auth_common::token::extractor::BearerToken;

use crate::api_types::{Author, PageQuery, PostPage, PostView};
use crate::db::models::PostRow;
use crate::db::posts;
use crate::domain::{Cursor, PageLimit};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users_client::UpstreamError;

/// Whose token authorises the author lookup.
#[derive(Debug, Clone, Copy)]
pub enum LookupAs<'a> {
    /// The caller's own token, passed on unchanged.
    Caller(&'a BearerToken),
    /// posts-service's service-account token: only where there is no caller at all.
    Service,
}

/// Authors by id, and whether the lookup failed.
pub struct Authors {
    by_id: HashMap<i64, Author>,
    degraded: bool,
}

/// One page, newest first, with authors.
pub async fn page(state: &AppState, query: PageQuery, lookup: LookupAs<'_>) -> ApiResult<PostPage> {
    let limit = PageLimit::parse(query.limit)?;
    let cursor = query.cursor.as_deref().map(Cursor::parse).transpose()?;
    let author = match query.user_id {
        Some(id) if id <= 0 => return Err(ApiError::BadRequest("user_id must be a positive integer".to_owned())),
        other => other,
    };
    let mut rows = blocking(&state.pool, move |conn| {
        posts::page(conn, limit, cursor, author).context("loading a page of posts").map_err(ApiError::from)
    })
    .await?;
    let more = rows.len() as i64 > limit.get();
    rows.truncate(usize::try_from(limit.get()).unwrap_or(usize::MAX));
    let next_cursor = if more { rows.last().map(|r| Cursor::after(r.id).encode()) } else { None };
    let authors = authors(state, rows.iter().map(|r| r.user_id), lookup).await;
    let posts = merge(rows, &authors);
    Ok(PostPage::new(posts, next_cursor, authors.degraded))
}

/// Each row with its author: the join after the one users-service call.
pub fn merge(rows: Vec<PostRow>, authors: &Authors) -> Vec<PostView> {
    rows.into_iter()
        .map(|row| {
            let author = authors.get(row.user_id);
            PostView::new(row, author)
        })
        .collect()
}

/// One post with its author.
pub async fn single(state: &AppState, row: PostRow, lookup: LookupAs<'_>) -> PostView {
    let authors = authors(state, std::iter::once(row.user_id), lookup).await;
    let author = authors.get(row.user_id);
    PostView::new(row, author).degraded(authors.degraded)
}

impl Authors {
    /// Authors users-service returned (not degraded).
    pub fn found(by_id: HashMap<i64, Author>) -> Self {
        Self { by_id, degraded: false }
    }

    fn get(&self, id: i64) -> Option<Author> {
        self.by_id.get(&id).cloned()
    }
}

/// Looks up the distinct `ids` in one call. Never fails: a failure is a degraded answer.
pub async fn authors(state: &AppState, ids: impl Iterator<Item = i64>, lookup: LookupAs<'_>) -> Authors {
    let ids: Vec<i64> = ids.collect::<BTreeSet<_>>().into_iter().collect();
    if ids.is_empty() {
        return Authors { by_id: HashMap::new(), degraded: false };
    }
    let lookup = async {
        match lookup {
            LookupAs::Caller(token) => state.users.authors(&ids, token).await,
            LookupAs::Service => lookup_as_service(state, &ids).await,
        }
    };
    // One budget for the whole lookup, token fetch and retry included: a page never waits
    // on users-service longer than USERS_TIMEOUT_MS, however the calls add up.
    match tokio::time::timeout(state.users_timeout, lookup).await {
        Ok(Ok(by_id)) => Authors { by_id, degraded: false },
        Ok(Err(e)) => {
            log::warn!("authors unavailable, answering degraded: {e}");
            Authors { by_id: HashMap::new(), degraded: true }
        }
        Err(_) => {
            state.metrics.users_service_call("timeout");
            log::warn!("authors unavailable, answering degraded: no answer within {:?}", state.users_timeout);
            Authors { by_id: HashMap::new(), degraded: true }
        }
    }
}

/// With posts-service's own token; if users-service refuses it (revoked, key rotated
/// away), one fresh token and one retry.
async fn lookup_as_service(state: &AppState, ids: &[i64]) -> Result<HashMap<i64, Author>, UpstreamError> {
    let token = state.service_tokens.get(&state.users).await?;
    match state.users.authors(ids, &token).await {
        Err(UpstreamError::Status(status)) if status == reqwest::StatusCode::UNAUTHORIZED => {
            state.service_tokens.invalidate(&token).await;
            let token = state.service_tokens.get(&state.users).await?;
            state.users.authors(ids, &token).await
        }
        other => other,
    }
}
