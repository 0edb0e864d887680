//! A replica killed under load: nothing it served lives only in its memory, so every
//! refresh-token family goes on at the others, and a replacement serves the same keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::cluster::{Cluster, PASSWORD, kids, login, replica_count, within};

const FAMILIES: usize = 6;

/// What the refreshers share.
struct Load {
    addresses: Vec<String>,
    alive: std::sync::Mutex<Vec<bool>>,
    /// Each family's latest refresh token.
    families: Vec<Mutex<String>>,
    stop: AtomicBool,
    refreshed: AtomicUsize,
}

/// Refreshes its families in turn at its replica; after that replica is gone, at the
/// next one. Holds `turn` for each request, so the test can kill its replica between two.
async fn refresher(load: Arc<Load>, mut replica: usize, mine: Vec<usize>, turn: Arc<Mutex<()>>) {
    let Load { addresses, alive, families, stop, refreshed } = &*load;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        let _turn = turn.lock().await;
        let family = mine[next % mine.len()];
        let mut token = families[family].lock().await;
        let sent = client
            .post(format!("{}/oauth/token", addresses[replica]))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Its replica is gone (killed between two of our requests, so this one never
            // reached it): the same token, at the next replica alive.
            Err(_) => {
                assert!(!alive.lock().unwrap()[replica], "a request to a live replica failed");
                replica = alive.lock().unwrap().iter().position(|a| *a).unwrap();
                continue;
            }
        };
        assert_eq!(response.status(), StatusCode::OK, "refreshing family {family} at replica {replica}");
        let body: Value = response.json().await.unwrap();
        *token = body["refresh_token"].as_str().unwrap().to_owned();
        refreshed.fetch_add(1, Ordering::Relaxed);
        next += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_loses_no_refresh_token_family() {
    // Arrange: families started at every replica, and one refresher per replica.
    let mut cluster = Cluster::start(replica_count(), &[]).await;
    let count = cluster.replicas.len();
    let mut tokens = Vec::new();
    for family in 0..FAMILIES {
        let name = format!("user{family}");
        cluster.register(&name).await;
        let (status, body) = login(&cluster.client, &cluster.replicas[family % count], &name, PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        tokens.push(Mutex::new(body["refresh_token"].as_str().unwrap().to_owned()));
    }
    let load = Arc::new(Load {
        addresses: cluster.replicas.iter().map(|r| r.address.clone()).collect(),
        alive: std::sync::Mutex::new(vec![true; count]),
        families: tokens,
        stop: AtomicBool::new(false),
        refreshed: AtomicUsize::new(0),
    });
    let turns: Vec<Arc<Mutex<()>>> = (0..count).map(|_| Arc::new(Mutex::new(()))).collect();
    let workers: Vec<_> = (0..count)
        .map(|replica| {
            let mine = (0..FAMILIES).filter(|f| f % count == replica).collect();
            tokio::spawn(refresher(load.clone(), replica, mine, turns[replica].clone()))
        })
        .collect();
    let progress = |n: usize| {
        let load = load.clone();
        async move {
            let target = load.refreshed.load(Ordering::Relaxed) + n;
            within("the refreshes to go on", Duration::from_secs(30), || async {
                load.refreshed.load(Ordering::Relaxed) >= target
            })
            .await;
        }
    };
    progress(3 * count).await;

    // Act: the last replica dies (SIGKILL: no drain, no goodbye) while the others serve.
    let victim = count - 1;
    {
        let _between_requests = turns[victim].lock().await;
        cluster.replicas[victim].signal("-KILL");
        cluster.replicas[victim].wait_exit(Duration::from_secs(5));
        load.alive.lock().unwrap()[victim] = false;
    }
    progress(3 * count).await;
    // A replacement starts, as a Deployment would start one, and serves the same keys.
    let replacement = cluster.spawn_replica().await;
    let survivor = &cluster.replicas[0];
    let jwks = |r| crate::cluster::jwks(&cluster.client, r);
    assert_eq!(kids(&jwks(&replacement).await), kids(&jwks(survivor).await));
    load.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    // Assert: every family goes on, at the replacement too.
    for (family, token) in load.families.iter().enumerate() {
        let token = token.lock().await.clone();
        let response = cluster
            .client
            .post(replacement.url("/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "family {family} survived the replica");
    }
    let (status, _) = login(&cluster.client, &replacement, "user0", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}
