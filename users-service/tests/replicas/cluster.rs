//! A set of users-service processes sharing one database and one key-encryption key.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use auth_common::testing::TestDatabase;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The `iss` every replica signs with: one issuer, however many processes serve it.
pub const ISSUER: &str = "http://users.replicas.test";
/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery";

/// How many replicas a test runs: three on PostgreSQL, two on SQLite.
pub fn replica_count() -> usize {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { 3 } else { 2 }
}

/// One users-service process.
pub struct Replica {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    log: PathBuf,
}

impl Replica {
    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends `signal` (`-KILL`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(signal).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to exit, at most `limit`; its exit status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the replica did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replicas on one database, and the environment they and the keys commands share.
pub struct Cluster {
    pub replicas: Vec<Replica>,
    pub client: reqwest::Client,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    _db: TestDatabase,
}

impl Cluster {
    /// `count` replicas, started one after another on a fresh database, with `extra`
    /// settings on top of the test defaults.
    pub async fn start(count: usize, extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::create("replicas");
        let dir = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = [
            ("DATABASE_URL", db.url.as_str()),
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("JWT_ISSUER", ISSUER),
            // A rotated key signs one second after it is published: every replica has
            // reloaded by then (500 ms polls).
            ("JWKS_MAX_AGE_SECS", "1"),
            ("ACCESS_TOKEN_TTL_SECS", "60"),
            ("JWT_LEEWAY_SECS", "1"),
            ("RUST_LOG", "warn"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.push(("JWT_KEYS_DIR".into(), dir.path().join("keys").display().to_string()));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let mut cluster = Self { replicas: Vec::new(), client, env, dir, _db: db };
        for _ in 0..count {
            let replica = cluster.spawn_replica().await;
            cluster.replicas.push(replica);
        }
        cluster
    }

    /// Starts one more replica and waits until it is ready.
    pub async fn spawn_replica(&self) -> Replica {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = self.dir.path().join(format!("replica-{port}.log"));
        let child = self
            .command()
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut replica = Replica { child, address: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = replica.child.try_wait().unwrap() {
                panic!("the replica exited ({status}): {}", std::fs::read_to_string(&replica.log).unwrap_or_default());
            }
            let ready = self.client.get(replica.url("/health/ready")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return replica;
            }
            assert!(Instant::now() < deadline, "the replica was not ready within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The released binary with the cluster's environment and nothing else (no `.env`).
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_users-service"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path());
        command
    }

    /// `users-service keys …`, as an operator runs it beside the replicas.
    pub fn keys(&self, args: &[&str]) -> Output {
        let output = self.command().arg("keys").args(args).output().unwrap();
        assert!(
            output.status.success(),
            "keys {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// `keys list --json`.
    pub fn listed(&self) -> Vec<Value> {
        serde_json::from_slice::<Value>(&self.keys(&["list", "--json"]).stdout).unwrap().as_array().unwrap().clone()
    }

    /// The kid of the one key in `state`.
    pub fn kid_in_state(&self, state: &str) -> String {
        let keys = self.listed();
        let found: Vec<&Value> = keys.iter().filter(|k| k["state"] == state).collect();
        assert_eq!(found.len(), 1, "one {state} key expected: {keys:?}");
        found[0]["kid"].as_str().unwrap().to_owned()
    }

    /// The kids each replica publishes, in replica order.
    pub async fn published(&self) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for replica in &self.replicas {
            all.push(kids(&jwks(&self.client, replica).await));
        }
        all
    }

    /// Registers `username` at the first replica.
    pub async fn register(&self, username: &str) {
        let body = json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD});
        let response = self.client.post(self.replicas[0].url("/users")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "registering {username}");
    }
}

/// A replica's JWKS.
pub async fn jwks(client: &reqwest::Client, replica: &Replica) -> JwkSet {
    client.get(replica.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap()
}

/// The kids of a JWKS, sorted.
pub fn kids(jwks: &JwkSet) -> Vec<String> {
    let mut kids: Vec<String> = jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect();
    kids.sort();
    kids
}

/// Verifies `token` as a standard client would, against `jwks` (another replica's).
pub fn verify_against(token: &str, jwks: &JwkSet) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let jwk = jwks.find(header.kid.as_deref().unwrap_or_default()).ok_or("kid not in the JWKS")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&["users-service"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|d| d.claims).map_err(|e| e.to_string())
}

/// The kid in a token's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Polls `condition` every 50 ms until it holds; how long that took. Panics after `limit`.
pub async fn within<F, Fut>(what: &str, limit: Duration, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if condition().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs in at `replica`: the status and the body.
pub async fn login(client: &reqwest::Client, replica: &Replica, username: &str, password: &str) -> (StatusCode, Value) {
    let response = client
        .post(replica.url("/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}
