//! users-service started for a test, and the requests tests make of it (feature
//! `test-support`). Its own tests and posts-service's, which run the real users-service
//! beside posts-service, start it through [`spawn_users_on`], so there is one way to do it.

// Test helpers fail loudly: a panic here is a failed test, not a crashed service.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use auth_common::clock::{Clock, TestClock};
use auth_common::service::env::{AppEnv, Env};
use auth_common::testing::TestDatabase;
use auth_common::token::scope::ScopeSet;
use auth_common::token::signing_key::SigningKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::config::Config;
use crate::db::DbConnection;
use crate::keys::{self, sealing::Kek};
use crate::startup;
use crate::tokens::clients::OAuthClient;

/// The service account every test instance knows (posts-service's, in real life).
pub const SERVICE_CLIENT: (&str, &str) = ("posts-service", "posts-secret-for-tests");
/// A second service account, allowed `posts:read` only.
pub const OTHER_CLIENT: (&str, &str) = ("reports", "reports-secret-for-tests");
/// A public client that signs users in with the authorization code grant and PKCE.
pub const APP_CLIENT: &str = "explorer";
/// Its one redirect URI (nothing listens there: tests read the `Location`).
pub const APP_REDIRECT_URI: &str = "http://localhost:9/callback";
/// Where [`APP_CLIENT`]'s users may be sent after signing out (its only such URI).
pub const APP_SIGNED_OUT_URI: &str = "http://localhost:9/signed-out";
/// A third party's public client: its users are asked to consent.
pub const THIRD_PARTY_CLIENT: &str = "gallery";
/// Its redirect URI.
pub const THIRD_PARTY_REDIRECT_URI: &str = "https://gallery.example/callback";
/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "correct horse battery";

/// A running users-service.
pub struct TestUsers {
    /// `http://127.0.0.1:<port>`, also the issuer.
    pub address: String,
    /// The client for requests (no redirects followed).
    pub client: reqwest::Client,
    /// The configuration it runs with.
    pub config: Config,
    clock: Clock,
    // Shared with its replicas (`spawn_replica`), and removed when the last one goes.
    _db: Arc<TestDatabase>,
    _keys_dir: Arc<tempfile::TempDir>,
}

/// Access and refresh token of a logged-in user.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// users-service with the test defaults.
pub async fn spawn_users() -> TestUsers {
    spawn_users_with(|_| {}).await
}

/// users-service with the test defaults changed by `customize`, on the system clock.
pub async fn spawn_users_with(customize: impl FnOnce(&mut Config)) -> TestUsers {
    spawn_users_on(Clock::system(), customize).await
}

/// users-service telling the time by `clock`, which the test moves by hand.
pub async fn spawn_users_with_clock(clock: &TestClock, customize: impl FnOnce(&mut Config)) -> TestUsers {
    spawn_users_on(clock.clock(), customize).await
}

/// users-service on `127.0.0.1:0` telling the time by `clock`, with a database and a key
/// folder of its own, its address as the issuer, [`SERVICE_CLIENT`] and [`OTHER_CLIENT`]
/// as its service accounts, and then whatever `customize` changes.
pub async fn spawn_users_on(clock: Clock, customize: impl FnOnce(&mut Config)) -> TestUsers {
    auth_common::testing::init_logging();
    let db = TestDatabase::create("users");
    let keys_dir = tempfile::tempdir().expect("creating a keys folder");
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a random port");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::from(&Env::from_map(HashMap::new())).expect("default config");
    config.common.bind_addr = listener.local_addr().unwrap();
    config.common.database_url = db.url.clone();
    config.keys_dir = keys_dir.path().to_owned();
    config.common.issuer = address.clone();
    config.oauth_clients = vec![
        service_account(SERVICE_CLIENT, "users:read"),
        service_account(OTHER_CLIENT, "posts:read"),
        OAuthClient {
            id: APP_CLIENT.to_owned(),
            secret: None,
            scopes: ScopeSet::parse("openid profile email posts:read posts:write users:read").unwrap(),
            redirect_uris: vec![APP_REDIRECT_URI.to_owned()],
            post_logout_redirect_uris: vec![APP_SIGNED_OUT_URI.to_owned()],
            third_party: false,
        },
        OAuthClient {
            id: THIRD_PARTY_CLIENT.to_owned(),
            secret: None,
            scopes: ScopeSet::parse("openid profile posts:read").unwrap(),
            redirect_uris: vec![THIRD_PARTY_REDIRECT_URI.to_owned()],
            post_logout_redirect_uris: Vec::new(),
            third_party: true,
        },
    ];
    customize(&mut config);
    let users = start(config, listener, clock, Arc::new(db), Arc::new(keys_dir)).await;
    assert_eq!(users.address, address);
    users
}

