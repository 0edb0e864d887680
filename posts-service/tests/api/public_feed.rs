//! The public feed uses posts-service's own token; nothing else ever does.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_system;
use crate::proxy::Fault;

#[tokio::test]
async fn the_public_feed_fills_authors_with_the_service_token_fetched_once() {
    // Arrange
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "public hello").await;
    system.proxy.clear();
    // Act: two anonymous reads.
    let first: Value = system.client.get(system.posts("/public/posts")).send().await.unwrap().json().await.unwrap();
    let second = system.client.get(system.posts("/public/posts")).send().await.unwrap();
    // Assert
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(first["posts"][0]["author"]["username"], "alice");
    assert_eq!(system.proxy.recorded_to("/oauth/token").len(), 1, "the service token is cached");
    let lookups = system.proxy.recorded_to("/users");
    assert_eq!(lookups.len(), 2);
    let service_header = lookups[0].authorization.clone().unwrap();
    assert_eq!(lookups[1].authorization.as_ref(), Some(&service_header));
    assert_ne!(service_header, format!("Bearer {}", alice.token));
    let claims =
        jsonwebtoken::dangerous::insecure_decode_claims::<Value>(service_header.trim_start_matches("Bearer ")).unwrap();
    assert_eq!((claims["sub"].as_str(), claims["scope"].as_str()), (Some("posts-service"), Some("users:read")));
}

#[tokio::test]
async fn a_refused_service_token_is_replaced_once() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "public hello").await;
    system.client.get(system.posts("/public/posts")).send().await.unwrap();
    system.proxy.clear();
    // users-service refuses the cached token once (say, its key was retired).
    system.proxy.inject("/users", Fault::Status(401));
    let response = system.client.get(system.posts("/public/posts")).send().await.unwrap();
    assert_eq!(response.headers()["x-users-service-calls"], "3", "lookup, new token, lookup again");
    let degraded: Value = response.json().await.unwrap();
    assert_eq!(degraded["degraded"], true);
    assert_eq!(system.proxy.recorded_to("/oauth/token").len(), 1, "one new token, then one retry");
    assert_eq!(system.proxy.recorded_to("/users").len(), 2);
    system.proxy.heal();
    let healthy: Value = system.client.get(system.posts("/public/posts")).send().await.unwrap().json().await.unwrap();
    assert_eq!(healthy["posts"][0]["author"]["username"], "alice");
}

#[tokio::test]
async fn a_request_whose_token_is_refused_never_falls_back_to_the_service_token() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "hello").await;
    system.proxy.clear();
    for token in ["garbage", "a.b.c"] {
        assert_eq!(system.get("/posts", token).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            system.get("/public/posts", token).await.status(),
            StatusCode::OK,
            "the public feed ignores credentials"
        );
    }
    let oauth_calls = system.proxy.recorded_to("/oauth/token").len();
    let user_calls_with_service_token = system.proxy.recorded_to("/users").len();
    // Only the two public reads may have used the service token.
    assert!(oauth_calls <= 1 && user_calls_with_service_token == 2, "{:?}", system.proxy.recorded());
}
