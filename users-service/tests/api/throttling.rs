//! Credential guessing beyond one account: client secrets, spraying across accounts,
//! probing for taken names, revocation floods, several replicas on one database, and a
//! database that cannot be read. (One account's lockout: `login.rs`.)

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, SERVICE_CLIENT, TestUsers, error_of, spawn_users_with};
use diesel::RunQueryDsl;

async fn trusted_gateway() -> TestUsers {
    spawn_users_with(|c| c.trust_forwarded_for = true).await
}

/// 429, the error shape, and a `Retry-After` of at least a second.
async fn assert_throttled(response: Response, context: &str) -> String {
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "{context}: Retry-After {retry_after}");
    let (status, body) = error_of(response).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{context}");
    body.error_description
}

/// Requests that arrive through the trusted gateway from a given address.
trait FromAddress {
    async fn client_credentials_from(&self, ip: &str, client: (&str, &str)) -> Response;
    async fn login_from(&self, ip: &str, username: &str, password: &str) -> Response;
    async fn register_from(&self, ip: &str, username: &str) -> Response;
}

impl FromAddress for TestUsers {
    async fn client_credentials_from(&self, ip: &str, (id, secret): (&str, &str)) -> Response {
        self.client
            .post(self.url("/oauth/token"))
            .header("x-forwarded-for", ip)
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
    }

    async fn login_from(&self, ip: &str, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    async fn register_from(&self, ip: &str, username: &str) -> Response {
        self.client
            .post(self.url("/users"))
            .header("x-forwarded-for", ip)
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn wrong_client_secrets_lock_that_client_from_that_address() {
    let users = trusted_gateway().await;
    let (id, _) = SERVICE_CLIENT;
    for attempt in 1..=5 {
        let response = users.client_credentials_from("198.51.100.7", (id, "guessed-secret")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // Refused before the secret is compared: even the right one gets 429 now.
    let locked = users.client_credentials_from("198.51.100.7", SERVICE_CLIENT).await;
    let description = assert_throttled(locked, "after five wrong secrets").await;
    assert!(description.contains("client"), "{description}");
    assert!(!description.contains(SERVICE_CLIENT.1), "no secret echoed");
    // The real posts-service, from its own address, is not locked out by the guesser.
    assert_eq!(users.client_credentials_from("198.51.100.8", SERVICE_CLIENT).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn spraying_one_password_across_many_accounts_locks_the_address() {
    let users = trusted_gateway().await;
    users.register("alice").await;
    // One guess per account stays under each account's limit, not under the address's.
    for i in 0..20 {
        let response = users.login_from("198.51.100.7", &format!("victim{i}"), "Winter2026!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let locked = users.login_from("198.51.100.7", "alice", PASSWORD).await;
    assert_throttled(locked, "after 20 failures across accounts").await;
    assert_eq!(
        users.login_from("198.51.100.8", "alice", PASSWORD).await.status(),
        StatusCode::OK,
        "alice, from her own address, is not affected"
    );
}

#[tokio::test]
async fn probing_for_taken_usernames_locks_the_address() {
    let users = trusted_gateway().await;
    assert_eq!(users.register_from("198.51.100.7", "alice").await.status(), StatusCode::CREATED);
    for i in 0..20 {
        assert_eq!(users.register_from("198.51.100.7", "alice").await.status(), StatusCode::CONFLICT, "probe {i}");
    }
    assert_throttled(users.register_from("198.51.100.7", "carol").await, "after 20 taken names").await;
    assert_eq!(users.register_from("198.51.100.8", "carol").await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_flood_of_revocations_is_refused_per_address() {
    let users = trusted_gateway().await;
    let revoke_from = |ip: &'static str| {
        users.client.post(users.url("/oauth/revoke")).header("x-forwarded-for", ip).form(&[("token", "guess")]).send()
    };
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(revoke_from("198.51.100.7").await.unwrap().status());
    }
    // A burst of 30 is served; then one more every 2 s, so a slow run may see one or two.
    let allowed = statuses.iter().take_while(|s| **s == StatusCode::OK).count();
    assert!((30..=32).contains(&allowed), "a burst of 30 is served: {statuses:?}");
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(refused >= 6 && refused + allowed <= 40, "{statuses:?}");
    assert_throttled(revoke_from("198.51.100.7").await.unwrap(), "revocation flood").await;
    assert_eq!(revoke_from("198.51.100.8").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn failed_logins_split_across_two_replicas_lock_the_name_at_both() {
    // Arrange: two instances on one database, behind one gateway.
    let first = trusted_gateway().await;
    let second = first.spawn_replica().await;
    assert_eq!(first.register("alice").await.status(), StatusCode::CREATED);

    // Act: five wrong passwords, alternating between them.
    for attempt in 1..=5 {
        let replica = if attempt % 2 == 1 { &first } else { &second };
        let response = replica.login_from("198.51.100.7", "alice", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }

    // Assert: both refuse even the right password from that address, and neither from another.
    for (name, replica) in [("first", &first), ("second", &second)] {
        let description = assert_throttled(replica.login_from("198.51.100.7", "alice", PASSWORD).await, name).await;
        assert!(description.contains("account"), "{name}: {description}");
        let elsewhere = replica.login_from("198.51.100.8", "alice", PASSWORD).await;
        assert_eq!(elsewhere.status(), StatusCode::OK, "{name}: another address is not locked out");
    }
}

#[tokio::test]
async fn when_the_failure_counts_cannot_be_read_logins_and_client_authentication_get_503() {
    // Arrange: a user, then the counters' table gone (every read of it fails).
    let users = trusted_gateway().await;
    assert_eq!(users.register("alice").await.status(), StatusCode::CREATED);
    let pool = users_service::db::connect(&users.config.common.database_url, 1).unwrap();
    diesel::sql_query("DROP TABLE credential_failures").execute(&mut **pool.get().unwrap()).unwrap();

    // Act and assert: refused, not let through unthrottled, with the usual outage answer.
    let cases = [
        ("a right password", users.login_from("198.51.100.7", "alice", PASSWORD).await),
        ("a wrong password", users.login_from("198.51.100.7", "alice", "wrong password").await),
        ("a client secret", users.client_credentials_from("198.51.100.7", SERVICE_CLIENT).await),
    ];
    for (case, response) in cases {
        assert_eq!(response.headers()["retry-after"], "1", "{case}");
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"), "{case}");
        assert!(!body.error_description.contains("credential_failures"), "{case}: no SQL in the body");
    }
}
