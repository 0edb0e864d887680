//! The HTML users-service serves at `/oauth/authorize`: the sign-in form and the page
//! that explains a refused request. Rendered on the server, every value escaped, one
//! inline stylesheet allowed by its hash, no script, nothing from another host.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// The page's only style, allowed by its hash in the CSP. Colours meet WCAG AA contrast.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;\
color:#1a1a1a;background:#fff}h1{font-size:1.4rem}label{display:block;margin-top:1rem;font-weight:600}\
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font-size:1rem;\
border:1px solid #555;border-radius:4px}button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;\
background:#0b57d0;color:#fff;border:0;border-radius:4px}button:focus,input:focus{outline:3px solid #f5a623;\
outline-offset:2px}.error{color:#a50e0e;background:#fce8e6;padding:.75rem;border-radius:4px}\
.client{color:#3c3c3c}code{color:#3c3c3c;font-size:.85rem}li{margin:.3rem 0}.secondary{background:#fff;color:#0b57d0;border:1px solid #0b57d0}";

static STYLE_HASH: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", STANDARD.encode(auth_common::token::sha256::digest(STYLE.as_bytes()))));

/// The sign-in form for `client`, carrying `fields` through, with `error` above it.
pub struct SignIn<'a> {
    pub client: &'a str,
    pub scopes: &'a str,
    pub fields: &'a [(&'static str, String)],
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// The sign-in page, with `status`; the form may post to this service only, and the
/// redirect that follows it may go to `redirect_origin` only.
pub fn sign_in(status: StatusCode, form: &SignIn<'_>, redirect_origin: &str) -> HttpResponse {
    let hidden = hidden_inputs(form.fields);
    let error = form
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\" id=\"error\">{}</p>", text(e)))
        .unwrap_or_default();
    // After a failed attempt both fields point at the message, and the title says so
    // first: it is what a screen reader announces on a freshly loaded page.
    let (described_by, title) = match form.error {
        Some(e) => (" aria-describedby=\"error\" aria-invalid=\"true\"", format!("Error: {} - Sign in", text(e))),
        None => ("", "Sign in".to_owned()),
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>{STYLE}</style></head><body><main><h1>Sign in</h1>\
<p class=\"client\">to continue to <strong>{client}</strong>, which asks for: {scopes}</p>{error}\
<form method=\"post\" action=\"/oauth/authorize\">{hidden}\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"username\">Username</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{username}\"{described_by}>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described_by}>\
<button type=\"submit\">Sign in</button></form></main></body></html>",
        client = text(form.client),
        scopes = text(form.scopes),
        csrf = attr(form.csrf),
        username = attr(form.username),
    );
    html(status, redirect_origin).body(body)
}

/// The consent page for a third-party client: who is signed in, what each scope it asks
/// for lets it do, allow or deny.
pub struct Consent<'a> {
    pub client: &'a str,
    pub scopes: &'a str,
    /// The signed-in user's name, so someone at a shared browser sees whose account it is.
    pub username: &'a str,
    pub fields: &'a [(&'static str, String)],
    pub csrf: &'a str,
}

/// The consent page, whose buttons' redirect may go to `redirect_origin` only.
pub fn consent(form: &Consent<'_>, redirect_origin: &str) -> HttpResponse {
    let hidden = hidden_inputs(form.fields);
    // Each scope in words a user can judge, with the word itself for the curious.
    let items: String = form
        .scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| format!("<li>{} <code>{}</code></li>", scope_meaning(s), text(s)))
        .collect();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Allow access?</title>\
<style>{STYLE}</style></head><body><main><h1>Allow {client} access?</h1>\
<p>You are signed in as <strong>{username}</strong>.</p>\
<p class=\"client\"><strong>{client}</strong> is run by someone else. It asks to:</p><ul>{items}</ul>\
<form method=\"post\" action=\"/oauth/consent\">{hidden}<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>\
<p>Allowing gives it these and nothing more; it never sees your password.</p>\
</main></body></html>",
        client = text(form.client),
        username = text(form.username),
        csrf = attr(form.csrf),
    );
    html(StatusCode::OK, redirect_origin).body(body)
}

