//! When users-service errs, is slow or is down, pages still answer: authors null,
//! `degraded: true`, within the timeout. The next healthy call recovers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_system, spawn_system_with};
use crate::proxy::Fault;

fn assert_degraded(page: &Value) {
    assert_eq!(page["degraded"], true, "{page}");
    let posts = page["posts"].as_array().unwrap();
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|p| p["author"].is_null()), "{page}");
}

#[tokio::test]
async fn a_failing_users_service_degrades_the_page_and_the_next_call_recovers() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let id = system.create_post(&alice.token, "hello").await;
    system.proxy.inject("/users", Fault::Status(500));
    let page: Value = system.get("/posts", &alice.token).await.json().await.unwrap();
    assert_degraded(&page);
    let single: Value = system.get(&format!("/posts/{id}"), &alice.token).await.json().await.unwrap();
    assert_eq!((single["author"].is_null(), &single["degraded"]), (true, &Value::Bool(true)));
    system.proxy.heal();
    let page: Value = system.get("/posts", &alice.token).await.json().await.unwrap();
    assert!(page.get("degraded").is_none(), "{page}");
    assert_eq!(page["posts"][0]["author"]["username"], "alice");
}

#[tokio::test]
async fn a_slow_users_service_degrades_the_page_within_the_timeout() {
    let system = spawn_system_with(|c| c.users_timeout = Duration::from_millis(300)).await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "hello").await;
    system.proxy.inject("/users", Fault::Delay(Duration::from_secs(5)));
    let started = Instant::now();
    let response = system.get("/posts", &alice.token).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_degraded(&response.json().await.unwrap());
    // Not a timing assertion on speed: it shows the request did not wait for the 5 s delay.
    assert!(elapsed < Duration::from_secs(4), "waited {elapsed:?} on a stalled peer");
}

#[tokio::test]
async fn a_stopped_users_service_degrades_the_page_and_cached_keys_keep_verifying() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "hello").await;
    // users-service "stops": every request to it, the JWKS included, now fails.
    system.proxy.inject("/", Fault::Status(503));
    let response = system.get("/posts", &alice.token).await;
    assert_eq!(response.status(), StatusCode::OK, "the token still verifies with the cached JWKS");
    assert_degraded(&response.json().await.unwrap());
}
