//! What every page of the browser sign-in does alike: its cookies (the sign-in session,
//! the double-submit CSRF token), the redirects it answers with, and the page it shows
//! when the database is down.
//!
//! The forms are protected from cross-site posting by a double-submit token: a random
//! value both in an `HttpOnly`, `SameSite=Strict` cookie and in the form, compared in
//! constant time. No server-side state is needed, so any replica can take the post.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use auth_common::service::db::blocking;

use crate::error::ApiError;
use crate::signin::page;
use crate::signin::session::{self, Session};
use crate::state::AppState;
use crate::tokens::refresh::RefreshToken;

/// The cookie of the double-submit token.
pub const CSRF_COOKIE: &str = "signin_csrf";

/// How long a page's CSRF token lasts, in seconds.
pub const CSRF_SECS: u64 = 900;

/// A fresh CSRF token (256 random bits), or the page that says sign-in is unavailable.
pub fn new_csrf() -> Result<String, Box<HttpResponse>> {
    RefreshToken::generate()
        .map(RefreshToken::into_string)
        .map_err(|_| Box::new(page::refused(StatusCode::INTERNAL_SERVER_ERROR, "sign-in is unavailable right now")))
}

/// The browser's live sign-in session, if its cookie names one.
pub async fn live_session(req: &HttpRequest, state: &AppState) -> Result<Option<Session>, ApiError> {
    let Some(token) = session::cookie(req, session::COOKIE) else { return Ok(None) };
    let now = state.clock.now().naive_utc();
    blocking(&state.pool, move |conn| session::find(conn, &token, now)).await
}

/// Sets cookie `name` for the `/oauth` paths: `HttpOnly`, `Secure` behind HTTPS; the CSRF
/// token `SameSite=Strict` (only our own pages post it), the session `Lax` (it must come
/// along on the navigation from a client). `max_age` 0 deletes it.
pub fn set_cookie(response: &mut HttpResponse, name: &str, value: &str, max_age: u64, state: &AppState) {
    let same_site = if name == CSRF_COOKIE { "Strict" } else { "Lax" };
    let secure = if state.issuer_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/oauth; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Whether the form's token equals the cookie's (both present, constant-time compare),
/// and the browser, when it says, sent the form from one of our own pages: a cookie
/// planted from a sibling subdomain (or over plain HTTP) then still cannot make a
/// cross-site post pass (`Sec-Fetch-Site`, sent by every current browser).
pub fn csrf_matches(req: &HttpRequest, presented: &str) -> bool {
    let fetched_from = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetched_from.is_some_and(|site| site != "same-origin") {
        return false;
    }
    match session::cookie(req, CSRF_COOKIE) {
        #[allow(deprecated)]
        Some(cookie) if !presented.is_empty() => {
            aws_lc_rs::constant_time::verify_slices_are_equal(cookie.as_bytes(), presented.as_bytes()).is_ok()
        }
        _ => false,
    }
}

/// A `303 See Other` to `location`, neither cached nor leaking this page as a referrer.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .finish()
}

/// The page for a database that did not answer; the error goes to the log only.
pub fn unavailable(error: &ApiError) -> HttpResponse {
    log::error!("sign-in failed: {error:#}");
    page::refused(StatusCode::SERVICE_UNAVAILABLE, "sign-in is unavailable right now; try again in a moment")
}

/// The page for a form that could not be read (too large, not a form, not UTF-8): a
/// browser gets a page, as for every other refusal here, not the APIs' JSON.
pub fn unreadable_form(error: &actix_web::Error) -> HttpResponse {
    let status = error.as_response_error().status_code();
    let why = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "the form is too large to be read"
    } else {
        "the form could not be read: it must be sent as application/x-www-form-urlencoded"
    };
    let status = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
    page::refused(status, why)
}