/// The page that asks whether to sign out: for a request without a hint naming the user
/// signed in, which a link on any site could make. `client` is the app that asked, if known.
pub fn confirm_sign_out(
    client: Option<&str>,
    fields: &[(&'static str, String)],
    csrf: &str,
    redirect_origin: &str,
) -> HttpResponse {
    let hidden = hidden_inputs(fields);
    let who =
        client.map(|c| format!("<strong>{}</strong> asks", text(c))).unwrap_or_else(|| "You are asked".to_owned());
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Sign out?</title>\
<style>{STYLE}</style></head><body><main><h1>Sign out?</h1>\
<p class=\"client\">{who} to end your sign-in session here. The next sign-in in this browser \
will ask for your password.</p><form method=\"post\" action=\"/oauth/logout\">{hidden}\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Sign out</button></form>\
<p>If you did not ask to sign out, close this page: nothing changes.</p></main></body></html>",
        csrf = attr(csrf),
    );
    html(StatusCode::OK, redirect_origin).body(body)
}

/// The page after a sign-out with nowhere registered to go.
pub fn signed_out() -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Signed out</title>\
<style>{STYLE}</style></head><body><main><h1>You are signed out</h1>\
<p role=\"status\">The next sign-in in this browser will ask for your password.</p></main></body></html>"
    );
    html(StatusCode::OK, "").body(body)
}

/// A page that says why the request cannot go on, and goes nowhere.
pub fn refused(status: StatusCode, why: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Sign-in request refused</title>\
<style>{STYLE}</style></head><body><main><h1>This sign-in request cannot go on</h1>\
<p class=\"error\" role=\"alert\">{}</p><p>Go back to the application and try again; if it keeps \
happening, the application is not set up to sign in here.</p></main></body></html>",
        text(why)
    );
    html(status, "").body(body)
}

/// What a scope lets a client do, in a user's words; a scope this page does not know is
/// shown as it is written.
fn scope_meaning(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are: your account id",
        "profile" => "See your username",
        "email" => "See your email address",
        "posts:read" => "Read posts",
        "posts:write" => "Write posts as you, and change or delete yours",
        "users:read" => "Look up other users' names",
        _ => "Use the permission",
    }
}

/// `fields` as hidden inputs, every value escaped.
fn hidden_inputs(fields: &[(&'static str, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", attr(value)))
        .collect()
}

fn html(status: StatusCode, redirect_origin: &str) -> HttpResponseBuilder {
    let form_action =
        if redirect_origin.is_empty() { "'self'".to_owned() } else { format!("'self' {redirect_origin}") };
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")));
    response
}

/// The origin (`scheme://host[:port]`) of an absolute URI, for the CSP's `form-action`:
/// Chrome applies it to the redirect that follows the form.
pub fn origin_of(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split(['/', '?', '#']).next().unwrap_or_default()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn body_of(response: HttpResponse) -> String {
        String::from_utf8(response.into_body().try_into_bytes().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn every_value_is_escaped() {
        let fields = [("state", "\"><script>alert(1)</script>".to_owned())];
        let form = SignIn {
            client: "<b>app</b>",
            scopes: "posts:read",
            fields: &fields,
            csrf: "c",
            username: "\"x",
            error: Some("<i>"),
        };
        let response = sign_in(StatusCode::OK, &form, "http://localhost:8080");
        assert_eq!(response.status(), 200);
        let csp = response.headers().get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
        assert!(
            csp.contains("form-action 'self' http://localhost:8080") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let body = body_of(response);
        assert!(!body.contains("<script>") && !body.contains("<b>app") && !body.contains("<i>"), "{body}");
        assert!(body.contains("&lt;script&gt;") || body.contains("&quot;&gt;&lt;script"), "{body}");
    }

    #[test]
    fn consent_names_the_user_and_says_what_each_scope_allows() {
        let fields = [("state", "s".to_owned())];
        let form = Consent {
            client: "gallery",
            scopes: "openid posts:read billing:charge",
            username: "<alice>",
            fields: &fields,
            csrf: "c",
        };
        let body = body_of(consent(&form, "https://gallery.example"));
        assert!(body.contains("signed in as <strong>&lt;alice&gt;</strong>"), "{body}");
        assert!(body.contains("<li>Read posts <code>posts:read</code></li>"), "{body}");
        // A scope without words of its own is still listed, as written.
        assert!(body.contains("<li>Use the permission <code>billing:charge</code></li>"), "{body}");
    }

    #[test]
    fn origins_drop_path_query_and_fragment() {
        assert_eq!(origin_of("https://app.example:8443/cb?x=1"), "https://app.example:8443");
        assert_eq!(origin_of("not a uri"), "");
    }
}
