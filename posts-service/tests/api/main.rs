//! posts-service's integration tests.

// A failed expectation in a test helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;

use posts_service::config::Config;
use posts_service::startup::Application;

#[tokio::test]
async fn health_live_answers_200() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let config = Config { bind_addr: listener.local_addr().unwrap() };
    let app = Application::build_with_listener(config, listener).await.unwrap();
    let url = format!("http://127.0.0.1:{}/health/live", app.port());
    tokio::spawn(app.run_until_stopped());
    assert_eq!(reqwest::get(url).await.unwrap().status(), reqwest::StatusCode::OK);
}