/// Builds users-service with `config` on `listener` and serves it in the background.
async fn start(
    config: Config,
    listener: TcpListener,
    clock: Clock,
    db: Arc<TestDatabase>,
    keys_dir: Arc<tempfile::TempDir>,
) -> TestUsers {
    let address = format!("http://{}", listener.local_addr().unwrap());
    let app =
        startup::build_with_listener(config.clone(), listener, clock.clone()).await.expect("building users-service");
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestUsers { address, client, config, clock, _db: db, _keys_dir: keys_dir }
}

/// A service account `(id, secret)` allowed `scopes`.
pub fn service_account((id, secret): (&str, &str), scopes: &str) -> OAuthClient {
    OAuthClient::service_account(id, secret, ScopeSet::parse(scopes).unwrap())
}

impl TestUsers {
    /// A second users-service on this one's database, keys, configuration and clock, on a
    /// port of its own: another replica behind the same gateway. Its `address` is its own;
    /// the issuer it names in tokens is the first one's (`config.common.issuer`).
    pub async fn spawn_replica(&self) -> TestUsers {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a random port");
        let mut config = self.config.clone();
        config.common.bind_addr = listener.local_addr().unwrap();
        start(config, listener, self.clock.clone(), self._db.clone(), self._keys_dir.clone()).await
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs JSON.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request failed")
    }

    /// Registers `username` with [`PASSWORD`].
    pub async fn register(&self, username: &str) -> Response {
        self.post_json(
            "/users",
            &json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
        )
        .await
    }

    /// Logs in.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json("/auth/login", &json!({"username": username, "password": password})).await
    }

    /// Logs `username` in with [`PASSWORD`]; returns the tokens, asserting nothing.
    pub async fn login_tokens(&self, username: &str) -> Tokens {
        let body: Value = self.login(username, PASSWORD).await.json().await.unwrap();
        Tokens {
            access: body["access_token"].as_str().expect("access_token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
    }

    /// Registers and logs in `username`; returns the tokens.
    pub async fn user_tokens(&self, username: &str) -> Tokens {
        assert_eq!(self.register(username).await.status(), StatusCode::CREATED, "registering {username}");
        self.login_tokens(username).await
    }

    /// POSTs a form to the token endpoint, with HTTP Basic client authentication if given.
    pub async fn token_request(&self, params: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.form("/oauth/token", params, basic).await
    }

    /// POSTs a form.
    pub async fn form(&self, path: &str, params: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        let mut request = self.client.post(self.url(path)).form(params);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.expect("request failed")
    }

    /// The `access_token` the token endpoint answers `params` with.
    pub async fn access_token(&self, params: &[(&str, &str)], basic: Option<(&str, &str)>) -> String {
        let body: Value = self.token_request(params, basic).await.json().await.unwrap();
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A client-credentials token for `(id, secret)`.
    pub async fn service_token(&self, (id, secret): (&str, &str)) -> String {
        self.access_token(&[("grant_type", "client_credentials")], Some((id, secret))).await
    }

    /// GETs `path` with a bearer token.
    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request failed")
    }

    /// The JWKS, fetched over HTTP like any outside verifier would.
    pub async fn jwks(&self) -> JwkSet {
        self.client.get(self.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap()
    }

    /// The key signing now, read from its database: for tokens that must carry a valid
    /// signature and one bad claim.
    pub fn signing_key(&self) -> SigningKey {
        let now = Clock::system().now();
        self.with_keys(|conn, kek| {
            let stored = keys::store::load_all(conn, kek, &HashMap::new()).expect("loading the keys");
            keys::KeySet::at(&stored, now).expect("a key signs").signer
        })
    }

    /// Runs `f` on its database with its key-encryption key: for tests that drive the keys
    /// commands as an operator would, beside the running service.
    pub fn with_keys<T>(&self, f: impl FnOnce(&mut DbConnection, &Kek) -> T) -> T {
        let kek = keys::sealing::resolve(
            self.config.keys_encryption_key.as_ref(),
            &self.config.keys_dir,
            AppEnv::Development,
        )
        .expect("the key-encryption key");
        let pool = crate::db::connect(&self.config.common.database_url, 1).expect("connecting to its database");
        let mut conn = pool.get().expect("a connection");
        f(&mut conn, &kek)
    }

    /// Verifies `token` the way an outside client would: the JWKS over HTTP and
    /// jsonwebtoken directly, not the service's own verifier.
    pub async fn verify_independently(&self, token: &str, audience: &str) -> jsonwebtoken::errors::Result<Value> {
        let header = jsonwebtoken::decode_header(token)?;
        let jwks = self.jwks().await;
        let jwk = jwks.find(header.kid.as_deref().unwrap_or_default()).expect("the kid is in the JWKS");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.common.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation).map(|data| data.claims)
    }
}
