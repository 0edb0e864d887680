//! Hostile tokens and tokens in the wrong place, against every bearer route of both
//! services. posts-service verifies against its JWKS cache, users-service against its own
//! key ring: both must refuse the same way.

use auth_common::testing::{now, sign_raw, stranger_key, user_claims};
use auth_common::token::signing_key::SigningKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
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

fn header_json(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

fn with(mut value: Value, key: &str, new: Value) -> Value {
    value[key] = new;
    value
}

/// Each hostile token, signed where a real signature matters so that only the property
/// under test is wrong.
fn hostile_tokens(f: &Fixture, real: &SigningKey) -> Vec<(&'static str, String)> {
    let kid = real.kid();
    let claims = serde_json::to_value(user_claims(&f.system.issuer)).unwrap();
    let claims = with(claims, "sub", json!(f.alice.id.to_string()));
    let valid = sign_raw(real, &header_json("RS256", kid), &claims);
    let [head, payload, signature]: [&str; 3] = valid.split('.').collect::<Vec<_>>().try_into().unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let stranger = stranger_key();
    let stranger_jwk = serde_json::to_value(stranger.jwk()).unwrap();
    let public_pem = real.public_pem().to_owned();
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.typ = Some("at+jwt".into());
    hs256.kid = Some(kid.to_owned());
    let now = now();
    let padded = with(claims.clone(), "pad", json!("x".repeat(9 * 1024)));
    let sign = |header: Value, claims: &Value| sign_raw(real, &header, claims);
    vec![
        // Algorithms.
        ("alg none", format!("{}.{payload}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})))),
        (
            "alg none, signature kept",
            format!("{}.{payload}.{signature}", b64(&json!({"alg": "none", "typ": "at+jwt"}))),
        ),
        ("alg NONE", format!("{}.{payload}.", b64(&json!({"alg": "NONE", "typ": "at+jwt", "kid": kid})))),
        (
            "HS256 keyed with the public key",
            jsonwebtoken::encode(&hs256, &claims, &EncodingKey::from_secret(public_pem.as_bytes())).unwrap(),
        ),
        ("RS512 header on an RS256 signature", format!("{}.{payload}.{signature}", b64(&header_json("RS512", kid)))),
        ("PS256 header", format!("{}.{payload}.{signature}", b64(&header_json("PS256", kid)))),
        ("ES256 header", format!("{}.{payload}.{signature}", b64(&header_json("ES256", kid)))),
        ("EdDSA header", format!("{}.{payload}.{signature}", b64(&header_json("EdDSA", kid)))),
        // Keys the token brings itself.
        (
            "embedded jwk, signed by that key",
            sign_raw(stranger, &with(header_json("RS256", stranger.kid()), "jwk", stranger_jwk.clone()), &claims),
        ),
        (
            "embedded jwk under the real kid",
            sign_raw(stranger, &with(header_json("RS256", kid), "jwk", stranger_jwk), &claims),
        ),
        (
            "jku to the attacker's JWKS",
            sign_raw(
                stranger,
                &with(header_json("RS256", stranger.kid()), "jku", json!("http://127.0.0.1:9/jwks.json")),
                &claims,
            ),
        ),
        (
            "x5u to the attacker's certificate",
            sign_raw(
                stranger,
                &with(header_json("RS256", stranger.kid()), "x5u", json!("http://127.0.0.1:9/c.pem")),
                &claims,
            ),
        ),
        ("x5c chain beside the real kid", sign(with(header_json("RS256", kid), "x5c", json!(["MIIBIjAN"])), &claims)),
        (
            "jku beside the real kid",
            sign(with(header_json("RS256", kid), "jku", json!("http://127.0.0.1:9/j")), &claims),
        ),
        ("a stranger's key under its own kid", sign_raw(stranger, &header_json("RS256", stranger.kid()), &claims)),
        ("a stranger's key under the real kid", sign_raw(stranger, &header_json("RS256", kid), &claims)),
        // crit.
        (
            "unknown crit extension",
            sign(with(with(header_json("RS256", kid), "crit", json!(["exp-ext"])), "exp-ext", json!(1)), &claims),
        ),
        ("crit naming a registered header", sign(with(header_json("RS256", kid), "crit", json!(["kid"])), &claims)),
        ("empty crit", sign(with(header_json("RS256", kid), "crit", json!([])), &claims)),
        // kids that look like paths, URLs or queries: no key, no file, no fetch.
        ("kid ../../../../etc/passwd", sign(header_json("RS256", "../../../../etc/passwd"), &claims)),
        ("kid /dev/zero", sign(header_json("RS256", "/dev/zero"), &claims)),
        ("kid ..\\keys\\active.pem", sign(header_json("RS256", "..\\keys\\active.pem"), &claims)),
        ("kid file URL", sign(header_json("RS256", "file:///etc/passwd"), &claims)),
        ("kid http URL", sign(header_json("RS256", "http://127.0.0.1:9/key"), &claims)),
        ("kid SQL", sign(header_json("RS256", "' OR '1'='1"), &claims)),
        ("kid with NUL", sign(header_json("RS256", "a\u{0}b"), &claims)),
        ("kid 4 KiB long", sign(header_json("RS256", &"k".repeat(4096)), &claims)),
        ("kid as a number", sign(with(header_json("RS256", kid), "kid", json!(7)), &claims)),
        ("no kid", sign(json!({"alg": "RS256", "typ": "at+jwt"}), &claims)),
        // typ.
        ("typ JWT", sign(with(header_json("RS256", kid), "typ", json!("JWT")), &claims)),
        ("no typ", sign(json!({"alg": "RS256", "kid": kid}), &claims)),
        // Claims.
        ("expired", sign(header_json("RS256", kid), &with(claims.clone(), "exp", json!(now - 120)))),
        ("not yet valid", sign(header_json("RS256", kid), &with(claims.clone(), "nbf", json!(now + 600)))),
        ("issued in the future", sign(header_json("RS256", kid), &with(claims.clone(), "iat", json!(now + 3600)))),
        ("lives 30 days", sign(header_json("RS256", kid), &with(claims.clone(), "exp", json!(now + 30 * 86_400)))),
        ("string exp", sign(header_json("RS256", kid), &with(claims.clone(), "exp", json!("99999999999")))),
        ("wrong issuer", sign(header_json("RS256", kid), &with(claims.clone(), "iss", json!("http://evil.example")))),
        ("no audience", sign(header_json("RS256", kid), &with(claims.clone(), "aud", json!([])))),
        ("someone else's audience", sign(header_json("RS256", kid), &with(claims.clone(), "aud", json!(["billing"])))),
        ("empty sub", sign(header_json("RS256", kid), &with(claims.clone(), "sub", json!("")))),
        ("numeric sub", sign(header_json("RS256", kid), &with(claims.clone(), "sub", json!(1)))),
        // Shape.
        ("over 8 KiB", sign(header_json("RS256", kid), &padded)),
        ("two tokens glued with a dot", format!("{valid}.{valid}")),
        ("four segments", format!("{valid}.{signature}")),
        ("two segments", format!("{head}.{payload}")),
        ("signature stripped", format!("{head}.{payload}.")),
        ("padded base64", format!("{head}==.{payload}.{signature}")),
        ("tampered payload", format!("{head}.{}.{signature}", b64(&with(claims.clone(), "sub", json!("999"))))),
        ("the refresh token", f.alice.refresh.clone()),
        ("not a JWT", "hello".into()),
    ]
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
    let claims =
        with(serde_json::to_value(user_claims(&f.system.issuer)).unwrap(), "sub", json!(f.alice.id.to_string()));
    let control = sign_raw(&real, &header_json("RS256", real.kid()), &claims);
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
