//! Hostile tokens and tokens in the wrong place, against every bearer route of both
//! services. posts-service verifies against its JWKS cache, users-service against its own
//! key ring: both must refuse the same way.

use auth_common::testing::hostile_tokens::{header_json, hostile_tokens as shared_hostile_tokens, with};
use auth_common::testing::{sign_raw, user_claims};
use auth_common::token::signing_key::SigningKey;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use super::{Expect, Fixture, INVALID_REQUEST_HEADER, INVALID_TOKEN, NO_TOKEN, Service, post_body};

/// Every route that takes a bearer token, with a body where the route writes.
fn bearer_routes(f: &Fixture) -> Vec<(Service, Method, String, Option<Value>)> {
    vec![
        (Service::Posts, Method::POST, "/posts".into(), Some(post_body())),
        (Service::Posts, Method::GET, "/posts?limit=5".into(), None),
        (Service::Posts, Method::GET, format!("/posts/{}", f.alice_post), None),
        (Service::Posts, Method::PUT, format!("/posts/{}", f.alice_post), Some(post_body())),
        (Service::Posts, Method::DELETE, format!("/posts/{}", f.alice_post), None),
        (Service::Users, Method::GET, "/users/me".into(), None),
        (Service::Users, Method::GET, format!("/users?ids={}", f.alice.id), None),
        (Service::Users, Method::GET, format!("/users/{}", f.alice.id), None),
    ]
}

/// Alice's claims, valid at both services.
fn alice_claims(f: &Fixture) -> Value {
    with(serde_json::to_value(user_claims(&f.system.issuer)).unwrap(), "sub", json!(f.alice.id.to_string()))
}

/// Each hostile token of the shared table, built on alice's claims and the real key so
/// that only the property under test is wrong, and her refresh token.
fn hostile_tokens(f: &Fixture, real: &SigningKey) -> Vec<(&'static str, String)> {
    let mut tokens: Vec<(&'static str, String)> =
        shared_hostile_tokens(real, &alice_claims(f)).into_iter().map(|t| (t.name, t.token)).collect();
    tokens.push(("the refresh token", f.alice.refresh.clone()));
    tokens
}

/// Puts credentials somewhere on a request.
type Place = Box<dyn Fn(RequestBuilder) -> RequestBuilder>;

/// A placement of `token`: `place(request, token)`.
fn with_token(token: &str, place: impl Fn(RequestBuilder, &str) -> RequestBuilder + 'static) -> Place {
    let token = token.to_owned();
    Box::new(move |r| place(r, &token))
}

/// The same credentials, placed where a bearer token must not be looked for, or placed twice.
fn placements(f: &Fixture) -> Vec<(&'static str, Place, Expect)> {
    let t = f.alice.token.as_str();
    vec![
        ("the token in the query only", with_token(t, |r, t| r.query(&[("access_token", t)])), NO_TOKEN),
        ("the token in a cookie", with_token(t, |r, t| r.header("cookie", format!("access_token={t}"))), NO_TOKEN),
        (
            "the token under the Token scheme",
            with_token(t, |r, t| r.header("authorization", format!("Token {t}"))),
            NO_TOKEN,
        ),
        (
            "Basic credentials",
            Box::new(|r: RequestBuilder| r.basic_auth("alice", Some("correct horse battery"))),
            NO_TOKEN,
        ),
        ("the token in X-Access-Token", with_token(t, |r, t| r.header("x-access-token", t)), NO_TOKEN),
        (
            "the token in the header and the query",
            with_token(t, |r, t| r.bearer_auth(t).query(&[("access_token", t)])),
            INVALID_REQUEST_HEADER,
        ),
        (
            "two Authorization headers",
            with_token(t, |r, t| r.bearer_auth(t).header("authorization", format!("Bearer {t}"))),
            INVALID_REQUEST_HEADER,
        ),
        ("Bearer with no token", Box::new(|r: RequestBuilder| r.header("authorization", "Bearer")), INVALID_TOKEN),
        ("Bearer and spaces", Box::new(|r: RequestBuilder| r.header("authorization", "Bearer    ")), INVALID_TOKEN),
        (
            "two tokens in one header",
            with_token(t, |r, t| r.header("authorization", format!("Bearer {t} {t}"))),
            INVALID_TOKEN,
        ),
        (
            "two tokens joined by a comma",
            with_token(t, |r, t| r.header("authorization", format!("Bearer {t},{t}"))),
            INVALID_TOKEN,
        ),
        ("a quoted token", with_token(t, |r, t| r.header("authorization", format!("Bearer \"{t}\""))), INVALID_TOKEN),
    ]
}

#[tokio::test]
async fn hostile_tokens_are_refused_by_both_services_and_change_nothing() {
    let f = Fixture::new().await;
    let real = f.system.signing_key();
    let tokens = hostile_tokens(&f, &real);
    // The forger is sound: the same construction with nothing wrong is accepted.
    let control = sign_raw(&real, &header_json("RS256", real.kid()), &alice_claims(&f));
    for (service, path) in [(Service::Posts, "/posts"), (Service::Users, "/users/me")] {
        let response = f.request(service, Method::GET, path).bearer_auth(&control).send().await.unwrap();
        assert_eq!(response.status(), 200, "the control token on {path}");
    }
    f.system.proxy.clear();
    for (service, method, path, body) in bearer_routes(&f) {
        for (case, token) in &tokens {
            let mut request = f.request(service, method.clone(), &path).bearer_auth(token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let case = format!("{case} → {method} {path}");
            f.assert_refused(&case, request, INVALID_TOKEN, &[token]).await;
        }
    }
    // Unknown and path-like kids cost users-service at most one JWKS fetch (then the
    // cooldown), and never an author lookup.
    let upstream = f.system.proxy.recorded();
    let jwks_fetches = upstream.iter().filter(|r| r.path.starts_with("/.well-known/jwks.json")).count();
    assert!(jwks_fetches <= 1, "{jwks_fetches} JWKS fetches for a flood of unknown kids");
    assert!(upstream.iter().all(|r| !r.path.starts_with("/users")), "a refused request reached users-service");
    f.assert_nothing_written().await;
}

#[tokio::test]
async fn tokens_in_the_wrong_place_are_not_accepted_by_either_service() {
    let f = Fixture::new().await;
    for (service, method, path, body) in bearer_routes(&f) {
        for (case, place, expect) in placements(&f) {
            let mut request = place(f.request(service, method.clone(), &path));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let case = format!("{case} → {method} {path}");
            f.assert_refused(&case, request, expect, &[&f.alice.token]).await;
        }
    }
    // A token in the JSON body is not a credential either (RFC 6750 §2.2 is form bodies only).
    let body = json!({"title": "pwned", "content": "x", "access_token": f.alice.token});
    let request = f.request(Service::Posts, Method::POST, "/posts").json(&body);
    f.assert_refused("the token in the JSON body", request, NO_TOKEN, &[&f.alice.token]).await;
    f.assert_nothing_written().await;
}
