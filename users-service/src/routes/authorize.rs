//! `GET /oauth/authorize` and `POST /oauth/authorize`: the authorization code grant's
//! front channel (RFC 6749 §4.1, RFC 9700). The GET checks the request and shows the
//! sign-in page; the form posts back here, where the same password check and lockouts as
//! `/auth/login` run, and a signed-in user is sent back to the client with a code.
//!
//! Every answer is a page or a redirect, never JSON: a browser is on the other end.
//! Errors before the client's redirect URI is trusted are shown on the page; after it,
//! they are redirected with `error` and `state` (see `signin::request`).
//! The forms carry a double-submit CSRF token (`signin::browser`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::{QueryContext, blocking};

use crate::db::users;
use crate::domain::UserId;
use crate::error::ApiError;
use crate::signin::browser::{
    CSRF_COOKIE, CSRF_SECS, csrf_matches, live_session, new_csrf, see_other, set_cookie, unavailable, unreadable_form,
};
use crate::signin::page::{self, Consent, SignIn};
use crate::signin::request::{AuthorizeRequest, Refused, redirect_to};
use crate::signin::session::{self, Session};
use crate::state::AppState;
use crate::throttle::client_address;
use crate::tokens::authorization_code::{self, Grant};
use crate::tokens::oauth_request::FormParams;

/// `GET /oauth/authorize`: the sign-in page for a valid request.
#[utoipa::path(
    get, path = "/oauth/authorize", tag = "sign-in",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "A registered client with redirect URIs"),
        ("redirect_uri" = String, Query, description = "One of the client's, exactly"),
        ("code_challenge" = String, Query, description = "PKCE: base64url SHA-256 of the verifier"),
        ("code_challenge_method" = String, Query, description = "`S256` (`plain` is refused)"),
        ("scope" = Option<String>, Query, description = "Within the client's user scopes; all of them if omitted"),
        ("state" = Option<String>, Query, description = "Returned unchanged (at most 2048 bytes)"),
        ("nonce" = Option<String>, Query, description = "OpenID Connect: echoed in the ID token"),
        ("prompt" = Option<String>, Query, description = "OpenID Connect: space-separated `none`, `login`, `consent`"),
        ("max_age" = Option<u64>, Query, description = "OpenID Connect: a sign-in session older than this many seconds asks for the password"),
    ),
    responses(
        (status = 200, description = "The sign-in page (HTML)", content_type = "text/html"),
        (status = 303, description = "An error after the redirect URI was trusted: back to the client with `error` and `state`"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: a page, never a redirect", content_type = "text/html"),
    )
)]
pub async fn authorize_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()) else {
        return page::refused(StatusCode::BAD_REQUEST, "the request could not be read");
    };
    let request = match checked(pairs, &state) {
        Ok((_, request)) => request,
        Err(page) => return *page,
    };
    start(&req, &state, &request).await
}

/// An authorization request, checked: straight on with a live session that is fresh
/// enough, else the sign-in page (or, with `prompt=none`, the error).
async fn start(req: &HttpRequest, state: &AppState, request: &AuthorizeRequest) -> HttpResponse {
    let now = state.clock.now().naive_utc();
    // `prompt=login`: the password again, whatever the browser holds; `max_age`: again
    // once the last one is older than that.
    let session = if request.prompt.login {
        None
    } else {
        match live_session(req, state).await {
            Ok(found) => found
                .filter(|live| request.max_age.is_none_or(|max| (now - live.auth_time).num_seconds() <= max as i64)),
            Err(e) => return unavailable(&e),
        }
    };
    let csrf = match new_csrf() {
        Ok(csrf) => csrf,
        Err(page) => return *page,
    };
    let mut response = match session {
        Some(live) => signed_in(state, request, live, &csrf).await,
        // OpenID Connect's `prompt=none`: no page may be shown, so the answer is the error.
        None if request.prompt.none => refusal(
            Refused::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: "login_required",
                description: "the user is not signed in",
            },
            &state.issuer_url,
        ),
        None => form(StatusCode::OK, request, &csrf, "", None),
    };
    set_cookie(&mut response, CSRF_COOKIE, &csrf, CSRF_SECS, state);
    response
}

