//! Rows as they are read and written.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{refresh_tokens, users};

/// A stored user. Its `Debug` leaves the password hash out.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    #[diesel(deserialize_as = auth_common::service::db::Timestamp)]
    pub created_at: NaiveDateTime,
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow").field("id", &self.id).field("username", &self.username).finish_non_exhaustive()
    }
}

/// A user to insert. No `Debug`: it holds the password hash.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

/// A stored refresh token (its hash, never the token).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub token_hash: String,
    pub family_id: String,
    pub user_id: i64,
    pub client_id: String,
    pub scope: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A refresh token to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub token_hash: &'a str,
    pub family_id: &'a str,
    pub user_id: i64,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}
