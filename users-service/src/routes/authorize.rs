//! `GET /oauth/authorize` and `POST /oauth/authorize`: the authorization code grant's
//! front channel (RFC 6749 §4.1, RFC 9700). The GET checks the request and shows the
//! sign-in page; the form posts back here, where the same password check and lockouts as
//! `/auth/login` run, and a signed-in user is sent back to the client with a code.
//!
//! Every answer is a page or a redirect, never JSON: a browser is on the other end.
//! Errors before the client's redirect URI is trusted are shown on the page; after it,
//! they are redirected with `error` and `state` (see `signin::request`).
//!
//! The form is protected from cross-site posting by a double-submit token: a random value
//! both in an `HttpOnly`, `SameSite=Strict` cookie and in the form, compared in constant
//! time. No server-side session is needed, so any replica can take the post.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_common::service::db::blocking;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::UserId;
use crate::error::ApiError;
use crate::signin::page::{self, SignIn};
use crate::signin::request::{AuthorizeRequest, Refused, redirect_to};
use crate::state::AppState;
use crate::throttle::client_address;
use crate::tokens::authorization_code::{self, Grant};
use crate::tokens::oauth_request::FormParams;

/// The cookie of the double-submit token.
const CSRF_COOKIE: &str = "signin_csrf";

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
        ("state" = Option<String>, Query, description = "Returned unchanged"),
    ),
    responses(
        (status = 200, description = "The sign-in page (HTML)", content_type = "text/html"),
        (status = 303, description = "An error after the redirect URI was trusted: back to the client with `error` and `state`"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: a page, never a redirect", content_type = "text/html"),
    )
)]
pub async fn authorize_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = match serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()) {
        Ok(pairs) => FormParams::new(pairs),
        Err(_) => return page::refused(StatusCode::BAD_REQUEST, "the request could not be read"),
    };
    let Ok(params) = params else {
        return page::refused(StatusCode::BAD_REQUEST, "a parameter was sent more than once");
    };
    match AuthorizeRequest::check(&params, &state.clients) {
        Ok(request) => {
            let csrf = match random_token() {
                Ok(token) => token,
                Err(_) => return page::refused(StatusCode::INTERNAL_SERVER_ERROR, "sign-in is unavailable right now"),
            };
            let mut response = form(StatusCode::OK, &request, &csrf, "", None);
            set_csrf_cookie(&mut response, &csrf, state.issuer_url.starts_with("https://"));
            response
        }
        Err(refused) => refusal(refused),
    }
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
    body: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Ok(params) = FormParams::new(body.into_inner()) else {
        return page::refused(StatusCode::BAD_REQUEST, "a parameter was sent more than once");
    };
    let request = match AuthorizeRequest::check(&params, &state.clients) {
        Ok(request) => request,
        Err(refused) => return refusal(refused),
    };
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
            let secs = refusal.retry_after().as_millis().div_ceil(1000).max(1);
            let message = format!("Too many failed sign-ins. Try again in {secs} seconds.");
            let mut response = form(StatusCode::TOO_MANY_REQUESTS, &request, &csrf, &username, Some(&message));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs as u64));
            return response;
        }
        Err(e) => return unavailable(&e),
    };
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
            user: UserId::new(user.id),
            redirect_uri: &redirect_uri,
            scopes: &scopes,
            challenge: &challenge,
            nonce: nonce.as_deref(),
            auth_time: now,
        };
        authorization_code::issue(conn, &grant, now)
    })
    .await;
    match issued {
        Ok(code) => {
            let mut pairs = vec![("code", code.as_str())];
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

fn refusal(refused: Refused) -> HttpResponse {
    match refused {
        Refused::OnPage(why) => page::refused(StatusCode::BAD_REQUEST, why),
        Refused::Redirect { redirect_uri, state, error, description } => {
            let mut pairs = vec![("error", error), ("error_description", description)];
            if let Some(s) = state.as_deref() {
                pairs.push(("state", s));
            }
            see_other(&redirect_to(&redirect_uri, &pairs))
        }
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .finish()
}

fn unavailable(error: &ApiError) -> HttpResponse {
    log::error!("sign-in failed: {error:#}");
    page::refused(StatusCode::SERVICE_UNAVAILABLE, "sign-in is unavailable right now; try again in a moment")
}

fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn set_csrf_cookie(response: &mut HttpResponse, token: &str, secure: bool) {
    let cookie = format!(
        "{CSRF_COOKIE}={token}; Path=/oauth/authorize; Max-Age=900; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Whether the form's token equals the cookie's (both present, constant-time compare).
fn csrf_matches(req: &HttpRequest, presented: &str) -> bool {
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned());
    match cookie {
        #[allow(deprecated)]
        Some(cookie) if !presented.is_empty() => {
            aws_lc_rs::constant_time::verify_slices_are_equal(cookie.as_bytes(), presented.as_bytes()).is_ok()
        }
        _ => false,
    }
}
