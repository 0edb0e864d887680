//! Queries on `posts`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{NewPost, PostRow};
use super::schema::posts::dsl;
use crate::domain::{Cursor, PageLimit, PostContent, PostId, PostTitle};

/// Inserts a post and returns it. diesel's `RETURNING` does not cross its multi-backend
/// connection, so the statement is built for the concrete backend.
pub fn insert(conn: &mut DbConnection, new: &NewPost<'_>) -> QueryResult<PostRow> {
    let insert = diesel::insert_into(dsl::posts).values(new);
    match conn {
        DbConnection::Postgresql(c) => insert.returning(PostRow::as_returning()).get_result(c),
        DbConnection::Sqlite(c) => insert.returning(PostRow::as_returning()).get_result(c),
    }
}

/// The post with this id.
pub fn find(conn: &mut DbConnection, id: PostId) -> QueryResult<Option<PostRow>> {
    dsl::posts.find(id.get()).select(PostRow::as_select()).first(conn).optional()
}

/// One page, newest first: `limit + 1` rows, so the caller can tell whether more follow.
pub fn page(
    conn: &mut DbConnection,
    limit: PageLimit,
    cursor: Option<Cursor>,
    author: Option<i64>,
) -> QueryResult<Vec<PostRow>> {
    let mut query = dsl::posts.select(PostRow::as_select()).order(dsl::id.desc()).limit(limit.get() + 1).into_boxed();
    if let Some(cursor) = cursor {
        query = query.filter(dsl::id.lt(cursor.before_id()));
    }
    if let Some(author) = author {
        query = query.filter(dsl::user_id.eq(author));
    }
    query.load(conn)
}

/// What an author-only write found.
#[derive(Debug)]
pub enum OwnedWrite<T> {
    /// Done.
    Done(T),
    /// The post exists but belongs to someone else.
    NotOwner,
    /// No such post.
    Missing,
}

/// Replaces title and content if `author` owns the post. The ownership test is part of the
/// UPDATE itself, so nothing can change hands between a check and the write.
pub fn update(
    conn: &mut DbConnection,
    id: PostId,
    author: i64,
    title: &PostTitle,
    content: &PostContent,
    now: NaiveDateTime,
) -> QueryResult<OwnedWrite<PostRow>> {
    conn.transaction(|conn| {
        let changed = diesel::update(dsl::posts.find(id.get()).filter(dsl::user_id.eq(author)))
            .set((dsl::title.eq(title.as_str()), dsl::content.eq(content.as_str()), dsl::updated_at.eq(now)))
            .execute(conn)?;
        match (changed, find(conn, id)?) {
            (1, Some(row)) => Ok(OwnedWrite::Done(row)),
            (_, Some(_)) => Ok(OwnedWrite::NotOwner),
            (_, None) => Ok(OwnedWrite::Missing),
        }
    })
}

/// Deletes the post if `author` owns it.
pub fn delete(conn: &mut DbConnection, id: PostId, author: i64) -> QueryResult<OwnedWrite<()>> {
    conn.transaction(|conn| {
        let deleted = diesel::delete(dsl::posts.find(id.get()).filter(dsl::user_id.eq(author))).execute(conn)?;
        if deleted == 1 {
            return Ok(OwnedWrite::Done(()));
        }
        Ok(if find(conn, id)?.is_some() { OwnedWrite::NotOwner } else { OwnedWrite::Missing })
    })
}
