//! The refresh-token grant: rotation, reuse detection, binding and scope.

use std::time::Duration;

use auth_common::clock::TestClock;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    PASSWORD, SERVICE_CLIENT, TestUsers, error_of, service_account, spawn_users, spawn_users_with_clock,
};

async fn refresh(users: &TestUsers, token: &str) -> reqwest::Response {
    users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", token)], None).await
}

#[tokio::test]
async fn each_refresh_returns_a_new_token_and_the_new_access_token_works() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let response = refresh(&users, &tokens.refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let next = body["refresh_token"].as_str().unwrap();
    assert_ne!(next, tokens.refresh);
    assert_eq!(
        users.get_with_token("/users/me", body["access_token"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    assert_eq!(refresh(&users, next).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_spent_token_revokes_the_whole_family() {
    // Arrange: RT1 → RT2.
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let body: Value = refresh(&users, &tokens.refresh).await.json().await.unwrap();
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    // Act: RT1 again.
    let (status, error) = error_of(refresh(&users, &tokens.refresh).await).await;
    // Assert: refused, and RT2 is dead too.
    assert_eq!((status, error.error.as_str()), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(error_of(refresh(&users, &second).await).await.1.error, "invalid_grant");
}

#[tokio::test]
async fn concurrent_uses_of_one_token_succeed_exactly_once() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let attempts = (0..10).map(|_| refresh(&users, &tokens.refresh));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST), "{statuses:?}");
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let wider = users
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh), ("scope", "posts:read admin:all")],
            None,
        )
        .await;
    assert_eq!(error_of(wider).await.1.error, "invalid_scope");
    let narrower = users
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh), ("scope", "posts:read")],
            None,
        )
        .await;
    assert_eq!(narrower.status(), StatusCode::OK, "the refused widening must not have spent the token");
    let body: Value = narrower.json().await.unwrap();
    assert_eq!(body["scope"], "posts:read");
    let claims = users.verify_independently(body["access_token"].as_str().unwrap(), "posts-service").await.unwrap();
    assert_eq!(claims["aud"], serde_json::json!(["posts-service"]));
}

#[tokio::test]
async fn a_users_refresh_token_is_refused_to_another_client_without_being_spent() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let by_service = users
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)], Some(SERVICE_CLIENT))
        .await;
    assert_eq!(error_of(by_service).await.1.error, "invalid_grant");
    let wrong_secret = users
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)],
            Some(("posts-service", "nope")),
        )
        .await;
    assert_eq!(error_of(wrong_secret).await.1.error, "invalid_client");
    let as_login = users
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh), ("client_id", "login")],
            None,
        )
        .await;
    assert_eq!(as_login.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_that_are_not_refresh_tokens_are_invalid_grants() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    for (case, token) in [("an access token", tokens.access.as_str()), ("garbage", "garbage"), ("empty-looking", "=")] {
        let (status, body) = error_of(refresh(&users, token).await).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::BAD_REQUEST, "invalid_grant"), "case {case}");
    }
    let missing = users.token_request(&[("grant_type", "refresh_token")], None).await;
    assert_eq!(error_of(missing).await.1.error, "invalid_request");
    let as_bearer = users.get_with_token("/users/me", &tokens.refresh).await;
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refresh_token_expires_with_its_family() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |c| c.refresh_token_ttl_secs = 1).await;
    let tokens = users.user_tokens("alice").await;
    clock.advance(Duration::from_millis(1100));
    let (_, body) = error_of(refresh(&users, &tokens.refresh).await).await;
    assert_eq!(body.error, "invalid_grant");
    assert!(body.error_description.contains("expired"), "{}", body.error_description);
}

#[tokio::test]
async fn a_refresh_token_left_unused_past_the_idle_limit_is_refused_while_use_keeps_a_family_alive() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |c| c.refresh_token_idle_secs = 3).await;
    let mut current = users.user_tokens("alice").await.refresh;
    // Used within the idle limit, again and again: past the limit in all, still alive.
    for _ in 0..3 {
        clock.advance(Duration::from_millis(1200));
        let response = refresh(&users, &current).await;
        assert_eq!(response.status(), StatusCode::OK);
        current = response.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();
    }
    clock.advance(Duration::from_millis(3100));
    let (_, body) = error_of(refresh(&users, &current).await).await;
    assert_eq!(body.error, "invalid_grant");
    assert!(body.error_description.contains("unused"), "{}", body.error_description);
}

/// A confidential client's refresh token, through the sign-in page and its code.
async fn confidential_refresh_token(users: &TestUsers, (id, secret): (&str, &str), redirect_uri: &str) -> String {
    use crate::authorize::{VERIFIER, page, request, submit};
    let pairs =
        request(&[("client_id", Some(id)), ("redirect_uri", Some(redirect_uri)), ("scope", Some("posts:read"))]);
    let (status, _, csrf, _) = page(users, &pairs).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf.expect("a CSRF cookie");
    let signed_in = submit(users, &pairs, Some(&csrf), Some(&csrf), PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let location = signed_in.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let redeemed = users
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", VERIFIER),
            ],
            Some((id, secret)),
        )
        .await;
    assert_eq!(redeemed.status(), StatusCode::OK);
    let body: Value = redeemed.json().await.unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_needs_its_client_authentication() {
    const CLIENT: (&str, &str) = ("web-app", "web-app-secret-for-tests");
    const REDIRECT: &str = "https://web-app.example/callback";
    let users = crate::helpers::spawn_users_with(|config| {
        let mut client = service_account(CLIENT, "posts:read");
        client.redirect_uris = vec![REDIRECT.to_owned()];
        config.oauth_clients.push(client);
    })
    .await;
    assert_eq!(users.register("alice").await.status(), StatusCode::CREATED);
    let token = confidential_refresh_token(&users, CLIENT, REDIRECT).await;

    // RFC 6749 §6: no client authentication, or the client's id without its secret: refused.
    let anonymous = refresh(&users, &token).await;
    let (status, error) = error_of(anonymous).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_client"));
    let named = users
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", CLIENT.0)], None)
        .await;
    assert_eq!(error_of(named).await.1.error, "invalid_client");
    // Neither spent the token: with the secret, it refreshes.
    let authenticated =
        users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", &token)], Some(CLIENT)).await;
    assert_eq!(authenticated.status(), StatusCode::OK);
    let next: Value = authenticated.json().await.unwrap();
    let next = next["refresh_token"].as_str().unwrap();

    // Revocation likewise (RFC 7009 §2.1): named without the secret, 401; unnamed, 200 but
    // nothing revoked; with the secret, revoked.
    let named = users.form("/oauth/revoke", &[("token", next), ("client_id", CLIENT.0)], None).await;
    assert_eq!(error_of(named).await.1.error, "invalid_client");
    assert_eq!(users.form("/oauth/revoke", &[("token", next)], None).await.status(), StatusCode::OK);
    let probe = users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", next)], Some(CLIENT)).await;
    assert_eq!(probe.status(), StatusCode::OK, "an unauthenticated revocation revoked nothing");
    let last: Value = probe.json().await.unwrap();
    let last = last["refresh_token"].as_str().unwrap();
    assert_eq!(users.form("/oauth/revoke", &[("token", last)], Some(CLIENT)).await.status(), StatusCode::OK);
    let revoked = users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", last)], Some(CLIENT)).await;
    assert_eq!(error_of(revoked).await.1.error, "invalid_grant");
}
