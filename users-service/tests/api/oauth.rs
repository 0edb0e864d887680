//! The token endpoint's client-credentials grant, its errors, and revocation.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{OTHER_CLIENT, SERVICE_CLIENT, challenge, error_of, spawn_users};

#[tokio::test]
async fn client_credentials_by_basic_or_post_issue_a_token_without_refresh() {
    let users = spawn_users().await;
    let (id, secret) = SERVICE_CLIENT;
    let by_basic = users.token_request(&[("grant_type", "client_credentials")], Some(SERVICE_CLIENT)).await;
    let by_post = users
        .token_request(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)], None)
        .await;
    for response in [by_basic, by_post] {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert!(body.get("refresh_token").is_none());
        assert_eq!(body["scope"], "users:read");
        let claims = users.verify_independently(body["access_token"].as_str().unwrap(), "users-service").await.unwrap();
        assert_eq!(claims["sub"], id);
        assert_eq!(claims["client_id"], id);
        assert_eq!(claims["aud"], serde_json::json!(["users-service"]));
        assert!(claims.get("username").is_none());
    }
}

#[tokio::test]
async fn a_service_account_gets_only_scopes_it_was_granted() {
    let users = spawn_users().await;
    let narrower = users
        .token_request(&[("grant_type", "client_credentials"), ("scope", "users:read")], Some(SERVICE_CLIENT))
        .await;
    assert_eq!(narrower.status(), StatusCode::OK);
    for scope in ["users:read posts:write", "admin:all", "not a scope"] {
        let response =
            users.token_request(&[("grant_type", "client_credentials"), ("scope", scope)], Some(SERVICE_CLIENT)).await;
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::BAD_REQUEST, "invalid_scope"), "scope {scope:?}");
    }
}

#[tokio::test]
async fn bad_client_credentials_are_401_invalid_client_with_a_basic_challenge() {
    let users = spawn_users().await;
    let mut answers = Vec::new();
    for (case, basic) in [
        ("wrong secret", ("posts-service", "wrong")),
        ("unknown client", ("nobody", "wrong")),
        ("another client's secret", ("posts-service", OTHER_CLIENT.1)),
    ] {
        let response = users.token_request(&[("grant_type", "client_credentials")], Some(basic)).await;
        assert!(challenge(&response).is_some_and(|c| c.starts_with("Basic")), "case {case}");
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_client"), "case {case}");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "unknown and known clients must get the same answer");
    let no_auth = users.token_request(&[("grant_type", "client_credentials")], None).await;
    assert_eq!(error_of(no_auth).await.1.error, "invalid_client");
}

#[tokio::test]
async fn malformed_token_requests_get_rfc_6749_errors() {
    let users = spawn_users().await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 5] = [
        ("no grant_type", vec![], None, "invalid_request"),
        ("unknown grant", vec![("grant_type", "password")], None, "unsupported_grant_type"),
        ("implicit grant", vec![("grant_type", "implicit")], None, "unsupported_grant_type"),
        (
            "repeated grant_type",
            vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
            Some(SERVICE_CLIENT),
            "invalid_request",
        ),
        (
            "basic and post at once",
            vec![("grant_type", "client_credentials"), ("client_secret", SERVICE_CLIENT.1)],
            Some(SERVICE_CLIENT),
            "invalid_request",
        ),
    ];
    for (case, params, basic, code) in cases {
        let (status, body) = error_of(users.token_request(&params, basic).await).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::BAD_REQUEST, code), "case {case}");
    }
    let json_body = users
        .client
        .post(users.url("/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(json_body).await.1.error, "invalid_request");
    let get = users.client.get(users.url("/oauth/token")).send().await.unwrap();
    assert_eq!(error_of(get).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn revoking_a_refresh_token_kills_its_family_and_unknown_tokens_are_still_200() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let revoke =
        users.form("/oauth/revoke", &[("token", &tokens.refresh), ("token_type_hint", "access_token")], None).await;
    assert_eq!(revoke.status(), StatusCode::OK);
    let refresh =
        users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)], None).await;
    assert_eq!(error_of(refresh).await.1.error, "invalid_grant");
    for garbage in ["garbage", tokens.access.as_str()] {
        assert_eq!(
            users.form("/oauth/revoke", &[("token", garbage), ("token_type_hint", "bogus")], None).await.status(),
            StatusCode::OK
        );
    }
    let missing = users.form("/oauth/revoke", &[], None).await;
    assert_eq!(error_of(missing).await.1.error, "invalid_request");
}

#[tokio::test]
async fn another_client_cannot_revoke_a_users_refresh_token() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let revoke = users.form("/oauth/revoke", &[("token", &tokens.refresh)], Some(SERVICE_CLIENT)).await;
    assert_eq!(revoke.status(), StatusCode::OK);
    let refresh =
        users.token_request(&[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)], None).await;
    assert_eq!(refresh.status(), StatusCode::OK, "the token must still work");
    let bad_secret = users.form("/oauth/revoke", &[("token", &tokens.refresh)], Some(("posts-service", "wrong"))).await;
    assert_eq!(error_of(bad_secret).await.0, StatusCode::UNAUTHORIZED);
}
