//! The rotation drill: both services running under a steady client load while the signing
//! key is rotated, the old key retires, and then a key is retired in an emergency. No
//! valid request may be refused, and neither service restarts.
//!
//! users-service runs as two replicas on one database: the load logs in at each in turn
//! and reads `/users/me` at the other one, so every token is verified by a replica that
//! did not sign it, and by posts-service.
//!
//! All three tell the time by one test clock, which the drill moves from one moment
//! of the rotation to the next; the load keeps making real requests between real services
//! throughout, and the drill lets it complete whole rounds in each phase.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_common::clock::TestClock;
use reqwest::StatusCode;
use users_service::keys::commands::{self, RotationTimes};

use crate::helpers::{TestSystem, kid_of, spawn_configured_with_clock};

/// The rotation's times, as the services' clock counts them: keys published 2 s ahead,
/// tokens live 4 s.
const MAX_AGE: u64 = 2;
const TTL: u64 = 4;
const LEEWAY: u64 = 1;

/// One request of the load, and how it went.
#[derive(Debug, Clone)]
struct Sent {
    what: &'static str,
    kid: Option<String>,
    /// When it was sent, by the monotonic clock of the test process: it orders the request
    /// among the drill's steps.
    at: Instant,
    status: StatusCode,
}

/// The last request of each round of the load.
const ROUND_END: &str = "public feed";

