//! `GET` and `POST /oauth/logout`: the end-session endpoint of OpenID Connect RP-Initiated
//! Logout 1.0, the `end_session_endpoint` of the discovery document.
//!
//! An app sends the browser here (a link, a redirect or a form) with the user's ID token as
//! `id_token_hint`, and may ask for the user to be sent back to one of its registered
//! post-logout URIs with its `state`. The browser's sign-in session ends at once when the
//! hint names the user signed in; otherwise the user is asked first, on a page whose form
//! carries a CSRF token, so that a link or a form on another site cannot sign anyone out.
//! The app's own tokens are its business: it revokes its refresh token at `/oauth/revoke`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::blocking;

use crate::signin::browser::{
    CSRF_COOKIE, CSRF_SECS, csrf_matches, live_session, new_csrf, see_other, set_cookie, unavailable, unreadable_form,
};
use crate::signin::end_session::EndSession;
use crate::signin::page;
use crate::signin::request::redirect_to;
use crate::signin::session;
use crate::state::AppState;
use crate::tokens::oauth_request::FormParams;

/// `GET /oauth/logout`: the end-session endpoint, as an app's link or redirect reaches it.
#[utoipa::path(
    get, path = "/oauth/logout", tag = "sign-in",
    params(
        ("id_token_hint" = Option<String>, Query, description = "An ID token issued here to the app (expired ones too): signs its user out without asking"),
        ("client_id" = Option<String>, Query, description = "The app, when there is no hint (or the hint's audience, if both)"),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "Where to go afterwards: one the app registered, exactly"),
        ("state" = Option<String>, Query, description = "Returned unchanged with that redirect"),
    ),
    responses(
        (status = 200, description = "Signed out (a page), or the page asking whether to sign out", content_type = "text/html"),
        (status = 303, description = "Signed out: to the app's post-logout URI, with `state`"),
        (status = 400, description = "A hint not issued here, an unknown client or an unregistered URI: a page, nothing ended", content_type = "text/html"),
        (status = 503, description = "The database is unavailable (a page)", content_type = "text/html"),
    )
)]
pub async fn end_session_link(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()) else {
        return page::refused(StatusCode::BAD_REQUEST, "the request could not be read");
    };
    end_session(&req, &state, pairs).await
}

/// `POST /oauth/logout`: the same, as a form; and the answer of the page that asks.
#[utoipa::path(
    post, path = "/oauth/logout", tag = "sign-in",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The parameters of `GET /oauth/logout`; from the confirmation page, with its `csrf`"),
    responses(
        (status = 200, description = "Signed out (a page), or the page asking whether to sign out", content_type = "text/html"),
        (status = 303, description = "Signed out: to the app's post-logout URI, with `state`"),
        (status = 400, description = "A hint not issued here, an unknown client or an unregistered URI: a page, nothing ended", content_type = "text/html"),
        (status = 403, description = "The confirmation's token does not match its cookie: a page, nothing ended", content_type = "text/html"),
        (status = 503, description = "The database is unavailable (a page)", content_type = "text/html"),
    )
)]
pub async fn end_session_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<web::Form<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    match body {
        Ok(body) => end_session(&req, &state, body.into_inner()).await,
        Err(e) => unreadable_form(&e),
    }
}

async fn end_session(req: &HttpRequest, state: &AppState, pairs: Vec<(String, String)>) -> HttpResponse {
    let Ok(params) = FormParams::new(pairs) else {
        return page::refused(StatusCode::BAD_REQUEST, "a parameter was sent more than once");
    };
    let request = match EndSession::check(&params, state).await {
        Ok(request) => request,
        Err(why) => return page::refused(StatusCode::BAD_REQUEST, why),
    };
    // Only the confirmation page's form carries `csrf`; with it, the user has answered.
    let confirmed = match params.get("csrf") {
        None => false,
        Some(csrf) if csrf_matches(req, csrf) => true,
        Some(_) => {
            return page::refused(
                StatusCode::FORBIDDEN,
                "this sign-out form was not sent from its own page, or has expired; nothing was changed",
            );
        }
    };
    let live = match live_session(req, state).await {
        Ok(live) => live,
        Err(e) => return unavailable(&e),
    };
    let hint_names_user = live.zip(request.hint.as_ref()).is_some_and(|(live, hint)| live.user == hint.user);
    if live.is_some() && !hint_names_user && !confirmed {
        return ask(state, &request);
    }
    if let Some(token) = session::cookie(req, session::COOKIE) {
        let now = state.clock.now().naive_utc();
        if let Err(e) = blocking(&state.pool, move |conn| session::end(conn, &token, now)).await {
            return unavailable(&e);
        }
    }
    let mut response = match &request.post_logout_redirect_uri {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = request.state.as_deref().map(|s| ("state", s)).into_iter().collect();
            see_other(&redirect_to(uri, &pairs))
        }
        None => page::signed_out(),
    };
    set_cookie(&mut response, session::COOKIE, "", 0, state);
    response
}

/// The page that asks whether to sign out, with a fresh CSRF token in its form and cookie.
fn ask(state: &AppState, request: &EndSession) -> HttpResponse {
    let csrf = match new_csrf() {
        Ok(csrf) => csrf,
        Err(page) => return *page,
    };
    let client = request.client.as_ref().map(|c| c.id.as_str());
    let origin = request.post_logout_redirect_uri.as_deref().map(page::origin_of).unwrap_or_default();
    let mut response = page::confirm_sign_out(client, &request.hidden_fields(), &csrf, &origin);
    set_cookie(&mut response, CSRF_COOKIE, &csrf, CSRF_SECS, state);
    response
}
