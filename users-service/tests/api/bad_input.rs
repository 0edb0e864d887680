//! Bad input of every kind: the right status, the JSON error shape, nothing changed.

use auth_common::testing::{now, stranger_key, user_claims};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::json;

use crate::helpers::{challenge, error_of, spawn_users};

#[tokio::test]
async fn malformed_bodies_get_json_errors() {
    let users = spawn_users().await;
    let post = |body: String, content_type: &'static str| {
        users.client.post(users.url("/users")).header("content-type", content_type).body(body).send()
    };
    let cases = [
        (
            "broken JSON",
            post("{\"username\":".into(), "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "JSON array",
            post("[]".into(), "application/json").await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "text/plain",
            post("{}".into(), "text/plain").await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversize body",
            post(format!("{{\"username\":\"{}\"}}", "a".repeat(20_000)), "application/json").await.unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (case, response, status, code) in cases {
        assert_eq!(
            response.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "case {case}"
        );
        let (got, body) = error_of(response).await;
        assert_eq!((got, body.error.as_str()), (status, code), "case {case}");
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_error_shape() {
    let users = spawn_users().await;
    let (status, body) = error_of(users.client.get(users.url("/no/such/route")).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, body) = error_of(users.client.delete(users.url("/users")).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
}

#[tokio::test]
async fn a_read_answers_head_as_it_answers_get_without_the_body() {
    let users = spawn_users().await;
    let token = users.user_tokens("alice").await.access;
    for path in ["/.well-known/jwks.json", "/.well-known/openid-configuration", "/health/ready", "/users/me"] {
        let get = users.client.get(users.url(path)).bearer_auth(&token).send().await.unwrap();
        let head = users.client.head(users.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!((head.status(), get.status()), (StatusCode::OK, StatusCode::OK), "{path}");
        for name in [CONTENT_TYPE, CONTENT_LENGTH] {
            assert_eq!(head.headers().get(&name), get.headers().get(&name), "{path}: {name}");
        }
        assert!(head.bytes().await.unwrap().is_empty(), "{path}: HEAD sent a body");
    }
    // Not the sign-in page's GET, which sets a cookie and may issue a code.
    let head = users.client.head(users.url("/oauth/authorize")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn forged_and_invalid_tokens_are_refused_with_invalid_token() {
    let users = spawn_users().await;
    let real = users.signing_key();
    let valid = user_claims(&users.address);
    let sign = |claims: &auth_common::token::claims::AccessClaims| real.sign(claims).unwrap();
    let expired = auth_common::token::claims::AccessClaims { exp: now() - 120, ..valid.clone() };
    let early = auth_common::token::claims::AccessClaims { nbf: now() + 300, ..valid.clone() };
    let wrong_issuer = auth_common::token::claims::AccessClaims { iss: "http://evil.example".into(), ..valid.clone() };
    let posts_only = auth_common::token::claims::AccessClaims { aud: vec!["posts-service".into()], ..valid.clone() };
    let mut jwt_typ = real.access_token_header();
    jwt_typ.typ = Some("JWT".into());
    let mut stranger_header = stranger_key().access_token_header();
    stranger_header.kid = Some(real.kid().to_owned());
    let cases = [
        ("signed by a stranger under our kid", stranger_key().sign_with_header(&stranger_header, &valid).unwrap()),
        ("signed by a stranger's own kid", stranger_key().sign(&valid).unwrap()),
        ("expired", sign(&expired)),
        ("not yet valid", sign(&early)),
        ("wrong issuer", sign(&wrong_issuer)),
        ("for posts-service only", sign(&posts_only)),
        ("typ JWT", real.sign_with_header(&jwt_typ, &valid).unwrap()),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (case, token) in cases {
        let response = users.get_with_token("/users/me", &token).await;
        assert!(challenge(&response).is_some_and(|c| c.starts_with("Bearer error=\"invalid_token\"")), "case {case}");
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"), "case {case}");
        assert!(!body.error_description.contains(&token), "case {case} echoes the token");
    }
    // The same claims, correctly signed, pass: the refusals above were for the reason named.
    assert_eq!(users.get_with_token("/users/1", &sign(&valid)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_token_in_the_query_string_is_ignored() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let response =
        users.client.get(users.url(&format!("/users/me?access_token={}", tokens.access))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response).as_deref(), Some("Bearer"));
    let body = json!(error_of(response).await.1.error);
    assert_eq!(body, "unauthorized");
}

#[tokio::test]
async fn a_token_in_both_the_header_and_the_query_string_is_an_invalid_request() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let response = users.get_with_token(&format!("/users/me?access_token={}", tokens.access), &tokens.access).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(challenge(&response).unwrap().starts_with("Bearer error=\"invalid_request\""));
    assert_eq!(error_of(response).await.1.error, "invalid_request");
}
