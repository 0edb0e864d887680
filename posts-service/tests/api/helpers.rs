//! Starting the whole system for a test: a real users-service, the recording proxy in
//! front of it, and posts-service pointed at the proxy for both the JWKS and the author
//! lookups. Real HTTP everywhere.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use auth_common::clock::{Clock, TestClock};
use auth_common::service::env::{AppEnv, Env};
use auth_common::testing::TestDatabase;
pub use auth_common::testing::http::{challenge, error_of, kid_of};
use auth_common::token::signing_key::SigningKey;
use posts_service::config::{Config, Secret};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
pub use users_service::testing::PASSWORD;
use users_service::testing::{TestUsers, Tokens, service_account, spawn_users_on};

use crate::proxy::Proxy;

/// posts-service's own service account.
const POSTS_CLIENT: (&str, &str) = users_service::testing::SERVICE_CLIENT;
/// A service account for users-service only (`users:read`).
pub const USERS_ONLY_CLIENT: (&str, &str) = ("directory", "directory-secret-for-tests");

/// users-service, the proxy and posts-service.
pub struct TestSystem {
    pub users_address: String,
    pub posts_address: String,
    pub proxy: Proxy,
    pub client: reqwest::Client,
    pub issuer: String,
    /// users-service itself, started as its own tests start it.
    pub users: TestUsers,
    _posts_db: TestDatabase,
}

/// A logged-in user.
pub struct User {
    pub id: i64,
    pub token: String,
    pub refresh: String,
}

/// The system with the defaults.
pub async fn spawn_system() -> TestSystem {
    spawn_system_with(|_| {}).await
}

/// The system, with posts-service's configuration changed by `customize`.
pub async fn spawn_system_with(customize: impl FnOnce(&mut Config)) -> TestSystem {
    spawn_configured(|_| {}, customize).await
}

/// The system on `clock`, which the test moves by hand, with posts-service's
/// configuration changed by `customize`.
pub async fn spawn_system_with_clock(clock: &TestClock, customize: impl FnOnce(&mut Config)) -> TestSystem {
    spawn_on(clock.clock(), |_| {}, customize).await
}

/// The system, with both services' configurations changed.
pub async fn spawn_configured(
    customize_users: impl FnOnce(&mut users_service::config::Config),
    customize_posts: impl FnOnce(&mut Config),
) -> TestSystem {
    spawn_on(Clock::system(), customize_users, customize_posts).await
}

/// The system with both services on `clock`, which the test moves by hand, and both
/// services' configurations changed.
pub async fn spawn_configured_with_clock(
    clock: &TestClock,
    customize_users: impl FnOnce(&mut users_service::config::Config),
    customize_posts: impl FnOnce(&mut Config),
) -> TestSystem {
    spawn_on(clock.clock(), customize_users, customize_posts).await
}

/// Both services, telling the time by one `clock`.
async fn spawn_on(
    clock: Clock,
    customize_users: impl FnOnce(&mut users_service::config::Config),
    customize_posts: impl FnOnce(&mut Config),
) -> TestSystem {
    let users = spawn_users_on(clock.clone(), |c| {
        c.oauth_clients =
            vec![service_account(POSTS_CLIENT, "users:read"), service_account(USERS_ONLY_CLIENT, "users:read")];
        customize_users(c);
    })
    .await;
    let users_address = users.address.clone();

    let proxy = Proxy::start(&users_address);
    let posts_db = TestDatabase::create("posts");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let posts_address = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::from(&Env::from_map(HashMap::new())).unwrap();
    config.common.bind_addr = listener.local_addr().unwrap();
    config.common.database_url = posts_db.url.clone();
    config.common.issuer = users_address.clone();
    config.users_service_url = proxy.address.clone();
    config.jwks_url = format!("{}/.well-known/jwks.json", proxy.address);
    config.client_id = POSTS_CLIENT.0.to_owned();
    config.client_secret = Secret::new(POSTS_CLIENT.1);
    config.users_timeout = Duration::from_millis(1000);
    config.common.app_env = AppEnv::Development;
    customize_posts(&mut config);
    let posts = posts_service::startup::build_with_listener(config, listener, clock).await.unwrap();
    tokio::spawn(posts.run_until_stopped());

    let system = TestSystem {
        users_address: users_address.clone(),
        posts_address,
        proxy,
        client: users.client.clone(),
        issuer: users_address,
        users,
        _posts_db: posts_db,
    };
    system.wait_until_ready().await;
    system
}

impl TestSystem {
    /// Waits for posts-service's readiness (its first JWKS fetch).
    pub async fn wait_until_ready(&self) {
        for _ in 0..100 {
            let response = self.client.get(self.posts("/health/ready")).send().await.unwrap();
            if response.status() == StatusCode::OK {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("posts-service never became ready");
    }

    pub fn posts(&self, path: &str) -> String {
        format!("{}{path}", self.posts_address)
    }

    pub fn users(&self, path: &str) -> String {
        format!("{}{path}", self.users_address)
    }

    /// Registers and logs in `username` directly at users-service.
    pub async fn user(&self, username: &str) -> User {
        let created: Value = self.users.register(username).await.json().await.unwrap();
        let (token, refresh) = self.login(username).await;
        User { id: created["id"].as_i64().expect("user id"), token, refresh }
    }

    /// A client-credentials token from users-service.
    pub async fn service_token(&self, client: (&str, &str), scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.users.access_token(&form, Some(client)).await
    }

    /// A narrower access token for `user`, through the refresh grant.
    pub async fn narrowed_token(&self, user: &User, scope: &str) -> String {
        let form = [("grant_type", "refresh_token"), ("refresh_token", user.refresh.as_str()), ("scope", scope)];
        self.users.access_token(&form, None).await
    }

    /// Creates a post as `token`; returns its id.
    pub async fn create_post(&self, token: &str, title: &str) -> i64 {
        let response = self.send_post(token, &json!({"title": title, "content": format!("about {title}")})).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {title}");
        response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub async fn send_post(&self, token: &str, body: &Value) -> Response {
        self.client.post(self.posts("/posts")).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// GETs a posts-service path with a token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.posts(path)).bearer_auth(token).send().await.unwrap()
    }

    /// The key users-service signs with now, from its database.
    pub fn signing_key(&self) -> SigningKey {
        self.users.signing_key()
    }

    /// Logs `username` in again; returns the access and refresh tokens.
    pub async fn login(&self, username: &str) -> (String, String) {
        let Tokens { access, refresh } = self.users.login_tokens(username).await;
        (access, refresh)
    }

    /// The kids users-service publishes now.
    pub async fn published_kids(&self) -> Vec<String> {
        self.users.jwks().await.keys.into_iter().filter_map(|k| k.common.key_id).collect()
    }
}
