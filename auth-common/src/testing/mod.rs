//! Test helpers: keys generated at run time (we commit no private key, not even a test
//! one) and claim sets to sign, valid or deliberately broken; a database of its own for
//! each test; reading answers (`http`); the hostile tokens every verifier must refuse
//! ([`hostile_tokens`]), one table for the verifier's unit tests and both services' HTTP tests.

// Test helpers fail loudly: a panic here is a failed test, not a crashed service.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::OnceLock;

pub mod hostile_tokens;
#[cfg(feature = "test-support")]
pub mod http;

use crate::token::claims::AccessClaims;
use crate::token::scope::USER_SCOPES;
use crate::token::signing_key::SigningKey;

/// A key generated once per test binary.
pub fn test_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().expect("generating a test RSA key"))
}

/// A second key, for tokens signed by a stranger.
pub fn stranger_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().expect("generating a test RSA key"))
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

/// Signs `claims` with `key` (RS256) under a header given as raw JSON, which may hold what
/// jsonwebtoken's `Header` cannot express: unknown members, odd `kid`s, an `alg` that lies.
pub fn sign_raw(key: &SigningKey, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    key.sign_rs256(header.to_string().as_bytes(), claims.to_string().as_bytes()).unwrap()
}

/// Valid user-token claims for `issuer`, for both services, living five minutes.
pub fn user_claims(issuer: &str) -> AccessClaims {
    let now = now();
    AccessClaims {
        iss: issuer.to_owned(),
        sub: "1".to_owned(),
        aud: vec!["users-service".to_owned(), "posts-service".to_owned()],
        exp: now + 300,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().to_string(),
        scope: USER_SCOPES.to_owned(),
        client_id: "login".to_owned(),
        username: Some("alice".to_owned()),
    }
}

/// A database of its own for one test: a SQLite file in a temporary folder, or, when
/// `TEST_DATABASE_URL` names a PostgreSQL server, a new database on it that is dropped
/// when this value is.
#[cfg(feature = "db")]
pub struct TestDatabase {
    /// The URL to give the service as `DATABASE_URL`.
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

#[cfg(feature = "db")]
impl TestDatabase {
    /// Creates the database; `prefix` names it (`users`, `posts`).
    pub fn create(prefix: &str) -> Self {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let name = format!("test_{prefix}_{}", uuid::Uuid::new_v4().simple());
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let mut conn = PgConnection::establish(&admin_url).expect("connecting to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .expect("creating a test database");
                let url = with_database_name(&admin_url, &name);
                Self { url, admin_url: Some(admin_url), name, _dir: None }
            }
            None => {
                let dir = tempfile::tempdir().expect("creating a temporary folder");
                let url = dir.path().join(format!("{prefix}.db")).display().to_string();
                Self { url, admin_url: None, name, _dir: Some(dir) }
            }
        }
    }
}

#[cfg(feature = "db")]
impl Drop for TestDatabase {
    fn drop(&mut self) {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        if let Some(admin_url) = &self.admin_url
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).execute(&mut conn);
        }
    }
}

/// `postgres://u:p@h:5432/admin?x=y` with the database `name` instead of `admin`.
#[cfg(feature = "db")]
fn with_database_name(url: &str, name: &str) -> String {
    let query_start = url.find('?').unwrap_or(url.len());
    let (base, query) = url.split_at(query_start);
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    match base[authority_end..].find('/') {
        Some(slash) => format!("{}/{name}{query}", &base[..authority_end + slash]),
        None => format!("{base}/{name}{query}"),
    }
}

#[cfg(all(test, feature = "db"))]
mod tests {
    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            super::with_database_name("postgres://u:p@h:5432/admin?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(super::with_database_name("postgres://u@h", "t1"), "postgres://u@h/t1");
    }
}

/// Every `(METHOD, path)` an OpenAPI document describes.
pub fn openapi_operations(doc: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    doc["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .flat_map(|(path, item)| {
                    item.as_object()
                        .into_iter()
                        .flat_map(|ops| ops.keys())
                        .filter(|m| METHODS.contains(&m.as_str()))
                        .map(move |m| (m.to_uppercase(), path.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every `$ref` in an OpenAPI document that names no component.
pub fn dangling_refs(doc: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, root: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    let pointer = target.trim_start_matches('#');
                    if root.pointer(pointer).is_none() {
                        out.push(target.clone());
                    }
                }
                map.values().for_each(|v| walk(v, root, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, root, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

/// Test logging, set up once per test binary, and only when `TEST_LOG` is set.
pub fn init_logging() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = env_logger::builder().is_test(true).filter_level(log::LevelFilter::Debug).try_init();
        }
    });
}

/// Asserts that a service's OpenAPI document, with the operations routes merged in as the
/// service serves it, describes exactly the routes of its route table and the operations
/// routes, that its references resolve, and that every bearer-protected route documents
/// its 401.
pub fn assert_documents_routes(table: crate::service::http::routes::RouteTable, doc: utoipa::openapi::OpenApi) {
    let (table, doc) = crate::service::operations::with_operations(table, doc);
    let doc = serde_json::to_value(&doc).expect("serialising the document");
    let routed: std::collections::BTreeSet<(String, String)> =
        table.iter().map(|(path, method, _)| (method.to_string(), (*path).to_owned())).collect();
    assert_eq!(openapi_operations(&doc), routed, "documented operations differ from the routes");
    assert_eq!(dangling_refs(&doc), Vec::<String>::new(), "references that resolve to nothing");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for (method, path) in openapi_operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        for (status, response) in operation["responses"].as_object().into_iter().flatten() {
            assert!(response.get("description").is_some(), "{method} {path} {status}: OpenAPI requires a description");
        }
        let secured = operation["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        assert!(
            !secured || operation["responses"].get("401").is_some(),
            "{method} {path}: a bearer-protected route must document its 401"
        );
    }
}