/// `POST /oauth/authorize`: the sign-in form.
#[utoipa::path(
    post, path = "/oauth/authorize", tag = "sign-in",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The request's parameters as the page carried them, `csrf`, `username`, `password`"),
    responses(
        (status = 303, description = "Signed in: back to the client with `code` and `state` (or an error)"),
        (status = 400, description = "An unknown client or an unregistered redirect URI (a page)", content_type = "text/html"),
        (status = 401, description = "Wrong username or password: the form again, with the message", content_type = "text/html"),
        (status = 403, description = "The form's token does not match its cookie (a cross-site post, or an expired page)", content_type = "text/html"),
        (status = 429, description = "Locked out after repeated failures: the form again, with Retry-After", content_type = "text/html"),
        (status = 503, description = "The database is unavailable (a page)", content_type = "text/html"),
    )
)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<web::Form<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    let body = match body {
        Ok(body) => body.into_inner(),
        Err(e) => return unreadable_form(&e),
    };
    let (params, request) = match checked(body, &state) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    // An app may POST an authorization request instead of linking to it (OpenID Connect
    // Core §3.1.2.1): with no credentials and no token of our form, that is what this is.
    if params.get("csrf").is_none() && params.get("username").is_none() {
        return start(&req, &state, &request).await;
    }
    let csrf = params.get("csrf").unwrap_or_default().to_owned();
    if !csrf_matches(&req, &csrf) {
        return page::refused(
            StatusCode::FORBIDDEN,
            "this sign-in form was not sent from its own page, or has expired; go back to the application and start again",
        );
    }
    let username = params.get("username").unwrap_or_default().to_owned();
    let password = params.get("password").unwrap_or_default().to_owned();
    let client = client_address(&req, state.trust_forwarded_for);
    let user = match crate::routes::login::verify_user(&state, &username, password, client).await {
        Ok(user) => user,
        Err(ApiError::InvalidCredentials) => {
            return form(StatusCode::UNAUTHORIZED, &request, &csrf, &username, Some("Wrong username or password."));
        }
        Err(ApiError::TooManyRequests(refusal)) => {
            let secs = refusal.retry_after_secs();
            let message = format!("Too many failed sign-ins. Try again in {secs} seconds.");
            let mut response = form(StatusCode::TOO_MANY_REQUESTS, &request, &csrf, &username, Some(&message));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return response;
        }
        Err(e) => return unavailable(&e),
    };
    let now = state.clock.now().naive_utc();
    let (user_id, ttl) = (UserId::new(user.id), state.signin_session_secs);
    let started = blocking(&state.pool, move |conn| session::start(conn, user_id, now, ttl)).await;
    let token = match started {
        Ok(token) => token,
        Err(e) => return unavailable(&e),
    };
    let mut response = signed_in(&state, &request, Session { user: user_id, auth_time: now }, &csrf).await;
    set_cookie(&mut response, session::COOKIE, &token, ttl, &state);
    response
}

/// `POST /oauth/consent`: the user's answer to a third-party client's request.
#[utoipa::path(
    post, path = "/oauth/consent", tag = "sign-in",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The request's parameters as the consent page carried them, `csrf`, `decision` (`allow` or `deny`)"),
    responses(
        (status = 303, description = "Back to the client: a code, or `error=access_denied`"),
        (status = 400, description = "An unknown client or an unregistered redirect URI (a page)", content_type = "text/html"),
        (status = 403, description = "No sign-in session, or the form's token does not match its cookie (a page)", content_type = "text/html"),
    )
)]
pub async fn consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<web::Form<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    let body = match body {
        Ok(body) => body.into_inner(),
        Err(e) => return unreadable_form(&e),
    };
    let (params, request) = match checked(body, &state) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    if !csrf_matches(&req, params.get("csrf").unwrap_or_default()) {
        return page::refused(
            StatusCode::FORBIDDEN,
            "this consent form was not sent from its own page, or has expired",
        );
    }
    let live = match live_session(&req, &state).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            return page::refused(
                StatusCode::FORBIDDEN,
                "you are not signed in any more; start again from the application",
            );
        }
        Err(e) => return unavailable(&e),
    };
    match params.get("decision") {
        Some("allow") => issue_code(&state, &request, live).await,
        _ => refusal(
            Refused::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: "access_denied",
                description: "the user did not allow the request",
            },
            &state.issuer_url,
        ),
    }
}

