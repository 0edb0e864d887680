//! The JWKS cache: one fetch per interval whatever the flood, and new keys picked up
//! without a restart.

use std::time::Duration;

use auth_common::clock::TestClock;
use auth_common::testing::{stranger_key, user_claims};
use jsonwebtoken::Header;
use reqwest::StatusCode;

use crate::helpers::spawn_system_with_clock;

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_users_service_at_most_one_fetch() {
    let clock = TestClock::new();
    let system = spawn_system_with_clock(&clock, |c| c.jwks_min_refetch = Duration::from_secs(1)).await;
    let real = system.signing_key();
    let claims = user_claims(&system.issuer);
    // Let the start-up fetch age past the cooldown, so the flood may cause exactly one.
    clock.advance(Duration::from_millis(1100));
    system.proxy.clear();
    let tokens: Vec<String> = (0..60)
        .map(|i| {
            real.sign_with_header(
                &Header { kid: Some(format!("random-kid-{i}")), ..real.access_token_header() },
                &claims,
            )
            .unwrap()
        })
        .collect();
    let responses = futures_util::future::join_all(tokens.iter().map(|t| system.get("/posts", t))).await;
    assert!(responses.iter().all(|r| r.status() == StatusCode::UNAUTHORIZED));
    let fetches = system.proxy.recorded_to("/.well-known/jwks.json").len();
    assert_eq!(fetches, 1, "one shared fetch for the whole flood");
    // A second flood within the cooldown costs nothing.
    let again = futures_util::future::join_all(tokens.iter().take(20).map(|t| system.get("/posts", t))).await;
    assert!(again.iter().all(|r| r.status() == StatusCode::UNAUTHORIZED));
    assert_eq!(system.proxy.recorded_to("/.well-known/jwks.json").len(), 1);
}

#[tokio::test]
async fn a_newly_published_key_is_picked_up_without_a_restart() {
    let clock = TestClock::new();
    let system = spawn_system_with_clock(&clock, |c| c.jwks_min_refetch = Duration::from_millis(200)).await;
    let new_key = stranger_key();
    let token = new_key.sign(&user_claims(&system.issuer)).unwrap();
    assert_eq!(system.get("/posts", &token).await.status(), StatusCode::UNAUTHORIZED, "not published yet");
    // users-service publishes a second key (as a rotation does).
    system.proxy.publish_extra_key(new_key.jwk().clone());
    clock.advance(Duration::from_millis(250));
    assert_eq!(system.get("/posts", &token).await.status(), StatusCode::OK);
    // The original key still works beside it.
    let old = system.signing_key().sign(&user_claims(&system.issuer)).unwrap();
    assert_eq!(system.get("/posts", &old).await.status(), StatusCode::OK);
}
