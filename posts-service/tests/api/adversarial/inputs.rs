//! Hostile bodies, parameters and ids, with a valid token where one is needed: each is a
//! 4xx in the JSON error shape, and none of them writes anything.

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use super::{
    BAD_REQUEST, Expect, FORBIDDEN, Fixture, INVALID_INPUT, NOT_FOUND, NOT_JSON, Service, TOO_LARGE, post_body,
};
use crate::helpers::PASSWORD;

/// JSON nested 5 000 deep in a member the handler ignores: serde_json skips it without
/// recursing, so the answer is the missing fields' 422, not a stack overflow.
fn deeply_nested() -> String {
    format!("{{\"ignored\": {}{}}}", "[".repeat(5_000), "]".repeat(5_000))
}

fn raw(request: RequestBuilder, content_type: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
    request.header("content-type", content_type).body(body)
}

/// (case, request, expected refusal, what was sent that must not be echoed).
type Case = (String, RequestBuilder, Expect, Vec<String>);

fn posts_cases(f: &Fixture) -> Vec<Case> {
    let token = &f.alice.token;
    let post = |method: Method, path: &str| f.request(Service::Posts, method, path).bearer_auth(token);
    let create = || post(Method::POST, "/posts");
    let body = |title: Value, content: Value| json!({"title": title, "content": content});
    let mut cases: Vec<Case> = vec![
        ("truncated JSON".into(), raw(create(), "application/json", "{\"title\": \"x\""), BAD_REQUEST, vec![]),
        ("not JSON at all".into(), raw(create(), "application/json", "title=x&content=y"), BAD_REQUEST, vec![]),
        ("JSON nested 5 000 deep".into(), raw(create(), "application/json", deeply_nested()), INVALID_INPUT, vec![]),
        ("text/plain".into(), raw(create(), "text/plain", post_body().to_string()), NOT_JSON, vec![]),
        ("no content type".into(), create().body(post_body().to_string()), NOT_JSON, vec![]),
        ("a 70 kB body".into(), create().json(&body(json!("x"), json!("y".repeat(70_000)))), TOO_LARGE, vec![]),
        ("an array".into(), create().json(&json!([post_body()])), INVALID_INPUT, vec![]),
        ("null".into(), create().json(&Value::Null), INVALID_INPUT, vec![]),
        ("no title".into(), create().json(&json!({"content": "x"})), INVALID_INPUT, vec![]),
        ("a numeric title".into(), create().json(&body(json!(5), json!("x"))), INVALID_INPUT, vec![]),
        ("an empty title".into(), create().json(&body(json!(""), json!("x"))), INVALID_INPUT, vec![]),
        ("a blank title".into(), create().json(&body(json!("   "), json!("x"))), INVALID_INPUT, vec![]),
        (
            "a 201-character title".into(),
            create().json(&body(json!("t".repeat(201)), json!("x"))),
            INVALID_INPUT,
            vec![],
        ),
        ("a NUL in the title".into(), create().json(&body(json!("a\u{0}b"), json!("x"))), INVALID_INPUT, vec![]),
        (
            "an escape in the title".into(),
            create().json(&body(json!("a\u{1b}[2Jb"), json!("x"))),
            INVALID_INPUT,
            vec![],
        ),
        ("a NUL in the content".into(), create().json(&body(json!("t"), json!("a\u{0}b"))), INVALID_INPUT, vec![]),
        ("empty content".into(), create().json(&body(json!("t"), json!(""))), INVALID_INPUT, vec![]),
        (
            "10 001 characters of content".into(),
            create().json(&body(json!("t"), json!("c".repeat(10_001)))),
            INVALID_INPUT,
            vec![],
        ),
        (
            "an invalid update".into(),
            post(Method::PUT, &format!("/posts/{}", f.alice_post)).json(&body(json!(""), json!("x"))),
            INVALID_INPUT,
            vec![],
        ),
        (
            "someone else's post, updated".into(),
            post(Method::PUT, &format!("/posts/{}", f.bob_post)).json(&post_body()),
            FORBIDDEN,
            vec![],
        ),
        (
            "someone else's post, deleted".into(),
            post(Method::DELETE, &format!("/posts/{}", f.bob_post)),
            FORBIDDEN,
            vec![],
        ),
        ("an unknown post, updated".into(), post(Method::PUT, "/posts/987654").json(&post_body()), NOT_FOUND, vec![]),
        ("an unknown post, deleted".into(), post(Method::DELETE, "/posts/987654"), NOT_FOUND, vec![]),
        ("an unknown post".into(), post(Method::GET, "/posts/987654"), NOT_FOUND, vec![]),
    ];
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "limit=1e3",
        "limit=99999999999999999999",
        "cursor=",
        "cursor=not%20a%20cursor",
        "cursor=AAAAAAAAAAAAAAAA",
        "cursor=..%2F..%2Fetc",
        "user_id=abc",
        "user_id=0",
        "user_id=-5",
        "limit=5&limit=6",
    ] {
        cases.push((format!("GET /posts?{query}"), post(Method::GET, &format!("/posts?{query}")), BAD_REQUEST, vec![]));
    }
    // An id that is not a number names no post.
    for id in ["abc", "99999999999999999999", "1.5", "%00", "-1", "0"] {
        cases.push((format!("GET /posts/{id}"), post(Method::GET, &format!("/posts/{id}")), NOT_FOUND, vec![]));
    }
    cases
}

