//! Starting the whole system for a test: a real users-service, the recording proxy in
//! front of it, and posts-service pointed at the proxy for both the JWKS and the author
//! lookups. Real HTTP everywhere.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use auth_common::clock::{Clock, TestClock};
use auth_common::service::env::{AppEnv, Env};
use auth_common::service::errors::ErrorBody;
use auth_common::testing::TestDatabase;
use auth_common::token::scope::ScopeSet;
use posts_service::config::{Config, Secret};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use users_service::tokens::clients::{ClientSecret, OAuthClient};

use crate::proxy::Proxy;

pub const PASSWORD: &str = "correct horse battery";
const POSTS_CLIENT: (&str, &str) = ("posts-service", "posts-secret-for-tests");
/// A service account for users-service only (`users:read`).
pub const USERS_ONLY_CLIENT: (&str, &str) = ("directory", "directory-secret-for-tests");

/// users-service, the proxy and posts-service.
pub struct TestSystem {
    pub users_address: String,
    pub posts_address: String,
    pub proxy: Proxy,
    pub client: reqwest::Client,
    /// The folder of users-service's signing keys.
    pub keys_dir: tempfile::TempDir,
    pub issuer: String,
    _dbs: (TestDatabase, TestDatabase),
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
    auth_common::testing::init_logging();
    let users_db = TestDatabase::create("users");
    let keys_dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let users_address = format!("http://{}", listener.local_addr().unwrap());
    let mut users_config = users_service::config::Config::from(&Env::from_map(HashMap::new())).unwrap();
    users_config.common.bind_addr = listener.local_addr().unwrap();
    users_config.common.database_url = users_db.url.clone();
    users_config.keys_dir = keys_dir.path().to_owned();
    users_config.common.issuer = users_address.clone();
    users_config.oauth_clients =
        vec![service_account(POSTS_CLIENT, "users:read"), service_account(USERS_ONLY_CLIENT, "users:read")];
    customize_users(&mut users_config);
    let users = users_service::startup::build_with_listener(users_config, listener, clock.clone()).await.unwrap();
    tokio::spawn(users.run_until_stopped());

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

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let system = TestSystem {
        users_address: users_address.clone(),
        posts_address,
        proxy,
        client,
        keys_dir,
        issuer: users_address,
        _dbs: (users_db, posts_db),
    };
    system.wait_until_ready().await;
    system
}

fn service_account((id, secret): (&str, &str), scopes: &str) -> OAuthClient {
    OAuthClient { id: id.to_owned(), secret: ClientSecret::new(secret), scopes: ScopeSet::parse(scopes).unwrap() }
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
        let created: Value = self
            .client
            .post(self.users("/users"))
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (token, refresh) = self.login(username).await;
        User { id: created["id"].as_i64().expect("user id"), token, refresh }
    }

    /// A client-credentials token from users-service.
    pub async fn service_token(&self, (id, secret): (&str, &str), scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let body: Value = self
            .client
            .post(self.users("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A narrower access token for `user`, through the refresh grant.
    pub async fn narrowed_token(&self, user: &User, scope: &str) -> String {
        let body: Value = self
            .client
            .post(self.users("/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", user.refresh.as_str()), ("scope", scope)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().expect("access_token").to_owned()
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

    /// users-service's first signing key, from its key folder.
    pub fn signing_key(&self) -> auth_common::token::signing_key::SigningKey {
        let pem = std::fs::read_dir(self.keys_dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "pem"))
            .unwrap();
        auth_common::token::signing_key::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(pem).unwrap()).unwrap()
    }

    /// Logs `username` in again; returns the access and refresh tokens.
    pub async fn login(&self, username: &str) -> (String, String) {
        let tokens: Value = self
            .client
            .post(self.users("/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (tokens["access_token"].as_str().unwrap().to_owned(), tokens["refresh_token"].as_str().unwrap().to_owned())
    }

    /// The kids users-service publishes now.
    pub async fn published_kids(&self) -> Vec<String> {
        let jwks: jsonwebtoken::jwk::JwkSet =
            self.client.get(self.users("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
        jwks.keys.into_iter().filter_map(|k| k.common.key_id).collect()
    }
}

/// Status and JSON error body, asserting the shape.
pub async fn error_of(response: Response) -> (StatusCode, ErrorBody) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not the error shape ({e}): {text}"));
    (status, body)
}

/// The `WWW-Authenticate` header.
pub fn challenge(response: &Response) -> Option<String> {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned())
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
