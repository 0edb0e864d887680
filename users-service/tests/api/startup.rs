//! What the service refuses at start.

use std::net::TcpListener;

use auth_common::clock::Clock;
use auth_common::service::env::AppEnv;
use users_service::startup;

use crate::helpers::spawn_users;

#[tokio::test]
async fn production_refuses_to_start_without_a_key_and_generates_none() {
    let running = spawn_users().await;
    let mut config = running.config.clone();
    let empty = tempfile::tempdir().unwrap();
    config.keys_dir = empty.path().to_owned();
    config.common.app_env = AppEnv::Production;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let err =
        startup::build_with_listener(config, listener, Clock::system()).await.err().expect("production must not start");
    assert!(format!("{err:#}").contains("JWT_KEYS_DIR"), "{err:#}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0, "no key may be generated");
}

#[tokio::test]
async fn development_generates_one_owner_only_key_and_reuses_it_on_restart() {
    use std::os::unix::fs::PermissionsExt;
    let running = spawn_users().await;
    let files: Vec<_> = std::fs::read_dir(&running.config.keys_dir).unwrap().map(|e| e.unwrap().path()).collect();
    let pem = files.iter().find(|p| p.extension().is_some_and(|e| e == "pem")).expect("a generated key");
    assert_eq!(std::fs::metadata(pem).unwrap().permissions().mode() & 0o777, 0o600);
    let kid_before = running.jwks().await.keys[0].common.key_id.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let again = startup::build_with_listener(running.config.clone(), listener, Clock::system()).await.unwrap();
    drop(again);
    assert_eq!(std::fs::read_dir(&running.config.keys_dir).unwrap().count(), 2, "the key was reused, not replaced");
    assert_eq!(running.jwks().await.keys[0].common.key_id, kid_before);
}
