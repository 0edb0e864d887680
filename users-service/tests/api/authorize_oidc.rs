//! The OpenID Connect parameters of the authorization request (Core §3.1.2.1): `prompt`
//! as a set, `max_age`, a request POSTed instead of linked, what is not supported said so;
//! and the endpoints OpenID Connect asks more of (`POST /userinfo`).

use std::time::Duration;

use auth_common::clock::TestClock;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use users_service::testing::{THIRD_PARTY_CLIENT, THIRD_PARTY_REDIRECT_URI, TestUsers};

use crate::authorize::{VERIFIER, authorize_with_session, page, redeem, request, sign_in};
use crate::helpers::{spawn_users, spawn_users_with_clock};

/// Where the answer to `pairs` went, for a browser holding `session`: `code`, an error
/// name, or `page` (the sign-in or consent page).
async fn outcome(users: &TestUsers, pairs: &[(String, String)], session: &str) -> String {
    let response = authorize_with_session(users, pairs, session).await;
    match response.headers().get(LOCATION) {
        None => format!("page {}", response.status().as_u16()),
        Some(location) => {
            let location = location.to_str().unwrap();
            let query: Vec<(String, String)> = serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
            let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            get("error").or(get("code").map(|_| "code".to_owned())).unwrap()
        }
    }
}

#[tokio::test]
async fn prompt_is_a_set_and_none_stands_alone() {
    let users = spawn_users().await;
    users.register("alice").await;
    let (_, session) = sign_in(&users, &request(&[])).await;
    for (prompt, expected) in [
        ("login consent", "page 200"),
        ("consent", "page 200"),
        ("select_account", "code"),
        ("none", "code"),
        ("none login", "invalid_request"),
        ("none consent", "invalid_request"),
        ("sometimes", "invalid_request"),
    ] {
        let got = outcome(&users, &request(&[("prompt", Some(prompt))]), &session).await;
        assert_eq!(got, expected, "prompt={prompt}");
    }
    // A third party's client needs consent, which needs a page: prompt=none cannot have one.
    let third = request(&[
        ("client_id", Some(THIRD_PARTY_CLIENT)),
        ("redirect_uri", Some(THIRD_PARTY_REDIRECT_URI)),
        ("scope", Some("posts:read")),
        ("prompt", Some("none")),
    ]);
    assert_eq!(outcome(&users, &third, &session).await, "consent_required");
}

#[tokio::test]
async fn max_age_asks_for_the_password_once_the_sign_in_is_older() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |_| {}).await;
    users.register("alice").await;
    let (_, session) = sign_in(&users, &request(&[])).await;
    clock.advance(Duration::from_secs(120));
    let with = |max_age: &str, prompt: Option<&str>| {
        let mut changes = vec![("max_age", Some(max_age))];
        changes.push(("prompt", prompt));
        request(&changes)
    };
    assert_eq!(outcome(&users, &with("300", None), &session).await, "code");
    assert_eq!(outcome(&users, &with("60", None), &session).await, "page 200", "the password again");
    assert_eq!(outcome(&users, &with("0", Some("none")), &session).await, "login_required");
    assert_eq!(outcome(&users, &with("soon", None), &session).await, "invalid_request");

    // The ID token's auth_time says when the password was typed, so the app can check.
    let scoped = request(&[("scope", Some("openid posts:read")), ("max_age", Some("300"))]);
    let response = authorize_with_session(&users, &scoped, &session).await;
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let (_, tokens) = redeem(&users, code, VERIFIER).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let now = clock.clock().unix_now();
    assert_eq!(now - claims["auth_time"].as_i64().unwrap(), 120);
}

#[tokio::test]
async fn what_is_not_supported_is_said_and_a_posted_request_is_taken() {
    let users = spawn_users().await;
    users.register("alice").await;
    for (changes, expected) in [
        (vec![("request", Some("eyJhbGciOiJub25lIn0.e30."))], "request_not_supported"),
        (vec![("request_uri", Some("https://app.example/r/1"))], "request_uri_not_supported"),
        (vec![("response_mode", Some("fragment"))], "invalid_request"),
        (vec![("response_mode", Some("form_post"))], "invalid_request"),
    ] {
        assert_eq!(outcome(&users, &request(&changes), "none").await, expected, "{changes:?}");
    }
    assert_eq!(outcome(&users, &request(&[("response_mode", Some("query"))]), "none").await, "page 200");
    // A state too long to carry through the form is refused before anything is shown.
    let long = "s".repeat(2049);
    let (status, body, _, location) = page(&users, &request(&[("state", Some(&long))])).await;
    assert_eq!((status, location), (StatusCode::BAD_REQUEST, None));
    assert!(body.contains("state is longer than 2048 bytes"), "{body}");

    // The request POSTed, as OpenID Connect allows: the sign-in page, as for a GET.
    let posted = users.client.post(users.url("/oauth/authorize")).form(&request(&[])).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    assert!(posted.text().await.unwrap().contains("<h1>Sign in</h1>"));
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_whatever_cookie_it_carries() {
    let users = spawn_users().await;
    users.register("alice").await;
    let pairs = request(&[]);
    // A token of the attacker's own making, planted as the cookie (a sibling subdomain can).
    let mut form = pairs.clone();
    form.extend(
        [("csrf", "planted"), ("username", "alice"), ("password", crate::helpers::PASSWORD)]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let post = |site: &'static str| {
        users
            .client
            .post(users.url("/oauth/authorize"))
            .header(COOKIE, "signin_csrf=planted")
            .header("Sec-Fetch-Site", site)
            .form(&form)
            .send()
    };
    for site in ["cross-site", "same-site"] {
        assert_eq!(post(site).await.unwrap().status(), StatusCode::FORBIDDEN, "Sec-Fetch-Site: {site}");
    }
    assert_eq!(post("same-origin").await.unwrap().status(), StatusCode::SEE_OTHER, "our own page's post");
}

#[tokio::test]
async fn userinfo_answers_a_post_as_it_answers_a_get() {
    let users = spawn_users().await;
    users.register("alice").await;
    let code = crate::authorize::code_for_alice_with(&users, &[("scope", Some("openid profile"))]).await;
    let (_, tokens) = redeem(&users, &code, VERIFIER).await;
    let access = tokens["access_token"].as_str().unwrap();
    let posted = users.client.post(users.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let claims: serde_json::Value = posted.json().await.unwrap();
    assert_eq!(claims["preferred_username"], "alice");
    let anonymous = users.client.post(users.url("/userinfo")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_form_that_cannot_be_read_gets_a_page_not_json() {
    let users = spawn_users().await;
    for path in ["/oauth/authorize", "/oauth/consent", "/oauth/logout"] {
        let json = users.client.post(users.url(path)).json(&serde_json::json!({"username": "alice"})).send();
        let huge = users.client.post(users.url(path)).form(&[("state", "s".repeat(40_000))]).send();
        for (response, status) in [(json.await.unwrap(), 415), (huge.await.unwrap(), 413)] {
            let got = response.status().as_u16();
            assert!(got == status || (status == 415 && got == 400), "{path}: {got}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
            assert!(response.text().await.unwrap().contains("the form"), "{path}");
        }
    }
}
