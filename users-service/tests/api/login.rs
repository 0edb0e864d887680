//! Logging in, and the access token it returns.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, error_of, spawn_users, spawn_users_with};

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

#[tokio::test]
async fn login_returns_a_token_response_that_is_never_cached() {
    let users = spawn_users().await;
    users.register("alice").await;
    let response = users.login("alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "posts:read posts:write users:read");
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
}

#[tokio::test]
async fn the_access_token_verifies_against_the_published_jwks_with_every_claim() {
    // Arrange
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    // Act: verify as an outside client would, for each audience.
    let claims = users.verify_independently(&tokens.access, "posts-service").await.expect("verifies for posts-service");
    users.verify_independently(&tokens.access, "users-service").await.expect("verifies for users-service");
    // Assert
    let header = header_of(&tokens.access);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], users.jwks().await.keys[0].common.key_id.clone().unwrap());
    assert_eq!(claims["iss"], users.address.as_str());
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["client_id"], "login");
    assert_eq!(claims["aud"], serde_json::json!(["posts-service", "users-service"]));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert_eq!(claims["nbf"], claims["iat"]);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(claims.get("email").is_none() && claims.get("password").is_none());
}

#[tokio::test]
async fn every_bad_pair_gets_the_same_answer() {
    let users = spawn_users().await;
    users.register("alice").await;
    let mut answers = Vec::new();
    for (case, username, password) in [
        ("wrong password", "alice", "wrong password here"),
        ("unknown user", "nobody", PASSWORD),
        ("invalid username", "no such user!", PASSWORD),
        ("password case swapped", "alice", "CORRECT HORSE BATTERY"),
        ("oversize password", "alice", &"x".repeat(4096)),
    ] {
        let response = users.login(username, password).await;
        let headers: Vec<String> = ["content-type", "cache-control", "www-authenticate"]
            .iter()
            .map(|h| format!("{h}={:?}", response.headers().get(*h)))
            .collect();
        let (status, body) = error_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "case {case}");
        answers.push((case, headers, body));
    }
    for (case, headers, body) in &answers[1..] {
        assert_eq!((headers, body), (&answers[0].1, &answers[0].2), "case {case} differs from a wrong password");
    }
}

#[tokio::test]
async fn a_username_logs_in_whatever_its_case() {
    let users = spawn_users().await;
    users.register("alice").await;
    assert_eq!(users.login("Alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_lock_that_account_from_that_address_only() {
    // Arrange
    let users = spawn_users().await;
    users.register("alice").await;
    users.register("bob").await;
    // Act: five wrong passwords, then the right one.
    for attempt in 1..=5 {
        assert_eq!(
            users.login("alice", "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let locked = users.login("alice", PASSWORD).await;
    // Assert: refused even with the right password, with a delay and the error shape.
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let (status, body) = error_of(locked).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(users.login("bob", PASSWORD).await.status(), StatusCode::OK, "another account is not affected");
}

#[tokio::test]
async fn a_success_resets_the_count() {
    let users = spawn_users().await;
    users.register("alice").await;
    for _ in 0..4 {
        users.login("alice", "wrong password!").await;
    }
    assert_eq!(users.login("alice", PASSWORD).await.status(), StatusCode::OK);
    for _ in 0..4 {
        assert_eq!(users.login("alice", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(users.login("alice", PASSWORD).await.status(), StatusCode::OK, "four new failures do not lock");
}

#[tokio::test]
async fn behind_a_trusted_gateway_the_forwarded_address_counts() {
    let users = spawn_users_with(|c| c.trust_forwarded_for = true).await;
    users.register("alice").await;
    let login_from = |ip: &'static str, password: &'static str| {
        users
            .client
            .post(users.url("/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
            .json(&serde_json::json!({"username": "alice", "password": password}))
            .send()
    };
    for _ in 0..5 {
        login_from("198.51.100.7", "wrong password!").await.unwrap();
    }
    assert_eq!(login_from("198.51.100.7", PASSWORD).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        login_from("198.51.100.8", PASSWORD).await.unwrap().status(),
        StatusCode::OK,
        "another address is not locked out"
    );
}
