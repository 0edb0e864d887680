//! Rows as they are read and written.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::posts;

/// A stored post.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct PostRow {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub content: String,
    #[diesel(deserialize_as = auth_common::service::db::Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = auth_common::service::db::Timestamp)]
    pub updated_at: NaiveDateTime,
}

/// A post to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost<'a> {
    pub user_id: i64,
    pub title: &'a str,
    pub content: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