/// Where a signed-in user goes next: the consent page for a third party's client, a code
/// for one of ours.
async fn signed_in(state: &AppState, request: &AuthorizeRequest, live: Session, csrf: &str) -> HttpResponse {
    if request.client.third_party || request.prompt.consent {
        // Consent is never remembered, so `prompt=none` cannot be answered without a page.
        if request.prompt.none {
            let refused = Refused::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: "consent_required",
                description: "this application needs the user's consent, which needs a page",
            };
            return refusal(refused, &state.issuer_url);
        }
        let user = live.user;
        let found = blocking(&state.pool, move |conn| {
            users::find_by_id(conn, user).context("loading the signed-in user").map_err(ApiError::from)
        })
        .await;
        let username = match found {
            Ok(Some(row)) => row.username,
            // A session outliving its account grants nothing: sign in again.
            Ok(None) => return page::refused(StatusCode::BAD_REQUEST, "the account signed in here no longer exists"),
            Err(e) => return unavailable(&e),
        };
        let (fields, scopes) = (request.hidden_fields(), request.scopes.to_string());
        let form = Consent { client: &request.client.id, scopes: &scopes, username: &username, fields: &fields, csrf };
        return page::consent(&form, &page::origin_of(&request.redirect_uri));
    }
    issue_code(state, request, live).await
}

/// A code for `request`, and the redirect that carries it (with `state`).
async fn issue_code(state: &AppState, request: &AuthorizeRequest, live: Session) -> HttpResponse {
    let now = state.clock.now().naive_utc();
    let (client_id, redirect_uri, scopes, challenge, nonce) = (
        request.client.id.clone(),
        request.redirect_uri.clone(),
        request.scopes.clone(),
        request.challenge.clone(),
        request.nonce.clone(),
    );
    let issued = blocking(&state.pool, move |conn| {
        let grant = Grant {
            client_id: &client_id,
            user: live.user,
            redirect_uri: &redirect_uri,
            scopes: &scopes,
            challenge: &challenge,
            nonce: nonce.as_deref(),
            auth_time: live.auth_time,
        };
        authorization_code::issue(conn, &grant, now)
    })
    .await;
    match issued {
        Ok(code) => {
            // `iss` (RFC 9207): a client talking to several servers can tell whose code it is.
            let mut pairs = vec![("code", code.as_str()), ("iss", state.issuer_url.as_str())];
            if let Some(s) = request.state.as_deref() {
                pairs.push(("state", s));
            }
            see_other(&redirect_to(&request.redirect_uri, &pairs))
        }
        Err(e) => unavailable(&e),
    }
}

/// The sign-in form for `request`.
fn form(
    status: StatusCode,
    request: &AuthorizeRequest,
    csrf: &str,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let fields = request.hidden_fields();
    let scopes = request.scopes.to_string();
    let form = SignIn { client: &request.client.id, scopes: &scopes, fields: &fields, csrf, username, error };
    page::sign_in(status, &form, &page::origin_of(&request.redirect_uri))
}

fn refusal(refused: Refused, issuer: &str) -> HttpResponse {
    match refused {
        Refused::OnPage(why) => page::refused(StatusCode::BAD_REQUEST, why),
        Refused::Redirect { redirect_uri, state, error, description } => {
            let mut pairs = vec![("error", error), ("error_description", description), ("iss", issuer)];
            if let Some(s) = state.as_deref() {
                pairs.push(("state", s));
            }
            see_other(&redirect_to(&redirect_uri, &pairs))
        }
    }
}

/// The parameters of an authorization request (a query or a form), each at most once, and
/// the request they make; or the page or redirect that refuses them.
fn checked(
    pairs: Vec<(String, String)>,
    state: &AppState,
) -> Result<(FormParams, AuthorizeRequest), Box<HttpResponse>> {
    let params = FormParams::new(pairs)
        .map_err(|_| Box::new(page::refused(StatusCode::BAD_REQUEST, "a parameter was sent more than once")))?;
    let request =
        AuthorizeRequest::check(&params, &state.clients).map_err(|r| Box::new(refusal(r, &state.issuer_url)))?;
    Ok((params, request))
}
