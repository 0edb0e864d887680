//! posts-service verifies every token itself, and refuses before it calls anyone.

use auth_common::testing::hostile_tokens::hostile_tokens;
use auth_common::testing::user_claims;
use jsonwebtoken::Header;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{USERS_ONLY_CLIENT, challenge, error_of, spawn_system};

#[tokio::test]
async fn forged_and_invalid_tokens_are_refused_with_invalid_token_and_no_upstream_call() {
    // Arrange: tokens signed with the real key where a valid signature matters.
    let system = spawn_system().await;
    let real = system.signing_key();
    let valid = user_claims(&system.issuer);
    let real_token = real.sign(&valid).unwrap();
    let mut cases: Vec<(&str, String)> =
        hostile_tokens(&real, &serde_json::to_value(&valid).unwrap()).into_iter().map(|t| (t.name, t.token)).collect();
    // A jku pointing at users-service itself: still not where keys come from.
    let jku = Header { jku: Some(format!("{}/jwks", system.users_address)), ..real.access_token_header() };
    cases.push(("jku header", real.sign_with_header(&jku, &valid).unwrap()));
    system.proxy.clear();
    for (case, token) in cases {
        // Act
        let response = system.get("/posts", &token).await;
        // Assert
        assert!(
            challenge(&response).is_some_and(|c| c.starts_with("Bearer error=\"invalid_token\"")),
            "case {case}: {:?}",
            challenge(&response)
        );
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"), "case {case}");
    }
    assert!(system.proxy.recorded_to("/users").is_empty(), "a refused request must not reach users-service");
    assert!(system.proxy.recorded_to("/oauth").is_empty(), "and must never fall back to the service token");
    // Sanity: the same claims, correctly signed, pass.
    assert_eq!(system.get("/posts", &real_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_missing_token_is_401_without_an_error_code() {
    let system = spawn_system().await;
    system.proxy.clear();
    let response = system.client.get(system.posts("/posts")).send().await.unwrap();
    assert_eq!(challenge(&response).as_deref(), Some("Bearer"));
    assert_eq!(error_of(response).await.0, StatusCode::UNAUTHORIZED);
    let query_token = system.client.get(system.posts("/posts?access_token=x.y.z")).send().await.unwrap();
    assert_eq!(query_token.status(), StatusCode::UNAUTHORIZED);
    assert!(system.proxy.recorded().is_empty());
}

#[tokio::test]
async fn a_service_token_for_users_service_only_is_refused_here() {
    let system = spawn_system().await;
    let token = system.service_token(USERS_ONLY_CLIENT, Some("users:read")).await;
    let response = system.get("/posts", &token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&response).unwrap().contains("invalid_token"));
    let body = json!(error_of(response).await.1.error_description);
    assert!(body.as_str().unwrap().contains("not meant for this service"), "{body}");
}

#[tokio::test]
async fn an_oversize_token_is_refused_before_any_work() {
    let system = spawn_system().await;
    let huge = format!("{}.{}.{}", "a".repeat(10), "b".repeat(9000), "c");
    let (status, body) = error_of(system.get("/posts", &huge).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"));
}
