//! The sign-in page's browser session: after a password check, a cookie lets the same
//! browser through the authorization endpoint again without the password until it expires
//! (`SIGNIN_SESSION_SECS`) or is signed out. The cookie holds 256 random bits; the database
//! holds their SHA-256, so any replica can check it and a database dump opens nothing.

use auth_common::service::db::QueryContext;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::browser_sessions::dsl;
use crate::domain::UserId;
use crate::error::ApiError;
use crate::tokens::refresh::{self, RefreshToken};

/// The cookie's name. `Path=/oauth`, `HttpOnly`, `SameSite=Lax` (it must come along on the
/// top-level navigation from a client to the authorization endpoint), `Secure` behind HTTPS.
pub const COOKIE: &str = "signin_session";

/// A live session: whose, and when they proved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub auth_time: NaiveDateTime,
}

/// Starts a session for `user`; the cookie's value.
pub fn start(conn: &mut DbConnection, user: UserId, now: NaiveDateTime, ttl_secs: u64) -> Result<String, ApiError> {
    let token = RefreshToken::generate()?.into_string();
    let ttl = chrono::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
    diesel::insert_into(dsl::browser_sessions)
        .values((
            dsl::session_hash.eq(refresh::hash(&token)),
            dsl::user_id.eq(user.get()),
            dsl::auth_time.eq(now),
            dsl::expires_at.eq(now + ttl),
        ))
        .execute(conn)
        .context("starting a browser session")?;
    Ok(token)
}

/// The session `token` names, if it is live at `now`.
pub fn find(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Option<Session>, ApiError> {
    let row: Option<(i64, NaiveDateTime)> = dsl::browser_sessions
        .filter(dsl::session_hash.eq(refresh::hash(token)))
        .filter(dsl::ended_at.is_null())
        .filter(dsl::expires_at.gt(now))
        .select((dsl::user_id, dsl::auth_time))
        .first(conn)
        .optional()
        .context("loading a browser session")?;
    Ok(row.map(|(user, auth_time)| Session { user: UserId::new(user), auth_time }))
}

/// Ends the session `token` names (sign-out); unknown tokens are ignored.
pub fn end(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(dsl::browser_sessions.filter(dsl::session_hash.eq(refresh::hash(token))))
        .set(dsl::ended_at.eq(now))
        .execute(conn)
        .context("ending a browser session")?;
    Ok(())
}

/// Deletes sessions that expired or ended over an hour ago.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let cutoff = now - chrono::Duration::hours(1);
    diesel::delete(dsl::browser_sessions.filter(dsl::expires_at.lt(cutoff).or(dsl::ended_at.lt(cutoff)))).execute(conn)
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(req: &actix_web::HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::NewUser;

    #[test]
    fn sessions_are_found_while_live_and_swept_an_hour_after_they_end_or_expire() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(dir.path().join("sessions.db").to_str().unwrap(), 1).unwrap();
        let conn = &mut pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        let user = NewUser { username: "alice", email: "a@example.com", password_hash: "x", created_at: now };
        let user = UserId::new(crate::db::users::insert(conn, &user).unwrap().id);
        let minutes = chrono::Duration::minutes;
        let expiring = start(conn, user, now, 600).unwrap();
        let ended = start(conn, user, now, 86_400).unwrap();
        let live = start(conn, user, now, 86_400).unwrap();
        assert_eq!(find(conn, &expiring, now).unwrap(), Some(Session { user, auth_time: now }));
        assert_eq!(find(conn, &expiring, now + minutes(10)).unwrap(), None, "expired");
        end(conn, &ended, now).unwrap();
        assert_eq!(find(conn, &ended, now).unwrap(), None, "ended");
        assert_eq!(find(conn, "not a session", now).unwrap(), None);

        assert_eq!(sweep(conn, now + minutes(59)).unwrap(), 0, "within the hour both stay");
        assert_eq!(sweep(conn, now + minutes(71)).unwrap(), 2, "the expired and the ended one");
        assert!(find(conn, &live, now + minutes(71)).unwrap().is_some(), "a live session stays");
    }
}
