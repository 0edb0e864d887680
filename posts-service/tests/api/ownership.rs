//! Only the author changes or deletes a post; scopes are enforced.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{challenge, error_of, spawn_system};

#[tokio::test]
async fn only_the_author_may_update_or_delete_and_others_change_nothing() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let bob = system.user("bob").await;
    let id = system.create_post(&alice.token, "mine").await;
    let path = system.posts(&format!("/posts/{id}"));
    let edit = json!({"title": "hijacked", "content": "by bob"});
    let put = system.client.put(&path).bearer_auth(&bob.token).json(&edit).send().await.unwrap();
    assert_eq!(
        error_of(put).await,
        (StatusCode::FORBIDDEN, error_of_body("forbidden", "only the author may change this post"))
    );
    let delete = system.client.delete(&path).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(error_of(delete).await.0, StatusCode::FORBIDDEN);
    let unchanged: Value = system.get(&format!("/posts/{id}"), &alice.token).await.json().await.unwrap();
    assert_eq!(unchanged["title"], "mine");

    let put = system
        .client
        .put(&path)
        .bearer_auth(&alice.token)
        .json(&json!({"title": "edited", "content": "new"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let edited: Value = put.json().await.unwrap();
    assert_eq!(edited["title"], "edited");
    assert_ne!(edited["updated_at"], unchanged["updated_at"]);
    let delete = system.client.delete(&path).bearer_auth(&alice.token).send().await.unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(system.get(&format!("/posts/{id}"), &alice.token).await.status(), StatusCode::NOT_FOUND);
}

fn error_of_body(error: &str, description: &str) -> auth_common::service::errors::ErrorBody {
    auth_common::service::errors::ErrorBody { error: error.to_owned(), error_description: description.to_owned() }
}

#[tokio::test]
async fn unknown_posts_are_404_for_every_method() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let body = json!({"title": "t", "content": "c"});
    for path in ["/posts/999", "/posts/abc", "/posts/0"] {
        let url = system.posts(path);
        let get = system.client.get(&url).bearer_auth(&alice.token).send().await.unwrap();
        let put = system.client.put(&url).bearer_auth(&alice.token).json(&body).send().await.unwrap();
        let delete = system.client.delete(&url).bearer_auth(&alice.token).send().await.unwrap();
        for (method, response) in [("GET", get), ("PUT", put), ("DELETE", delete)] {
            let (status, error) = error_of(response).await;
            assert_eq!((status, error.error.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn a_read_only_token_cannot_write() {
    let system = spawn_system().await;
    let alice = system.user("alice").await;
    let read_only = system.narrowed_token(&alice, "posts:read").await;
    let response = system.send_post(&read_only, &json!({"title": "t", "content": "c"})).await;
    assert_eq!(challenge(&response).as_deref(), Some("Bearer error=\"insufficient_scope\", scope=\"posts:write\""));
    let (status, body) = error_of(response).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    assert_eq!(system.get("/posts", &read_only).await.status(), StatusCode::OK);
    let page: Value = system.get("/posts", &alice.token).await.json().await.unwrap();
    assert_eq!(page["posts"], json!([]), "nothing was written");
}
