//! Queries on `users`.

use diesel::prelude::*;

use super::DbConnection;
use super::models::{NewUser, UserRow};
use super::schema::users::dsl;
use crate::domain::{UserId, Username};

/// Inserts a user and returns it; a taken username is a unique violation. diesel's
/// `RETURNING` does not cross its multi-backend connection, so the statement is built for
/// the concrete backend.
pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<UserRow> {
    let insert = diesel::insert_into(dsl::users).values(new);
    match conn {
        DbConnection::Postgresql(c) => insert.returning(UserRow::as_returning()).get_result(c),
        DbConnection::Sqlite(c) => insert.returning(UserRow::as_returning()).get_result(c),
    }
}

/// The user with this (normalised) name.
pub fn find_by_username(conn: &mut DbConnection, username: &Username) -> QueryResult<Option<UserRow>> {
    dsl::users.filter(dsl::username.eq(username.as_str())).select(UserRow::as_select()).first(conn).optional()
}

/// The user with this id.
pub fn find_by_id(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    dsl::users.find(id.get()).select(UserRow::as_select()).first(conn).optional()
}

/// The users among `ids`, by id, in one indexed query; unknown ids are left out.
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<UserRow>> {
    dsl::users.filter(dsl::id.eq_any(ids)).order(dsl::id.asc()).select(UserRow::as_select()).load(conn)
}
