//! What the service refuses at start.

use std::net::TcpListener;

use auth_common::clock::Clock;
use auth_common::service::env::AppEnv;
use auth_common::testing::TestDatabase;
use auth_common::token::signing_key::SigningKey;
use users_service::config::Config;
use users_service::keys::commands;
use users_service::keys::sealing::Kek;
use users_service::keys::store::{KeyRecord, KeyState};
use users_service::startup;

use crate::helpers::spawn_users;

/// A configuration for a second instance on a database of its own, still empty.
fn on_an_empty_database(running: &users_service::testing::TestUsers) -> (Config, TestDatabase) {
    let db = TestDatabase::create("users");
    let mut config = running.config.clone();
    config.common.database_url = db.url.clone();
    (config, db)
}

async fn start(config: Config) -> anyhow::Result<auth_common::service::server::Server> {
    startup::build_with_listener(config, TcpListener::bind("127.0.0.1:0").unwrap(), Clock::system()).await
}

fn key_count(url: &str) -> usize {
    let pool = users_service::db::connect(url, 1).unwrap();
    commands::list(&mut pool.get().unwrap(), &Clock::system()).unwrap().len()
}

#[tokio::test]
async fn production_refuses_to_start_without_a_key_and_generates_none() {
    let running = spawn_users().await;
    let (mut config, db) = on_an_empty_database(&running);
    config.common.app_env = AppEnv::Production;
    config.keys_dir = tempfile::tempdir().unwrap().path().to_owned();
    config.keys_encryption_key = Some(Kek::generate().unwrap().0);
    let err = start(config).await.err().expect("production must not start");
    assert!(format!("{err:#}").contains("keys init"), "{err:#}");
    assert_eq!(key_count(&db.url), 0, "no key may be generated");
}

#[tokio::test]
async fn production_refuses_to_start_without_a_key_encryption_key() {
    let running = spawn_users().await;
    let mut config = running.config.clone();
    config.common.app_env = AppEnv::Production;
    config.keys_encryption_key = None;
    let err = start(config).await.err().expect("production must not start");
    let message = format!("{err:#}");
    assert!(message.contains("JWT_KEYS_ENCRYPTION_KEY") && message.contains("never generates"), "{message}");
}

#[tokio::test]
async fn a_wrong_key_encryption_key_stops_the_start_with_one_clear_line() {
    let running = spawn_users().await;
    let mut config = running.config.clone();
    config.keys_encryption_key = Some(Kek::generate().unwrap().0);
    let err = start(config).await.err().expect("a wrong key must not start");
    assert!(format!("{err:#}").contains("was sealed with key-encryption key"), "{err:#}");
}

#[tokio::test]
async fn development_generates_one_sealed_key_and_an_owner_only_encryption_key_and_reuses_them() {
    use std::os::unix::fs::PermissionsExt;
    let running = spawn_users().await;
    let kek_file = running.config.keys_dir.join(users_service::keys::sealing::DEV_KEY_FILE);
    assert_eq!(std::fs::metadata(&kek_file).unwrap().permissions().mode() & 0o777, 0o600);
    let kid_before = running.jwks().await.keys[0].common.key_id.clone();
    drop(start(running.config.clone()).await.unwrap());
    assert_eq!(key_count(&running.config.common.database_url), 1, "the key was reused, not replaced");
    assert_eq!(std::fs::read_dir(&running.config.keys_dir).unwrap().count(), 1, "no key file beside it");
    assert_eq!(running.jwks().await.keys[0].common.key_id, kid_before);
}

#[tokio::test]
async fn a_start_on_an_empty_database_takes_over_the_key_folder_of_an_earlier_release() {
    let running = spawn_users().await;
    let (mut config, _db) = on_an_empty_database(&running);
    let legacy = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let now = chrono::Utc::now();
    let record = KeyRecord {
        kid: key.kid().to_owned(),
        state: KeyState::Active,
        created_at: now,
        activates_at: Some(now),
        retires_at: None,
    };
    users_service::keys::folder::write_key(legacy.path(), &key, &record).unwrap();
    config.keys_dir = legacy.path().to_owned();
    config.common.app_env = AppEnv::Production;
    config.keys_encryption_key = Some(Kek::generate().unwrap().0);
    let server = start(config.clone()).await.expect("an upgrade starts with its old key");
    drop(server);
    assert_eq!(key_count(&config.common.database_url), 1);
    let pool = users_service::db::connect(&config.common.database_url, 1).unwrap();
    let listed = commands::list(&mut pool.get().unwrap(), &Clock::system()).unwrap();
    assert_eq!(listed[0].kid, key.kid(), "the same key: tokens it signed stay valid");
}
