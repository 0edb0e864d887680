//! Sign-out at the end-session endpoint (OpenID Connect RP-Initiated Logout 1.0): with an
//! ID token naming the signed-in user, at once; without one, only after the user says so
//! on a page of ours; and never to a URI the app has not registered.

use std::time::Duration;

use auth_common::clock::TestClock;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use users_service::keys::commands::{self, RotationTimes};
use users_service::testing::{APP_CLIENT, APP_REDIRECT_URI, APP_SIGNED_OUT_URI, TestUsers};

use crate::authorize::{VERIFIER, authorize_with_session, page, redeem, request, session_cookie, submit_as};
use crate::helpers::{PASSWORD, spawn_users, spawn_users_with_clock};

/// Signs `username` in through the page with `openid`; the session cookie and the ID token.
async fn signed_in(users: &TestUsers, username: &str) -> (String, String) {
    let pairs = request(&[("scope", Some("openid posts:read")), ("nonce", Some("n-1"))]);
    let (_, _, csrf, _) = page(users, &pairs).await;
    let csrf = csrf.expect("a CSRF cookie");
    let response = submit_as(users, &pairs, Some(&csrf), Some(&csrf), username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = session_cookie(&response).expect("a session cookie");
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let (status, tokens) = redeem(users, code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (session, tokens["id_token"].as_str().expect("an ID token").to_owned())
}

async fn logout_link(users: &TestUsers, query: &[(&str, &str)], cookies: &str) -> reqwest::Response {
    users.client.get(users.url("/oauth/logout")).query(query).header(COOKIE, cookies).send().await.unwrap()
}

/// Whether the browser holding `session` is still signed in (a code comes without a page).
async fn still_signed_in(users: &TestUsers, session: &str) -> bool {
    let response = authorize_with_session(users, &request(&[("prompt", Some("none"))]), session).await;
    response.headers()[LOCATION].to_str().unwrap().contains("code=")
}

fn clears_session(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("signin_session=;") && c.contains("Max-Age=0"))
}

#[tokio::test]
async fn an_app_signs_its_user_out_with_the_id_token_even_expired_and_gets_its_state_back() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |c| c.signin_session_secs = 2 * 86_400).await;
    users.register("alice").await;
    let (session, id_token) = signed_in(&users, "alice").await;
    // A day later, the ID token long expired (RP-Initiated Logout §4: still a good hint),
    // the session still live.
    clock.advance(Duration::from_secs(86_400));
    assert!(still_signed_in(&users, &session).await);
    let query =
        [("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", APP_SIGNED_OUT_URI), ("state", "s 1&x")];
    let out = logout_link(&users, &query, &format!("signin_session={session}")).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], format!("{APP_SIGNED_OUT_URI}?state=s+1%26x").as_str());
    assert!(clears_session(&out));
    assert!(!still_signed_in(&users, &session).await, "the session ended in the database, for every replica");
}

