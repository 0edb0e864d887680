//! Request ids across the service boundary, and the metrics an operator reads.

use auth_common::testing::{now, user_claims};
use auth_common::token::claims::AccessClaims;
use reqwest::StatusCode;

use crate::helpers::{TestSystem, spawn_system};

async fn metrics(system: &TestSystem, base: &str) -> String {
    let response = system.client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The value of one series in a Prometheus text page (0 when absent).
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_callers_request_id_crosses_to_users_service_and_comes_back() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "traced").await;
    system.proxy.clear();
    let response = system
        .client
        .get(system.posts("/posts"))
        .bearer_auth(&alice.token)
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc.123");
    let calls = system.proxy.recorded_to("/users");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].request_id.as_deref(), Some("trace-abc.123"), "the id is passed on");
}

#[tokio::test]
async fn a_missing_or_unsafe_request_id_is_replaced_by_a_new_one() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "traced").await;
    let mut seen = Vec::new();
    for sent in [None, Some("has spaces and ; semicolons"), Some(&*"x".repeat(200))] {
        system.proxy.clear();
        let mut request = system.client.get(system.posts("/posts")).bearer_auth(&alice.token);
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{sent:?} gave {id}");
        assert_eq!(system.proxy.recorded_to("/users")[0].request_id.as_deref(), Some(id.as_str()));
        seen.push(id);
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "each request gets its own id");
}

#[tokio::test]
async fn refused_tokens_move_the_counter_of_their_reason() {
    let system = spawn_system().await;
    let key = system.signing_key();
    let expired = key.sign(&AccessClaims { exp: now() - 300, ..user_claims(&system.issuer) }).unwrap();
    let wrong_audience =
        key.sign(&AccessClaims { aud: vec!["users-service".into()], ..user_claims(&system.issuer) }).unwrap();
    let before = metrics(&system, &system.posts_address).await;
    system.get("/posts", &expired).await;
    system.get("/posts", &expired).await;
    system.get("/posts", &wrong_audience).await;
    system.client.get(system.posts("/posts")).send().await.unwrap();
    let after = metrics(&system, &system.posts_address).await;
    for (reason, moved) in [("expired", 2.0), ("wrong_audience", 1.0), ("missing", 1.0), ("bad_signature", 0.0)] {
        let name = format!(r#"tokens_rejected_total{{reason="{reason}"}}"#);
        assert_eq!(series(&after, &name) - series(&before, &name), moved, "{reason}");
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_and_upstream_calls_by_result() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let id = system.create_post(&alice.token, "counted").await;
    system.get(&format!("/posts/{id}"), &alice.token).await;
    system.get("/posts/999999", &alice.token).await;
    let posts = metrics(&system, &system.posts_address).await;
    assert_eq!(series(&posts, r#"http_requests_total{method="GET",route="/posts/{id}",status="200"}"#), 1.0, "{posts}");
    assert_eq!(series(&posts, r#"http_requests_total{method="GET",route="/posts/{id}",status="404"}"#), 1.0);
    assert!(!posts.contains(&format!("/posts/{id}\"")), "raw paths never become labels");
    assert!(series(&posts, r#"jwks_fetches_total{result="success"}"#) >= 1.0);
    assert_eq!(series(&posts, r#"users_service_calls_total{result="success"}"#), 1.0);
    assert!(posts.contains("http_request_duration_seconds_bucket"));
    let users = metrics(&system, &system.users_address).await;
    assert_eq!(series(&users, r#"tokens_issued_total{grant="login"}"#), 1.0, "{users}");
}
