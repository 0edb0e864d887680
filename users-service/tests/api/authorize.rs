//! The authorization code grant with PKCE, as a browser and an app would drive it: the
//! sign-in page, the form with its CSRF cookie, the redirect with the code, the token
//! request with the verifier.

use auth_common::clock::TestClock;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use users_service::testing::{APP_CLIENT, APP_REDIRECT_URI, TestUsers};

use crate::helpers::{PASSWORD, spawn_users, spawn_users_with_clock};

/// RFC 7636 appendix B.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn request(changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", APP_CLIENT),
        ("redirect_uri", APP_REDIRECT_URI),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "s-123"),
        ("scope", "posts:read users:read"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in changes {
        pairs.retain(|(k, _)| k != name);
        if let Some(v) = value {
            pairs.push((name.to_string(), v.to_string()));
        }
    }
    pairs
}

/// The sign-in page for `pairs`: its status, body and CSRF cookie.
pub(crate) async fn page(
    users: &TestUsers,
    pairs: &[(String, String)],
) -> (StatusCode, String, Option<String>, Option<String>) {
    let response = users.client.get(users.url("/oauth/authorize")).query(pairs).send().await.unwrap();
    let status = response.status();
    let location = response.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let csrf = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("signin_csrf="))
        .map(|c| c.split(';').next().unwrap().to_owned());
    (status, response.text().await.unwrap_or_default(), csrf, location)
}

/// Posts the form as the page would; the response.
pub(crate) async fn submit(
    users: &TestUsers,
    pairs: &[(String, String)],
    csrf: Option<&str>,
    cookie: Option<&str>,
    password: &str,
) -> reqwest::Response {
    submit_as(users, pairs, csrf, cookie, "alice", password).await
}

/// The same, for `username`.
pub(crate) async fn submit_as(
    users: &TestUsers,
    pairs: &[(String, String)],
    csrf: Option<&str>,
    cookie: Option<&str>,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let mut form = pairs.to_vec();
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    if let Some(csrf) = csrf {
        form.push(("csrf".into(), csrf.into()));
    }
    let mut post = users.client.post(users.url("/oauth/authorize")).form(&form);
    if let Some(cookie) = cookie {
        post = post.header(COOKIE, format!("signin_csrf={cookie}"));
    }
    post.send().await.unwrap()
}

/// Signs alice in through the page; the code from the redirect.
async fn code_for_alice(users: &TestUsers) -> String {
    code_for_alice_with(users, &[]).await
}

/// The same, with the request changed by `changes`.
pub(crate) async fn code_for_alice_with(users: &TestUsers, changes: &[(&str, Option<&str>)]) -> String {
    let pairs = request(changes);
    let (status, body, csrf, _) = page(users, &pairs).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let csrf = csrf.expect("a CSRF cookie");
    let response = submit(users, &pairs, Some(&csrf), Some(&csrf), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{APP_REDIRECT_URI}?code=")), "{location}");
    assert!(location.ends_with("&state=s-123"), "the state comes back unchanged: {location}");
    let iss = serde_urlencoded::to_string([("iss", users.address.as_str())]).unwrap();
    assert!(location.contains(&format!("&{iss}&")), "the issuer is named (RFC 9207): {location}");
    location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

pub(crate) async fn redeem(users: &TestUsers, code: &str, verifier: &str) -> (StatusCode, Value) {
    let response = users
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", APP_REDIRECT_URI),
                ("client_id", APP_CLIENT),
                ("code_verifier", verifier),
            ],
            None,
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_user_signs_in_through_the_page_and_the_app_redeems_the_code_once() {
    let users = spawn_users().await;
    users.register("alice").await;
    let code = code_for_alice(&users).await;

    let (status, tokens) = redeem(&users, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "posts:read users:read");
    let access = tokens["access_token"].as_str().unwrap();
    let claims = users.verify_independently(access, "users-service").await.unwrap();
    assert_eq!(claims["client_id"], APP_CLIENT, "the token names the app it was issued to");
    assert_eq!(users.get_with_token("/users/me", access).await.status(), StatusCode::OK);
    // Its refresh token rotates as the login's do, for the public app.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = users
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", APP_CLIENT)], None)
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let next: Value = refreshed.json().await.unwrap();

    // The code again: refused, and the tokens issued from it are revoked.
    let (status, body) = redeem(&users, &code, VERIFIER).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let after = users
        .token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", next["refresh_token"].as_str().unwrap()),
                ("client_id", APP_CLIENT),
            ],
            None,
        )
        .await;
    assert_eq!(after.status(), StatusCode::BAD_REQUEST, "the family of a reused code is revoked");
}