fn users_cases(f: &Fixture) -> Vec<Case> {
    let users = |method: Method, path: &str| f.request(Service::Users, method, path);
    let register = |username: Value, email: Value, password: Value| {
        users(Method::POST, "/users").json(&json!({"username": username, "email": email, "password": password}))
    };
    let email = || json!("mallory@example.com");
    let password = || json!(PASSWORD);
    let login = |body: Value| users(Method::POST, "/auth/login").json(&body);
    let lookup = |ids: &str| users(Method::GET, &format!("/users?ids={ids}")).bearer_auth(&f.alice.token);
    let hundred_and_one = (1..=101).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let long_password = "p".repeat(5_000);
    let mut cases: Vec<Case> = vec![
        (
            "truncated JSON".into(),
            raw(users(Method::POST, "/users"), "application/json", "{\"username\":"),
            BAD_REQUEST,
            vec![],
        ),
        (
            "JSON nested 5 000 deep".into(),
            raw(users(Method::POST, "/users"), "application/json", deeply_nested()),
            INVALID_INPUT,
            vec![],
        ),
        ("text/plain".into(), raw(users(Method::POST, "/users"), "text/plain", "{}"), NOT_JSON, vec![]),
        (
            "a 70 kB registration".into(),
            register(json!("mallory"), email(), json!("p".repeat(70_000))),
            TOO_LARGE,
            vec![],
        ),
        ("a NUL in the username".into(), register(json!("mal\u{0}lory"), email(), password()), INVALID_INPUT, vec![]),
        ("a newline in the username".into(), register(json!("mal\nlory"), email(), password()), INVALID_INPUT, vec![]),
        ("a 33-character username".into(), register(json!("m".repeat(33)), email(), password()), INVALID_INPUT, vec![]),
        ("a 2-character username".into(), register(json!("ma"), email(), password()), INVALID_INPUT, vec![]),
        ("a path as username".into(), register(json!("../admin"), email(), password()), INVALID_INPUT, vec![]),
        ("a numeric username".into(), register(json!(12345), email(), password()), INVALID_INPUT, vec![]),
        (
            "an invalid email".into(),
            register(json!("mallory"), json!("not-an-email"), password()),
            INVALID_INPUT,
            vec![],
        ),
        (
            "an email with a NUL".into(),
            register(json!("mallory"), json!("m\u{0}@example.com"), password()),
            INVALID_INPUT,
            vec![],
        ),
        ("a 7-character password".into(), register(json!("mallory"), email(), json!("short12")), INVALID_INPUT, vec![]),
        (
            "a 5 000-character password".into(),
            register(json!("mallory"), email(), json!(long_password)),
            INVALID_INPUT,
            vec![long_password.clone()],
        ),
        ("a login without a password".into(), login(json!({"username": "alice"})), INVALID_INPUT, vec![]),
        (
            "a login with a numeric password".into(),
            login(json!({"username": "alice", "password": 12345678})),
            INVALID_INPUT,
            vec!["12345678".into()],
        ),
        (
            "a truncated login".into(),
            raw(users(Method::POST, "/auth/login"), "application/json", "{\"user"),
            BAD_REQUEST,
            vec![],
        ),
        (
            "a 70 kB login".into(),
            login(json!({"username": "alice", "password": "p".repeat(70_000)})),
            TOO_LARGE,
            vec![],
        ),
        ("an unknown user".into(), users(Method::GET, "/users/987654").bearer_auth(&f.alice.token), NOT_FOUND, vec![]),
    ];
    for ids in ["", "abc", "1,,2", "-1", "0", "1;2", "99999999999999999999", &hundred_and_one] {
        let case = format!("GET /users?ids={}", if ids.len() > 20 { "1..101" } else { ids });
        cases.push((case, lookup(ids), BAD_REQUEST, vec![]));
    }
    for id in ["abc", "99999999999999999999", "%00", "-1", "0"] {
        let request = users(Method::GET, &format!("/users/{id}")).bearer_auth(&f.alice.token);
        cases.push((format!("GET /users/{id}"), request, NOT_FOUND, vec![]));
    }
    cases
}

