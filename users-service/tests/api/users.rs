//! Registration and user lookups.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OTHER_CLIENT, SERVICE_CLIENT, error_of, spawn_users, spawn_users_with};

#[tokio::test]
async fn registering_returns_201_with_the_user_and_no_secret() {
    // Arrange
    let users = spawn_users().await;
    // Act
    let response = users.register("alice").await;
    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    assert!(body["id"].as_i64().unwrap() > 0);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    let text = body.to_string();
    assert!(!text.contains("password") && !text.contains("argon2"), "{text}");
}

#[tokio::test]
async fn a_taken_username_is_409_whatever_its_case() {
    let users = spawn_users().await;
    assert_eq!(users.register("alice").await.status(), StatusCode::CREATED);
    let (status, body) = error_of(users.register("ALICE").await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body.error, "conflict");
}

#[tokio::test]
async fn invalid_registrations_are_422_and_create_nothing() {
    let users = spawn_users().await;
    let cases = [
        ("short username", json!({"username": "al", "email": "a@example.com", "password": "long enough pw"})),
        ("bad username chars", json!({"username": "al ice", "email": "a@example.com", "password": "long enough pw"})),
        ("NUL in username", json!({"username": "ali\u{0}ce", "email": "a@example.com", "password": "long enough pw"})),
        ("bad email", json!({"username": "alice", "email": "not-an-email", "password": "long enough pw"})),
        ("short password", json!({"username": "alice", "email": "a@example.com", "password": "short"})),
        ("long password", json!({"username": "alice", "email": "a@example.com", "password": "x".repeat(129)})),
        ("common password", json!({"username": "alice", "email": "a@example.com", "password": "password1234"})),
        ("missing password", json!({"username": "alice", "email": "a@example.com"})),
        ("password not a string", json!({"username": "alice", "email": "a@example.com", "password": 12345678})),
    ];
    for (case, body) in cases {
        let (status, error) = error_of(users.post_json("/users", &body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "case {case}");
        assert_eq!(error.error, "invalid_input", "case {case}");
        assert!(!error.error_description.contains("12345678"), "case {case} echoes the password");
    }
    // Nothing was created: the name is still free.
    assert_eq!(users.register("alice").await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn extra_fields_such_as_a_role_or_scope_are_ignored() {
    let users = spawn_users().await;
    let body = json!({"username": "mallory", "email": "m@example.com", "password": "long enough pw",
                      "id": 999, "role": "admin", "scope": "admin:all"});
    let created: Value = users.post_json("/users", &body).await.json().await.unwrap();
    assert_ne!(created["id"], 999);
    let login: Value = users.login("mallory", "long enough pw").await.json().await.unwrap();
    assert_eq!(login["scope"], "posts:read posts:write users:read");
}

#[tokio::test]
async fn users_me_returns_the_caller_with_email() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let response = users.get_with_token("/users/me", &tokens.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["username"].as_str(), body["email"].as_str()), (Some("alice"), Some("alice@example.com")));
}

#[tokio::test]
async fn a_service_account_has_no_users_me() {
    let users = spawn_users().await;
    let token = users.service_token(SERVICE_CLIENT).await;
    let (status, body) = error_of(users.get_with_token("/users/me", &token).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
}

#[tokio::test]
async fn a_user_by_id_has_no_email_and_unknown_ids_are_404() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let body: Value = users.get_with_token("/users/1", &tokens.access).await.json().await.unwrap();
    assert_eq!(body, json!({"id": 1, "username": "alice", "created_at": body["created_at"]}));
    for path in ["/users/999", "/users/abc", "/users/0", "/users/-1"] {
        let (status, error) = error_of(users.get_with_token(path, &tokens.access).await).await;
        assert_eq!((status, error.error.as_str()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
}

#[tokio::test]
async fn the_batch_lookup_leaves_unknown_ids_out() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    users.register("bob").await;
    let token = users.service_token(SERVICE_CLIENT).await;
    let body: Value = users.get_with_token("/users?ids=2,1,77,2", &token).await.json().await.unwrap();
    let names: Vec<&str> = body["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert!(body["users"][0].get("email").is_none());
    assert_eq!(users.get_with_token("/users?ids=1", &tokens.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_batch_lookup_refuses_bad_id_lists() {
    let users = spawn_users().await;
    let token = users.service_token(SERVICE_CLIENT).await;
    let too_many = (1..=101).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    for (case, path) in [
        ("no ids", "/users".to_owned()),
        ("empty", "/users?ids=".to_owned()),
        ("letters", "/users?ids=a".to_owned()),
        ("101 ids", format!("/users?ids={too_many}")),
    ] {
        let (status, body) = error_of(users.get_with_token(&path, &token).await).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::BAD_REQUEST, "invalid_request"), "case {case}");
    }
}

#[tokio::test]
async fn lookups_need_the_users_read_scope_and_a_token_for_this_audience() {
    let users = spawn_users().await;
    users.register("alice").await;
    // `reports` holds posts:read only: its token's audience is posts-service alone.
    let posts_only = users.service_token(OTHER_CLIENT).await;
    let response = users.get_with_token("/users/1", &posts_only).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(crate::helpers::challenge(&response).unwrap().contains("invalid_token"));
    let no_token = users.client.get(users.url("/users/1")).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(crate::helpers::challenge(&no_token).as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn profiles_from_memory_and_from_the_database_come_back_alike_and_in_id_order() {
    let users = spawn_users().await;
    for name in ["alice", "bob", "carol"] {
        users.register(name).await;
    }
    let token = users.service_token(SERVICE_CLIENT).await;
    let lookup = |path: &'static str| {
        let (users, token) = (&users, &token);
        async move { users.get_with_token(path, token).await.json::<Value>().await.unwrap() }
    };
    let first = lookup("/users?ids=3,1").await;
    // 1 and 3 now come from memory, 2 from the database.
    let mixed = lookup("/users?ids=2,3,1").await;
    let names: Vec<&str> = mixed["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert_eq!(mixed["users"][0], first["users"][0], "alice, cached, reads exactly as before");
    assert_eq!(mixed["users"][2], first["users"][1]);
    assert_eq!(lookup("/users/3").await, first["users"][1], "the single lookup shares the cache");

    // An unknown id is not remembered as absent: a user registered a moment later is found.
    assert_eq!(lookup("/users?ids=4").await, json!({"users": []}));
    users.register("dave").await;
    assert_eq!(lookup("/users?ids=4").await["users"][0]["username"], "dave");
}

/// Deletes user `id` behind the service's back (there is no API for it).
fn delete_out_of_band(database_url: &str, id: i64) {
    use diesel::prelude::*;
    use users_service::db::schema::users::dsl;
    let pool = users_service::db::connect(database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    assert_eq!(diesel::delete(dsl::users.find(id)).execute(&mut **conn).unwrap(), 1);
}

#[tokio::test]
async fn a_cached_profile_outlives_an_out_of_band_delete_for_at_most_its_ttl_and_not_at_all_with_the_cache_off() {
    for (ttl, still_listed) in [(60, true), (0, false)] {
        let users = spawn_users_with(|c| c.user_cache_ttl_secs = ttl).await;
        users.register("alice").await;
        let token = users.service_token(SERVICE_CLIENT).await;
        let names = |body: Value| body["users"].as_array().unwrap().len();
        assert_eq!(names(users.get_with_token("/users?ids=1", &token).await.json().await.unwrap()), 1);
        delete_out_of_band(&users.config.common.database_url, 1);
        let after: Value = users.get_with_token("/users?ids=1", &token).await.json().await.unwrap();
        assert_eq!(names(after) == 1, still_listed, "USER_CACHE_TTL_SECS={ttl}");
    }
}