#[tokio::test]
async fn a_code_needs_its_verifier_its_redirect_uri_and_its_client() {
    let users = spawn_users().await;
    users.register("alice").await;
    let code = code_for_alice(&users).await;
    let (status, body) = redeem(&users, &code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");
    let wrong_redirect = users
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:9/other"),
                ("client_id", APP_CLIENT),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
        .await;
    assert_eq!(wrong_redirect.status(), StatusCode::BAD_REQUEST);
    let other_client = users
        .token_request(
            &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER)],
            Some(users_service::testing::SERVICE_CLIENT),
        )
        .await;
    assert_eq!(other_client.status(), StatusCode::BAD_REQUEST, "a code is bound to its client");
    // None of these spent it.
    assert_eq!(redeem(&users, &code, VERIFIER).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_code_lives_sixty_seconds() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |_| {}).await;
    users.register("alice").await;
    let code = code_for_alice(&users).await;
    clock.advance(std::time::Duration::from_secs(61));
    let (status, body) = redeem(&users, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error_description"].as_str().unwrap().contains("expired"), "{body}");
}

#[tokio::test]
async fn an_untrusted_client_or_redirect_uri_is_refused_on_the_page_never_redirected() {
    let users = spawn_users().await;
    for changes in [
        vec![("client_id", Some("nobody"))],
        vec![("client_id", Some(users_service::testing::SERVICE_CLIENT.0))],
        vec![("redirect_uri", Some("https://evil.example/callback"))],
        vec![("redirect_uri", None)],
    ] {
        let (status, body, _, location) = page(&users, &request(&changes)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{changes:?}");
        assert!(location.is_none(), "{changes:?}: never a redirect");
        assert!(body.contains("cannot go on"), "{changes:?}: {body}");
    }
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_trusted_go_back_with_the_state() {
    let users = spawn_users().await;
    for (changes, error) in [
        (vec![("code_challenge_method", Some("plain"))], "invalid_request"),
        (vec![("code_challenge", None)], "invalid_request"),
        (vec![("response_type", Some("token"))], "unsupported_response_type"),
        (vec![("scope", Some("admin:all"))], "invalid_scope"),
    ] {
        let (status, _, _, location) = page(&users, &request(&changes)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{changes:?}");
        let location = location.unwrap();
        assert!(location.starts_with(&format!("{APP_REDIRECT_URI}?error={error}&")), "{location}");
        assert!(location.ends_with("&state=s-123"), "{location}");
    }
}

#[tokio::test]
async fn the_form_is_refused_without_its_cookie_and_a_wrong_password_shows_the_form_again() {
    let users = spawn_users().await;
    users.register("alice").await;
    let pairs = request(&[]);
    let (_, body, csrf, _) = page(&users, &pairs).await;
    let csrf = csrf.unwrap();
    assert!(body.contains("name=\"csrf\"") && body.contains("autocomplete=\"current-password\""));
    for (field, cookie) in
        [(Some(csrf.as_str()), None), (None, Some(csrf.as_str())), (Some("forged"), Some(csrf.as_str()))]
    {
        let response = submit(&users, &pairs, field, cookie, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "field {field:?}, cookie {cookie:?}");
        assert!(response.headers().get(LOCATION).is_none());
    }
    let wrong = submit(&users, &pairs, Some(&csrf), Some(&csrf), "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let csp = wrong.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(wrong.headers()["cache-control"], "no-store");
    assert!(wrong.text().await.unwrap().contains("Wrong username or password."));
}

#[tokio::test]
async fn with_openid_the_app_gets_an_id_token_and_userinfo_answers() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let users = spawn_users().await;
    users.register("alice").await;
    let code = code_for_alice_with(
        &users,
        &[("scope", Some("openid profile email posts:read")), ("nonce", Some("n-0S6_WzA2Mj"))],
    )
    .await;
    let (status, tokens) = redeem(&users, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    let access = tokens["access_token"].as_str().unwrap();

    // Verified as a relying party would: the JWKS, RS256, aud = the client id.
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let jwks = users.jwks().await;
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("signed by a published key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&users.address]);
    validation.set_audience(&[APP_CLIENT]);
    let claims =
        jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap().claims;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["azp"], APP_CLIENT);
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    let now = chrono::Utc::now().timestamp();
    assert!((now - claims["auth_time"].as_i64().unwrap()).abs() < 60);
    let digest = auth_common::token::sha256::digest(access.as_bytes());
    use base64::Engine;
    let at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(claims["at_hash"], at_hash.as_str());

    // An ID token is not an access token.
    assert_eq!(users.get_with_token("/users/me", id_token).await.status(), StatusCode::UNAUTHORIZED);

    let info = users.get_with_token("/userinfo", access).await;
    assert_eq!(info.status(), StatusCode::OK);
    assert_eq!(info.headers()["cache-control"], "no-store");
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(
        (info["preferred_username"].as_str(), info["email"].as_str()),
        (Some("alice"), Some("alice@example.com"))
    );

    // Without openid (a token for users-service still): no ID token, and userinfo says why.
    let plain = code_for_alice_with(&users, &[("scope", Some("users:read"))]).await;
    let (_, tokens) = redeem(&users, &plain, VERIFIER).await;
    assert!(tokens.get("id_token").is_none());
    let refused = users.get_with_token("/userinfo", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// The `signin_session` cookie a response sets, if any.
pub(crate) fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("signin_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .filter(|v| !v.is_empty())
}

/// Signs alice in for `pairs`; the response to the form and the session cookie.
pub(crate) async fn sign_in(users: &TestUsers, pairs: &[(String, String)]) -> (reqwest::Response, String) {
    let (_, _, csrf, _) = page(users, pairs).await;
    let csrf = csrf.unwrap();
    let response = submit(users, pairs, Some(&csrf), Some(&csrf), PASSWORD).await;
    let session = session_cookie(&response).expect("a session cookie");
    (response, session)
}

pub(crate) async fn authorize_with_session(
    users: &TestUsers,
    pairs: &[(String, String)],
    session: &str,
) -> reqwest::Response {
    users
        .client
        .get(users.url("/oauth/authorize"))
        .query(pairs)
        .header(COOKIE, format!("signin_session={session}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_second_sign_in_in_the_same_browser_needs_no_password_until_sign_out() {
    let users = spawn_users().await;
    users.register("alice").await;
    let pairs = request(&[]);
    let (first, session) = sign_in(&users, &pairs).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let set = first.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let cookie = set.iter().find(|c| c.starts_with("signin_session=")).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/oauth"),
        "{cookie}"
    );

    // Again, with the cookie: straight back with a code that redeems.
    let again = authorize_with_session(&users, &pairs, &session).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let location = again.headers()[LOCATION].to_str().unwrap().to_owned();
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    assert_eq!(redeem(&users, &code, VERIFIER).await.0, StatusCode::OK);
    // prompt=login asks for the password whatever the browser holds.
    let forced = authorize_with_session(&users, &request(&[("prompt", Some("login"))]), &session).await;
    assert_eq!(forced.status(), StatusCode::OK);

    // Signing out ends it: see logout.rs.
}

#[tokio::test]
async fn a_third_party_client_gets_a_code_only_after_the_user_consents() {
    use users_service::testing::{THIRD_PARTY_CLIENT, THIRD_PARTY_REDIRECT_URI};
    let users = spawn_users().await;
    users.register("alice").await;
    let pairs = request(&[
        ("client_id", Some(THIRD_PARTY_CLIENT)),
        ("redirect_uri", Some(THIRD_PARTY_REDIRECT_URI)),
        ("scope", Some("openid posts:read")),
    ]);
    let (_, _, csrf, _) = page(&users, &pairs).await;
    let csrf = csrf.unwrap();
    let signed_in = submit(&users, &pairs, Some(&csrf), Some(&csrf), PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK, "the consent page, not a code");
    let session = session_cookie(&signed_in).unwrap();
    let body = signed_in.text().await.unwrap();
    // Whose account, and what each scope lets the client do, in words.
    assert!(body.contains("Allow gallery access?") && body.contains("signed in as <strong>alice</strong>"), "{body}");
    assert!(body.contains("<li>Read posts <code>posts:read</code></li>"), "{body}");
    assert!(body.contains("<li>Know who you are: your account id <code>openid</code></li>"), "{body}");

    let decide = |decision: &'static str, session: Option<String>| {
        let mut form = pairs.clone();
        form.push(("csrf".into(), csrf.clone()));
        form.push(("decision".into(), decision.into()));
        let mut cookies = format!("signin_csrf={csrf}");
        if let Some(s) = session {
            cookies.push_str(&format!("; signin_session={s}"));
        }
        users.client.post(users.url("/oauth/consent")).header(COOKIE, cookies).form(&form).send()
    };
    let no_session = decide("allow", None).await.unwrap();
    assert_eq!(no_session.status(), StatusCode::FORBIDDEN, "consent needs the signed-in session");
    let denied = decide("deny", Some(session.clone())).await.unwrap();
    assert!(
        denied.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with(&format!("{THIRD_PARTY_REDIRECT_URI}?error=access_denied"))
    );
    let allowed = decide("allow", Some(session)).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    assert!(allowed.headers()[LOCATION].to_str().unwrap().starts_with(&format!("{THIRD_PARTY_REDIRECT_URI}?code=")));
}
