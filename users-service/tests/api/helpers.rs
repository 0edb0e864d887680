//! Starting users-service for a test, and the requests tests make of it.

use std::collections::HashMap;
use std::net::TcpListener;

use auth_common::clock::{Clock, TestClock};
use auth_common::service::env::Env;
use auth_common::service::errors::ErrorBody;
use auth_common::testing::TestDatabase;
use auth_common::token::signing_key::SigningKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use users_service::config::Config;
use users_service::startup;
use users_service::tokens::clients::{ClientSecret, OAuthClient};

/// The service account every test instance knows (posts-service's, in real life).
pub const SERVICE_CLIENT: (&str, &str) = ("posts-service", "posts-secret-for-tests");
/// A second service account, allowed `posts:read` only.
pub const OTHER_CLIENT: (&str, &str) = ("reports", "reports-secret-for-tests");
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
    _db: TestDatabase,
    _keys_dir: tempfile::TempDir,
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

async fn spawn_users_on(clock: Clock, customize: impl FnOnce(&mut Config)) -> TestUsers {
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
    config.oauth_clients = vec![client(SERVICE_CLIENT, "users:read"), client(OTHER_CLIENT, "posts:read")];
    customize(&mut config);
    let app = startup::build_with_listener(config.clone(), listener, clock).await.expect("building users-service");
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestUsers { address, client, config, _db: db, _keys_dir: keys_dir }
}

fn client((id, secret): (&str, &str), scopes: &str) -> OAuthClient {
    OAuthClient {
        id: id.to_owned(),
        secret: ClientSecret::new(secret),
        scopes: auth_common::token::scope::ScopeSet::parse(scopes).unwrap(),
    }
}

impl TestUsers {
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

    /// Registers and logs in `username`; returns the tokens.
    pub async fn user_tokens(&self, username: &str) -> Tokens {
        assert_eq!(self.register(username).await.status(), StatusCode::CREATED, "registering {username}");
        let body: Value = self.login(username, PASSWORD).await.json().await.unwrap();
        Tokens {
            access: body["access_token"].as_str().expect("access_token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
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

    /// A client-credentials token for `(id, secret)`.
    pub async fn service_token(&self, (id, secret): (&str, &str)) -> String {
        let body: Value =
            self.token_request(&[("grant_type", "client_credentials")], Some((id, secret))).await.json().await.unwrap();
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// GETs `path` with a bearer token.
    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request failed")
    }

    /// The JWKS, fetched over HTTP like any outside verifier would.
    pub async fn jwks(&self) -> JwkSet {
        self.client.get(self.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap()
    }

    /// The service's own signing key, read from its key folder: for tokens that must carry
    /// a valid signature and one bad claim.
    pub fn signing_key(&self) -> SigningKey {
        let entry = std::fs::read_dir(&self.config.keys_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "pem"))
            .expect("a key file");
        SigningKey::from_pkcs8_pem(&std::fs::read_to_string(entry).unwrap()).unwrap()
    }

    /// Verifies `token` the way an outside client would: the JWKS over HTTP and
    /// jsonwebtoken directly, not the service's own verifier.
    pub async fn verify_independently(&self, token: &str, audience: &str) -> jsonwebtoken::errors::Result<Value> {
        let header = jsonwebtoken::decode_header(token)?;
        let jwks = self.jwks().await;
        let jwk = jwks.find(header.kid.as_deref().unwrap_or_default()).expect("the kid is in the JWKS");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.address]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation).map(|data| data.claims)
    }
}

/// The status and the JSON error body of a response, asserting the shape.
pub async fn error_of(response: Response) -> (StatusCode, ErrorBody) {
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    assert_eq!(content_type.as_deref(), Some("application/json"), "error body for {status} is not JSON: {text}");
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not the error shape ({e}): {text}"));
    (status, body)
}

/// The `WWW-Authenticate` header of a response.
pub fn challenge(response: &Response) -> Option<String> {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned())
}
