//! The keys commands, run as the real binary, and a running service following them.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use auth_common::clock::TestClock;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use users_service::keys::commands::{self, RotationTimes};

use crate::helpers::spawn_users_with_clock;

/// `users-service keys …` with a clean environment and no `.env` in reach, on the SQLite
/// database in `dir` (its development key-encryption key in `dir/keys`).
fn keys(dir: &Path, args: &[&str]) -> Output {
    let workdir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_users-service"))
        .arg("keys")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("JWT_KEYS_DIR", dir.join("keys"))
        .env("DATABASE_URL", dir.join("users.db"))
        .env("JWKS_MAX_AGE_SECS", "300")
        .env("ACCESS_TOKEN_TTL_SECS", "900")
        .env("JWT_LEEWAY_SECS", "30")
        .current_dir(workdir.path())
        .output()
        .unwrap()
}

fn listed(dir: &Path) -> Vec<Value> {
    let output = keys(dir, &["list", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Value>(&output.stdout).unwrap().as_array().unwrap().clone()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn the_keys_commands_rotate_and_retire_as_the_contract_says() {
    let dir = tempfile::tempdir().unwrap();
    // An empty database: rotate creates the first key, active at once.
    assert!(keys(dir.path(), &["rotate"]).status.success());
    let first = listed(dir.path());
    assert_eq!(first.len(), 1);
    let mut members: Vec<&str> = first[0].as_object().unwrap().keys().map(String::as_str).collect();
    members.sort();
    assert_eq!(members, ["activates_at", "created_at", "kid", "retires_at", "state"]);
    assert_eq!(first[0]["state"], "active");
    let old_kid = first[0]["kid"].as_str().unwrap().to_owned();

    // A routine rotation: published now, signing after JWKS_MAX_AGE_SECS; the old key
    // leaves ACCESS_TOKEN_TTL_SECS + JWT_LEEWAY_SECS after that.
    let rotate = keys(dir.path(), &["rotate"]);
    assert!(rotate.status.success());
    let both = listed(dir.path());
    let new = both.iter().find(|k| k["kid"] != old_kid.as_str()).unwrap();
    let old = both.iter().find(|k| k["kid"] == old_kid.as_str()).unwrap();
    assert_eq!((new["state"].as_str(), old["state"].as_str()), (Some("pending"), Some("active")));
    assert_eq!((time(&new["activates_at"]) - time(&new["created_at"])).num_seconds(), 300);
    assert_eq!((time(&old["retires_at"]) - time(&new["activates_at"])).num_seconds(), 930);
    let table = keys(dir.path(), &["list"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("pending"));

    // Emergency: the active key goes at once and the pending one takes over.
    let unknown = keys(dir.path(), &["retire", "no-such-kid"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no key no-such-kid"));
    assert!(keys(dir.path(), &["retire", &old_kid]).status.success());
    let after = listed(dir.path());
    let state_of = |kid: &str| after.iter().find(|k| k["kid"] == kid).unwrap()["state"].as_str().unwrap().to_owned();
    assert_eq!(state_of(&old_kid), "retired");
    let new_kid = new["kid"].as_str().unwrap();
    assert_eq!(state_of(new_kid), "active");

    // Retiring the last key that can sign is refused and changes nothing.
    let refused = keys(dir.path(), &["retire", new_kid]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only key that can sign"));
    assert_eq!(listed(dir.path()), after);
}

#[tokio::test]
async fn a_running_service_follows_a_rotation_without_restarting() {
    let clock = TestClock::new();
    let users = spawn_users_with_clock(&clock, |c| {
        c.jwks_max_age_secs = 1;
        c.access_token_ttl_secs = 3;
        c.common.leeway_secs = 1;
    })
    .await;
    let old_token = users.user_tokens("alice").await.access;
    let times = RotationTimes { publish_ahead_secs: 1, outlive_secs: 4 };
    let new = users.with_keys(|conn, kek| commands::rotate(conn, kek, times, &clock.clock())).unwrap();
    // Published within the contract's five seconds, with no restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while users.jwks().await.find(&new.kid).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the new key was not published within 5 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The activation time comes: the clock is moved there, and a little past.
    clock.set(new.activates_at.unwrap() + chrono::Duration::milliseconds(100));
    let body: Value = users.login("alice", crate::helpers::PASSWORD).await.json().await.unwrap();
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new.kid.as_str()), "new tokens carry the new kid after activation");
    assert_eq!(users.get_with_token("/users/me", &old_token).await.status(), StatusCode::OK, "old tokens stay valid");
}
