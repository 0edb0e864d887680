//! One key set across replicas: a routine rotation and an emergency retire, driven by the
//! keys commands under load, with every token verified at every replica and by a standard
//! client against another replica's JWKS.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use reqwest::StatusCode;

use crate::cluster::{Cluster, PASSWORD, jwks, kid_of, kids, login, replica_count, verify_against, within};

/// The bound the deployment docs promise for a key change to reach every replica.
const PROPAGATION: Duration = Duration::from_secs(2);

/// One round of the load: a token from one replica, checked everywhere.
#[derive(Debug, Clone)]
struct Round {
    signed_by: usize,
    kid: String,
    /// `GET /users/me` with the token at each replica.
    statuses: Vec<StatusCode>,
    /// A standard client's verdict against the next replica's JWKS.
    independent: Result<(), String>,
    /// When the last check of the round finished.
    done: Instant,
}

async fn run_load(addresses: Vec<String>, client: reqwest::Client, stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Round>>>) {
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let signed_by = round % addresses.len();
        let at = |i: usize, path: &str| format!("{}{path}", addresses[i]);
        let response = client
            .post(at(signed_by, "/auth/login"))
            .json(&serde_json::json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login at replica {signed_by}");
        let body: serde_json::Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        let mut statuses = Vec::new();
        for i in 0..addresses.len() {
            statuses.push(client.get(at(i, "/users/me")).bearer_auth(&token).send().await.unwrap().status());
        }
        let other = (signed_by + 1) % addresses.len();
        let published: JwkSet =
            client.get(at(other, "/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
        let independent = verify_against(&token, &published).map(|_| ());
        log.lock().unwrap().push(Round { signed_by, kid: kid_of(&token), statuses, independent, done: Instant::now() });
        round += 1;
    }
}

async fn rounds_after(log: &Mutex<Vec<Round>>, more: usize) {
    let target = log.lock().unwrap().len() + more;
    within("the load to go on", Duration::from_secs(30), || async { log.lock().unwrap().len() >= target }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_and_an_emergency_retire_across_replicas_refuse_no_valid_token() {
    // Arrange: the replicas, a user, and the load running.
    let cluster = Cluster::start(replica_count(), &[]).await;
    cluster.register("alice").await;
    let first = cluster.kid_in_state("active");
    let published = cluster.published().await;
    assert!(published.iter().all(|p| p == std::slice::from_ref(&first)), "one key set everywhere: {published:?}");
    let addresses: Vec<String> = cluster.replicas.iter().map(|r| r.address.clone()).collect();
    let (stop, log) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
    let load = tokio::spawn(run_load(addresses, cluster.client.clone(), stop.clone(), log.clone()));
    rounds_after(&log, 2 * cluster.replicas.len()).await;

    // Act 1: a routine rotation, run once by an operator.
    cluster.keys(&["rotate"]);
    let second = cluster.kid_in_state("pending");
    let published_in = within("every replica publishes the new key", PROPAGATION, || async {
        cluster.published().await.iter().all(|p| p.contains(&second))
    })
    .await;
    println!("rotation reached every replica's JWKS in {} ms", published_in.as_millis());
    within("the new key signs at every replica", Duration::from_secs(10), || async {
        let recent: Vec<Round> = log.lock().unwrap().iter().rev().take(cluster.replicas.len()).cloned().collect();
        recent.len() == cluster.replicas.len() && recent.iter().all(|r| r.kid == second)
    })
    .await;
    rounds_after(&log, cluster.replicas.len()).await;

    // Act 2: the old key, now retiring, is dropped at once (say it leaked).
    let retired_at = Instant::now();
    cluster.keys(&["retire", &first]);
    let gone_in = within("the retired key leaves every replica's JWKS", PROPAGATION, || async {
        cluster.published().await.iter().all(|p| p == std::slice::from_ref(&second))
    })
    .await;
    println!("an emergency retire left every replica's JWKS in {} ms", gone_in.as_millis());
    rounds_after(&log, 2 * cluster.replicas.len()).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();

    // Assert: every token was accepted everywhere, except the retired key's after its retirement.
    let rounds = log.lock().unwrap().clone();
    let refused: Vec<&Round> = rounds
        .iter()
        .filter(|r| !(r.kid == first && r.done >= retired_at))
        .filter(|r| r.statuses.iter().any(|s| *s != StatusCode::OK) || r.independent.is_err())
        .collect();
    assert!(refused.is_empty(), "valid tokens refused: {refused:#?}");
    for replica in 0..cluster.replicas.len() {
        assert!(
            rounds.iter().any(|r| r.signed_by == replica && r.kid == first),
            "replica {replica} signed with the first key"
        );
        assert!(
            rounds.iter().any(|r| r.signed_by == replica && r.kid == second),
            "replica {replica} signed with the second"
        );
    }
    let after: Vec<&Round> = rounds.iter().filter(|r| r.done >= retired_at + PROPAGATION).collect();
    assert!(after.iter().all(|r| r.kid == second), "no replica signs with the retired key");
}

#[tokio::test]
async fn a_token_of_the_retired_key_is_refused_by_every_replica() {
    let cluster = Cluster::start(replica_count(), &[]).await;
    cluster.register("bob").await;
    let (_, body) = login(&cluster.client, &cluster.replicas[0], "bob", PASSWORD).await;
    let doomed = body["access_token"].as_str().unwrap().to_owned();
    let first = kid_of(&doomed);
    cluster.keys(&["rotate"]);
    let second = cluster.kid_in_state("pending");
    within("every replica publishes the new key", PROPAGATION, || async {
        cluster.published().await.iter().all(|p| p.contains(&second))
    })
    .await;
    // The signer is compromised: the pending key takes over at once.
    cluster.keys(&["retire", &first]);
    within("every replica drops the key and refuses its tokens", PROPAGATION, || async {
        let mut all = true;
        for replica in &cluster.replicas {
            let status =
                cluster.client.get(replica.url("/users/me")).bearer_auth(&doomed).send().await.unwrap().status();
            all &= status == StatusCode::UNAUTHORIZED && !kids(&jwks(&cluster.client, replica).await).contains(&first);
        }
        all
    })
    .await;
    for replica in &cluster.replicas {
        let (status, body) = login(&cluster.client, replica, "bob", PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(kid_of(body["access_token"].as_str().unwrap()), first, "the new key signs at once");
    }
}

#[tokio::test]
async fn two_rotations_at_once_from_two_operators_leave_exactly_one_new_key() {
    let cluster = Cluster::start(1, &[]).await;
    let children: Vec<_> = (0..4)
        .map(|_| {
            cluster
                .command()
                .args(["keys", "rotate"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let succeeded = outputs.iter().filter(|o| o.status.success()).count();
    let keys = cluster.listed();
    let pending = keys.iter().filter(|k| k["state"] == "pending").count();
    assert_eq!(pending, 1, "exactly one new key: {keys:?}");
    assert!(succeeded >= 1, "one rotation went through");
    for refused in outputs.iter().filter(|o| !o.status.success()) {
        assert!(String::from_utf8_lossy(&refused.stderr).contains("in progress"), "{refused:?}");
    }
}
