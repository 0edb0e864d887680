//! Liveness and readiness.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_users;

#[tokio::test]
async fn live_and_ready_answer_200_with_a_working_database() {
    let users = spawn_users().await;
    let live = users.client.get(users.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready: Value = users.client.get(users.url("/health/ready")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["checks"]["database"], "ok");
}
