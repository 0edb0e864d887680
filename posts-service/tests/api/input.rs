//! Bad input: the right status, the JSON error shape, nothing written.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_system};

#[tokio::test]
async fn invalid_posts_are_refused_and_nothing_is_written() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let cases = [
        ("empty title", json!({"title": "", "content": "c"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("blank title", json!({"title": "   ", "content": "c"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("long title", json!({"title": "t".repeat(201), "content": "c"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("NUL in title", json!({"title": "a\u{0}b", "content": "c"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("empty content", json!({"title": "t", "content": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        ("long content", json!({"title": "t", "content": "c".repeat(10_001)}), StatusCode::UNPROCESSABLE_ENTITY),
        ("missing content", json!({"title": "t"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("title not a string", json!({"title": 5, "content": "c"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("oversize body", json!({"title": "t", "content": "c".repeat(70_000)}), StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (case, body, expected) in cases {
        let (status, error) = error_of(system.send_post(&alice.token, &body).await).await;
        assert_eq!(status, expected, "case {case}: {error:?}");
    }
    let broken = system
        .client
        .post(system.posts("/posts"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(broken).await.0, StatusCode::BAD_REQUEST);
    let page: Value = system.get("/posts", &alice.token).await.json().await.unwrap();
    assert_eq!(page["posts"], json!([]), "nothing was written");
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    for query in
        ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "cursor=YmVmb3JlOi0x", "user_id=-3", "user_id=x"]
    {
        let (status, body) = error_of(system.get(&format!("/posts?{query}"), &alice.token).await).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::BAD_REQUEST, "invalid_request"), "{query}");
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_error_shape() {
    let system = spawn_system().await;
    let (status, body) = error_of(system.client.get(system.posts("/nope")).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _) = error_of(system.client.patch(system.posts("/posts")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn readiness_reports_the_database_and_the_jwks() {
    let system = spawn_system().await;
    let ready: Value = system.client.get(system.posts("/health/ready")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["checks"], json!({"database": "ok", "jwks": "ok"}));
}
