//! Replicas starting together, and a replica leaving.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;

use crate::cluster::{Cluster, within};

#[tokio::test]
async fn init_containers_racing_on_an_empty_database_make_exactly_one_key() {
    // No replica yet: the database is empty, as in a fresh cluster's first rollout.
    let cluster = Cluster::start(0, &[]).await;
    let children: Vec<_> = (0..3)
        .map(|_| {
            cluster.command().args(["keys", "init"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for output in children.into_iter().map(|c| c.wait_with_output().unwrap()) {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let keys = cluster.listed();
    assert_eq!(keys.len(), 1, "one key, whoever won: {keys:?}");
    assert_eq!(keys[0]["state"], "active");
}

#[tokio::test]
async fn replicas_starting_together_on_a_fresh_database_share_one_key() {
    let cluster = Cluster::start(0, &[]).await;
    let (a, b) = tokio::join!(cluster.spawn_replica(), cluster.spawn_replica());
    let keys = cluster.listed();
    assert_eq!(keys.len(), 1, "one key for both: {keys:?}");
    let jwks = |r| crate::cluster::jwks(&cluster.client, r);
    assert_eq!(crate::cluster::kids(&jwks(&a).await), crate::cluster::kids(&jwks(&b).await));
}

#[tokio::test]
async fn sigterm_turns_readiness_off_at_once_while_requests_are_still_served() {
    let mut cluster = Cluster::start(1, &[("SHUTDOWN_DRAIN_SECS", "3")]).await;
    let replica = &cluster.replicas[0];
    replica.signal("-TERM");
    within("readiness turns 503", Duration::from_secs(1), || async {
        let ready = cluster.client.get(replica.url("/health/ready")).send().await.unwrap();
        ready.status() == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let body: serde_json::Value =
        cluster.client.get(replica.url("/health/ready")).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["checks"]["shutdown"], "draining");
    let jwks = cluster.client.get(replica.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(jwks.status(), StatusCode::OK, "still serving while draining");
    let status = cluster.replicas[0].wait_exit(Duration::from_secs(15));
    assert!(status.success(), "a graceful stop exits 0: {status}");
}