#[tokio::test]
async fn a_form_post_with_the_hint_signs_out_too_and_without_a_redirect_shows_a_page() {
    let users = spawn_users().await;
    users.register("alice").await;
    let (session, id_token) = signed_in(&users, "alice").await;
    let out = users
        .client
        .post(users.url("/oauth/logout"))
        .header(COOKIE, format!("signin_session={session}"))
        .form(&[("id_token_hint", id_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    assert!(clears_session(&out));
    assert!(out.text().await.unwrap().contains("You are signed out"));
    assert!(!still_signed_in(&users, &session).await);
}

#[tokio::test]
async fn without_a_hint_naming_the_signed_in_user_the_user_is_asked_first() {
    let users = spawn_users().await;
    users.register("alice").await;
    users.register("bob").await;
    let (session, _) = signed_in(&users, "alice").await;
    let (_, bobs_token) = signed_in(&users, "bob").await;
    let cookie = format!("signin_session={session}");
    for query in [
        vec![("client_id", APP_CLIENT), ("post_logout_redirect_uri", APP_SIGNED_OUT_URI), ("state", "bye")],
        vec![],
        vec![
            ("id_token_hint", bobs_token.as_str()),
            ("post_logout_redirect_uri", APP_SIGNED_OUT_URI),
            ("state", "bye"),
        ],
    ] {
        let asked = logout_link(&users, &query, &cookie).await;
        assert_eq!(asked.status(), StatusCode::OK, "{query:?}");
        assert!(!clears_session(&asked));
        let csp = asked.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(asked.text().await.unwrap().contains("Sign out?"), "{query:?}");
        assert!(still_signed_in(&users, &session).await, "asking ends nothing: {query:?}");
    }

    // The page's answer: its form, its CSRF cookie, the session.
    let query = [("client_id", APP_CLIENT), ("post_logout_redirect_uri", APP_SIGNED_OUT_URI), ("state", "bye")];
    let asked = logout_link(&users, &query, &cookie).await;
    let csrf = asked
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .find_map(|c| c.to_str().unwrap().strip_prefix("signin_csrf="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("a CSRF cookie");
    let body = asked.text().await.unwrap();
    assert!(body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")), "{body}");
    let confirm = |csrf_in_form: &str| {
        let mut form: Vec<(&str, &str)> = query.to_vec();
        form.push(("csrf", csrf_in_form));
        users
            .client
            .post(users.url("/oauth/logout"))
            .header(COOKIE, format!("signin_csrf={csrf}; {cookie}"))
            .form(&form)
            .send()
    };
    let forged = confirm("not-the-token").await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(still_signed_in(&users, &session).await, "a forged confirmation ends nothing");
    let confirmed = confirm(&csrf).await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(confirmed.headers()[LOCATION], format!("{APP_SIGNED_OUT_URI}?state=bye").as_str());
    assert!(!still_signed_in(&users, &session).await);
}

#[tokio::test]
async fn with_no_session_the_app_is_sent_straight_back() {
    let users = spawn_users().await;
    let query = [("client_id", APP_CLIENT), ("post_logout_redirect_uri", APP_SIGNED_OUT_URI), ("state", "bye")];
    let back = logout_link(&users, &query, "").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()[LOCATION], format!("{APP_SIGNED_OUT_URI}?state=bye").as_str());
}

#[tokio::test]
async fn bad_sign_out_requests_are_refused_on_the_page_and_end_nothing() {
    let users = spawn_users().await;
    users.register("alice").await;
    let (session, id_token) = signed_in(&users, "alice").await;
    let access = users.login_tokens("alice").await.access;
    let mut tampered = id_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let cookie = format!("signin_session={session}");
    for (query, why) in [
        (vec![("id_token_hint", tampered.as_str())], "not an ID token issued here"),
        (vec![("id_token_hint", access.as_str())], "not an ID token issued here"),
        (vec![("id_token_hint", "not.a.jwt")], "not an ID token issued here"),
        (vec![("id_token_hint", id_token.as_str()), ("client_id", "gallery")], "not the client"),
        (vec![("client_id", "nobody")], "no such client"),
        (vec![("client_id", "posts-service")], "no such client"),
        (
            vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://evil.example/")],
            "not registered",
        ),
        // The app lists its post-logout URIs: its sign-in redirect URI is not one of them.
        (vec![("client_id", APP_CLIENT), ("post_logout_redirect_uri", APP_REDIRECT_URI)], "not registered"),
        (vec![("post_logout_redirect_uri", APP_SIGNED_OUT_URI)], "needs its client"),
        (vec![("client_id", APP_CLIENT), ("client_id", APP_CLIENT)], "more than once"),
    ] {
        let refused = logout_link(&users, &query, &cookie).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query:?}");
        assert!(refused.headers().get(LOCATION).is_none() && !clears_session(&refused), "{query:?}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(why), "{query:?}: {body}");
        assert!(!body.contains(&id_token), "the hint is not echoed");
    }
    assert!(still_signed_in(&users, &session).await);
}

#[tokio::test]
async fn a_hint_signed_by_a_retired_key_counts_as_none_and_the_user_is_asked() {
    let users = spawn_users().await;
    users.register("alice").await;
    let (session, id_token) = signed_in(&users, "alice").await;
    let old_kid = jsonwebtoken::decode_header(&id_token).unwrap().kid.unwrap();
    let clock = auth_common::clock::Clock::system();
    // Nothing to outlive: the rotation retires the old key at once.
    let times = RotationTimes { publish_ahead_secs: 0, outlive_secs: 0 };
    users.with_keys(|conn, kek| commands::rotate(conn, kek, times, &clock)).unwrap();
    // The service reloads within its poll; waited for by what it publishes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while users.jwks().await.find(&old_kid).is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the retired key was still published after 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = logout_link(&users, &[("id_token_hint", &id_token)], &format!("signin_session={session}")).await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked.text().await.unwrap().contains("Sign out?"));
    assert!(still_signed_in(&users, &session).await);
}
