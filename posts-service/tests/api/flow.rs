//! The learner's flow, and how the token travels.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_system;

#[tokio::test]
async fn register_login_create_and_list_with_authors() {
    // Arrange
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    // Act
    let created = system.send_post(&alice.token, &json!({"title": "Hello", "content": "First post"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(created.headers()["location"].to_str().unwrap().starts_with("/posts/"));
    assert_eq!(created.headers()["x-users-service-calls"], "0", "the author is the token's");
    let post: Value = created.json().await.unwrap();
    let page: Value = system.get("/posts", &alice.token).await.json().await.unwrap();
    let single: Value = system.get(&format!("/posts/{}", post["id"]), &alice.token).await.json().await.unwrap();
    // Assert
    assert_eq!(post["user_id"], alice.id);
    assert_eq!(post["author"], json!({"id": alice.id, "username": "alice"}));
    assert_eq!(page["posts"][0]["title"], "Hello");
    assert_eq!(page["posts"][0]["author"], json!({"id": alice.id, "username": "alice"}));
    assert_eq!(page["next_cursor"], Value::Null);
    assert!(page.get("degraded").is_none());
    assert_eq!(single["author"]["username"], "alice");
}

#[tokio::test]
async fn a_page_costs_one_users_service_call_carrying_the_callers_own_header() {
    // Arrange: 12 posts by 3 authors.
    let system = spawn_system().await;
    let mut authors = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = system.user(name).await;
        for n in 0..4 {
            system.create_post(&user.token, &format!("{name} {n}")).await;
        }
        authors.push(user);
    }
    let reader = &authors[1];
    system.proxy.clear();
    // Act
    let response = system.get("/posts?limit=20", &reader.token).await;
    let reported = response.headers()["x-users-service-calls"].to_str().unwrap().to_owned();
    let page: Value = response.json().await.unwrap();
    // Assert
    let calls = system.proxy.recorded_to("/users");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(reported, "1", "X-Users-Service-Calls says what the proxy saw");
    let ids: Vec<String> = authors.iter().map(|u| u.id.to_string()).collect();
    assert_eq!((calls[0].method.as_str(), calls[0].path.clone()), ("GET", format!("/users?ids={}", ids.join("%2C"))));
    assert_eq!(calls[0].authorization.as_deref(), Some(format!("Bearer {}", reader.token).as_str()));
    let posts = page["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 12);
    assert!(posts.iter().all(|p| p["author"]["id"] == p["user_id"]), "every post has its author");
}

#[tokio::test]
async fn pages_are_newest_first_and_stable_while_posts_are_added() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    for n in 1..=5 {
        system.create_post(&alice.token, &format!("post {n}")).await;
    }
    let titles = |page: &Value| {
        page["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let first: Value = system.get("/posts?limit=2", &alice.token).await.json().await.unwrap();
    assert_eq!(titles(&first), ["post 5", "post 4"]);
    system.create_post(&alice.token, "post 6").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value =
        system.get(&format!("/posts?limit=2&cursor={cursor}"), &alice.token).await.json().await.unwrap();
    assert_eq!(titles(&second), ["post 3", "post 2"]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let last: Value = system.get(&format!("/posts?limit=2&cursor={cursor}"), &alice.token).await.json().await.unwrap();
    assert_eq!(titles(&last), ["post 1"]);
    assert_eq!(last["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_author_filter_lists_one_authors_posts() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let bob = system.user("bob").await;
    system.create_post(&alice.token, "by alice").await;
    system.create_post(&bob.token, "by bob").await;
    let page: Value = system.get(&format!("/posts?user_id={}", bob.id), &alice.token).await.json().await.unwrap();
    let posts = page["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["title"], "by bob");
}

#[tokio::test]
async fn an_empty_page_makes_no_users_service_call() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    system.proxy.clear();
    let response = system.get("/posts", &alice.token).await;
    assert_eq!(response.headers()["x-users-service-calls"], "0");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["posts"], json!([]));
    assert!(system.proxy.recorded_to("/users").is_empty());
}
