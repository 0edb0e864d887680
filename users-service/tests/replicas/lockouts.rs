//! Lockouts counted across replicas: an attacker gets no more guesses for spreading them.

use reqwest::StatusCode;

use crate::cluster::{Cluster, PASSWORD, login};

#[tokio::test]
async fn five_failed_logins_spread_over_two_replicas_lock_the_name_out_at_both() {
    let cluster = Cluster::start(2, &[]).await;
    cluster.register("carol").await;
    for attempt in 0..5 {
        let replica = &cluster.replicas[attempt % 2];
        let (status, _) = login(&cluster.client, replica, "carol", "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    for replica in &cluster.replicas {
        let (status, body) = login(&cluster.client, replica, "carol", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked at {}: {body}", replica.address);
        assert_eq!(body["error"], "rate_limited");
    }
    // Another name from the same address is not locked.
    cluster.register("dave").await;
    let (status, _) = login(&cluster.client, &cluster.replicas[1], "dave", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}
