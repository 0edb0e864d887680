//! The JSON shapes of posts-service's API: a post as it is shown, a page of them, its
//! author, and the page's query. Handlers answer with these; `feed` fills them; the
//! OpenAPI document describes them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::models::PostRow;

/// A post's author as users-service describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Author {
    /// The user id.
    pub id: i64,
    /// The username.
    pub username: String,
}

/// A post as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostView {
    id: i64,
    title: String,
    content: String,
    user_id: i64,
    #[serde(serialize_with = "auth_common::service::timestamp::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "auth_common::service::timestamp::serialize")]
    updated_at: DateTime<Utc>,
    author: Option<Author>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    degraded: bool,
}

impl PostView {
    /// The view of `row` with `author` (`None`: unknown or not available).
    pub fn new(row: PostRow, author: Option<Author>) -> Self {
        Self {
            id: row.id,
            title: row.title,
            content: row.content,
            user_id: row.user_id,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            author,
            degraded: false,
        }
    }

    /// Marks the view degraded: its author could not be looked up in time.
    pub fn degraded(mut self, degraded: bool) -> Self {
        self.degraded = degraded;
        self
    }
}

/// A page of posts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostPage {
    posts: Vec<PostView>,
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    degraded: bool,
}

impl PostPage {
    /// A page of `posts`, the cursor of the next one if more follow, and whether the
    /// authors could not be looked up.
    pub fn new(posts: Vec<PostView>, next_cursor: Option<String>, degraded: bool) -> Self {
        Self { posts, next_cursor, degraded }
    }
}

/// `?limit=&cursor=&user_id=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Posts per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    #[param(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Only this author's posts.
    #[param(minimum = 1)]
    pub user_id: Option<i64>,
}