/// Logs in, reads as the user at both services, refreshes, reads the public feed; again
/// and again until told to stop.
async fn run_load(system: Arc<TestSystem>, replicas: [String; 2], stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Sent>>>) {
    let record =
        |what, kid: Option<&String>, at, status| log.lock().unwrap().push(Sent { what, kid: kid.cloned(), at, status });
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        let (signer, other) = (&replicas[round % 2], &replicas[(round + 1) % 2]);
        round += 1;
        let at = Instant::now();
        let login = system
            .client
            .post(format!("{signer}/auth/login"))
            .json(&serde_json::json!({"username": "alice", "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .unwrap();
        let status = login.status();
        let body: serde_json::Value = login.json().await.unwrap_or_default();
        record("login", None, at, status);
        let (Some(token), Some(refresh)) = (body["access_token"].as_str(), body["refresh_token"].as_str()) else {
            continue;
        };
        let kid = kid_of(token);
        for (what, url) in [("users me", format!("{other}/users/me")), ("posts list", system.posts("/posts"))] {
            let at = Instant::now();
            let status = system.client.get(url).bearer_auth(token).send().await.unwrap().status();
            record(what, Some(&kid), at, status);
        }
        let at = Instant::now();
        let status = system
            .client
            .post(format!("{other}/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
            .await
            .unwrap()
            .status();
        record("refresh", Some(&kid), at, status);
        let at = Instant::now();
        let status = system.client.get(system.posts("/public/posts")).send().await.unwrap().status();
        record(ROUND_END, None, at, status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the load has completed `rounds` whole rounds that started after this call.
async fn load_rounds(log: &Mutex<Vec<Sent>>, rounds: usize) {
    let ended = || log.lock().unwrap().iter().filter(|s| s.what == ROUND_END).count();
    // The round running now may have started before the call: it does not count.
    let target = ended() + rounds + 1;
    eventually("the load completes its rounds", Duration::from_secs(30), || async { ended() >= target }).await;
}

async fn eventually<F: std::future::Future<Output = bool>>(what: &str, within: Duration, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {within:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_drill_refuses_no_valid_request() {
    // Arrange: both services on one clock, a user with a post, and the load running.
    let clock = TestClock::new();
    let system = Arc::new(
        spawn_configured_with_clock(
            &clock,
            |u| {
                u.jwks_max_age_secs = MAX_AGE;
                u.access_token_ttl_secs = TTL;
                u.common.leeway_secs = LEEWAY;
            },
            |p| p.common.leeway_secs = LEEWAY,
        )
        .await,
    );
    let alice = system.user("alice").await;
    system.create_post(&alice.token, "during a rotation").await;
    let first_kid = kid_of(&alice.token);
    let times = RotationTimes { publish_ahead_secs: MAX_AGE, outlive_secs: TTL + LEEWAY };
    let (stop, log) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
    let replica = system.users.spawn_replica().await;
    let replicas = [system.users.address.clone(), replica.address.clone()];
    let load = tokio::spawn(run_load(system.clone(), replicas, stop.clone(), log.clone()));
    load_rounds(&log, 2).await;

    // Act 1: a routine rotation.
    let second = system.users.with_keys(|conn, kek| commands::rotate(conn, kek, times, &clock.clock())).unwrap();
    let activates = second.activates_at.unwrap();
    let replica_kids = || async { kids(&replica.jwks().await) };
    eventually("both replicas publish the new key", Duration::from_secs(2), || async {
        system.published_kids().await.contains(&second.kid) && replica_kids().await.contains(&second.kid)
    })
    .await;
    // Publishing ahead is there so every verifier fetches the new key before it signs:
    // posts-service's scheduled refresh, which runs on tokio's timer, has done so once it
    // has fetched again since.
    let fetches = system.proxy.recorded_to("/.well-known/jwks.json").len();
    eventually("posts-service refreshes its JWKS", Duration::from_secs(5), || async {
        system.proxy.recorded_to("/.well-known/jwks.json").len() > fetches
    })
    .await;
    load_rounds(&log, 2).await;
    assert!(clock.now() < activates, "published before it signs");
    // Moments before the activation, an Argon2 login: the clock stands still while it runs.
    clock.set(activates - chrono::Duration::milliseconds(600));
    let (last_old_token, _) = system.login("alice").await;
    assert_eq!(kid_of(&last_old_token), first_kid, "the old key signs until the new one activates");
    clock.set(activates + chrono::Duration::milliseconds(200));
    let (new_token, _) = system.login("alice").await;
    assert_eq!(kid_of(&new_token), second.kid, "the new key signs once active");
    for url in [system.users("/users/me"), system.posts("/posts")] {
        let status = system.client.get(&url).bearer_auth(&last_old_token).send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "a token of the old key stays valid until it expires: {url}");
    }
    load_rounds(&log, 2).await;
    let retires = activates + chrono::Duration::seconds((TTL + LEEWAY) as i64);
    clock.set(retires);
    eventually("the old key leaves both replicas' JWKS", Duration::from_secs(2), || async {
        system.published_kids().await == [second.kid.clone()] && replica_kids().await == [second.kid.clone()]
    })
    .await;
    load_rounds(&log, 2).await;

    // Act 2: the active key is compromised: a new key, and the old one retired at once.
    let (doomed_token, _) = system.login("alice").await;
    assert_eq!(kid_of(&doomed_token), second.kid);
    let third = system.users.with_keys(|conn, kek| commands::rotate(conn, kek, times, &clock.clock())).unwrap();
    // As the emergency procedure says: the new key published everywhere, then the retire.
    eventually("both replicas publish the new key", Duration::from_secs(2), || async {
        system.published_kids().await.contains(&third.kid) && replica_kids().await.contains(&third.kid)
    })
    .await;
    clock.advance(Duration::from_secs(1));
    let retired_at = Instant::now();
    system.users.with_keys(|conn, _| commands::retire(conn, &second.kid, &clock.clock())).unwrap();
    eventually("the pending key takes over at once", Duration::from_secs(2), || async {
        kid_of(&system.login("alice").await.0) == third.kid
    })
    .await;
    eventually("both replicas refuse the retired key's tokens", Duration::from_secs(2), || async {
        let mut refused = true;
        for url in [system.users("/users/me"), replica.url("/users/me")] {
            refused &= system.client.get(url).bearer_auth(&doomed_token).send().await.unwrap().status()
                == StatusCode::UNAUTHORIZED;
        }
        refused
    })
    .await;
    let (after, _) = system.login("alice").await;
    assert_eq!(
        system.get("/posts", &after).await.status(),
        StatusCode::OK,
        "posts-service accepts the new key at once"
    );
    load_rounds(&log, 2).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();

    // Assert: the only refusals are of tokens signed with the retired key, after it was retired.
    let sent = log.lock().unwrap().clone();
    assert!(sent.len() >= 50, "the load ran throughout: {} requests", sent.len());
    let kinds: std::collections::BTreeSet<&str> = sent.iter().map(|s| s.what).collect();
    assert_eq!(kinds.len(), 5, "every kind of request was exercised: {kinds:?}");
    let wrongly_refused: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.status != StatusCode::OK)
        .filter(|s| !(s.kid.as_deref() == Some(second.kid.as_str()) && s.at >= retired_at))
        .collect();
    assert!(wrongly_refused.is_empty(), "valid requests refused: {wrongly_refused:#?}");
    let kids: std::collections::BTreeSet<&str> = sent.iter().filter_map(|s| s.kid.as_deref()).collect();
    assert!(
        kids.contains(first_kid.as_str()) && kids.contains(second.kid.as_str()) && kids.contains(third.kid.as_str()),
        "{kids:?}"
    );
    assert_eq!(system.client.get(system.posts("/health/live")).send().await.unwrap().status(), StatusCode::OK);
}

fn kids(jwks: &jsonwebtoken::jwk::JwkSet) -> Vec<String> {
    jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect()
}