/// RFC 6749 §5.2 errors at the token endpoint: the JSON shape with the OAuth code.
fn token_cases(f: &Fixture) -> Vec<Case> {
    let token = |form: &[(&str, &str)]| f.request(Service::Users, Method::POST, "/oauth/token").form(form);
    let oauth = |code: &'static str| Expect { status: reqwest::StatusCode::BAD_REQUEST, code, challenge: None };
    let refresh = f.alice.refresh.as_str();
    vec![
        (
            "the password grant".into(),
            token(&[("grant_type", "password"), ("username", "alice"), ("password", PASSWORD)]),
            oauth("unsupported_grant_type"),
            vec![PASSWORD.into()],
        ),
        ("no grant_type".into(), token(&[("refresh_token", refresh)]), oauth("invalid_request"), vec![refresh.into()]),
        (
            "grant_type twice".into(),
            token(&[("grant_type", "refresh_token"), ("grant_type", "refresh_token"), ("refresh_token", refresh)]),
            oauth("invalid_request"),
            vec![refresh.into()],
        ),
        (
            "a guessed refresh token".into(),
            token(&[("grant_type", "refresh_token"), ("refresh_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]),
            oauth("invalid_grant"),
            vec![],
        ),
        (
            "an access token as refresh token".into(),
            token(&[("grant_type", "refresh_token"), ("refresh_token", &f.alice.token)]),
            oauth("invalid_grant"),
            vec![f.alice.token.clone()],
        ),
        (
            "a widened scope".into(),
            token(&[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "admin")]),
            oauth("invalid_scope"),
            vec![refresh.into()],
        ),
        (
            "JSON instead of a form".into(),
            f.request(Service::Users, Method::POST, "/oauth/token").json(&json!({"grant_type": "refresh_token"})),
            oauth("invalid_request"),
            vec![],
        ),
    ]
}

#[tokio::test]
async fn hostile_bodies_and_parameters_get_4xx_json_errors_and_change_nothing() {
    let f = Fixture::new().await;
    let cases = posts_cases(&f).into_iter().chain(users_cases(&f)).chain(token_cases(&f));
    for (case, request, expect, sent) in cases {
        let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
        f.assert_refused(&case, request, expect, &sent).await;
    }
    f.assert_nothing_written().await;
    // The refresh token sent in the refused requests above was not spent.
    let refreshed = f
        .request(Service::Users, Method::POST, "/oauth/token")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", f.alice.refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200, "the refresh token survived the hostile requests");
}
