//! CORS: off unless origins are configured; then an exact allow-list.

use reqwest::{Method, Response, StatusCode};

use crate::helpers::{TestUsers, spawn_users, spawn_users_with};

const APP: &str = "https://app.example.com";

async fn preflight(users: &TestUsers, origin: &str) -> Response {
    users
        .client
        .request(Method::OPTIONS, users.url("/auth/login"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &Response) -> Option<&str> {
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn with_no_origins_configured_no_cors_header_is_ever_sent() {
    let users = spawn_users().await;
    assert_eq!(allowed_origin(&preflight(&users, APP).await), None);
    let response = users.client.get(users.url("/.well-known/jwks.json")).header("origin", APP).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "same-origin use is unaffected");
    assert_eq!(allowed_origin(&response), None);
}

#[tokio::test]
async fn only_a_configured_origin_is_echoed_and_never_with_credentials() {
    let users = spawn_users_with(|c| c.common.cors_allowed_origins = vec![APP.to_owned()]).await;
    let allowed = preflight(&users, APP).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed_origin(&allowed), Some(APP));
    assert!(allowed.headers().get("access-control-allow-credentials").is_none());
    let vary: Vec<&str> = allowed.headers().get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(vary.iter().any(|v| v.to_ascii_lowercase().contains("origin")), "{vary:?}");
    for origin in ["https://evil.example", "null", "https://app.example.com.evil.example"] {
        let refused = preflight(&users, origin).await;
        assert_eq!(allowed_origin(&refused), None, "{origin}");
        assert!(refused.status().is_client_error(), "{origin}: {}", refused.status());
    }
    let read = users.client.get(users.url("/.well-known/jwks.json")).header("origin", APP).send().await.unwrap();
    assert_eq!((read.status(), allowed_origin(&read)), (StatusCode::OK, Some(APP)));
}
