//! The adversarial suite: hostile tokens, tokens in the wrong place, hostile bodies and
//! parameters, each sent to both services through real HTTP. Every case asserts the
//! status, the error code, the headers, that the body is the JSON error shape and echoes
//! nothing it was sent, and, at the end of each table, that nothing was written.

mod inputs;
mod tokens;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestSystem, User, spawn_system_with};

/// Which service a request goes to.
#[derive(Debug, Clone, Copy)]
enum Service {
    Users,
    Posts,
}

/// What a refused request must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    status: StatusCode,
    /// The `error` member of the JSON body.
    code: &'static str,
    /// How `WWW-Authenticate` must start, if it must be there.
    challenge: Option<&'static str>,
}

const INVALID_TOKEN: Expect = Expect {
    status: StatusCode::UNAUTHORIZED,
    code: "invalid_token",
    challenge: Some("Bearer error=\"invalid_token\""),
};
/// RFC 6750 §3.1: no credentials sent, so a bare challenge with no error code.
const NO_TOKEN: Expect = Expect { status: StatusCode::UNAUTHORIZED, code: "unauthorized", challenge: Some("Bearer") };
const INVALID_REQUEST_HEADER: Expect = Expect {
    status: StatusCode::BAD_REQUEST,
    code: "invalid_request",
    challenge: Some("Bearer error=\"invalid_request\""),
};
const BAD_REQUEST: Expect = Expect { status: StatusCode::BAD_REQUEST, code: "invalid_request", challenge: None };
const INVALID_INPUT: Expect =
    Expect { status: StatusCode::UNPROCESSABLE_ENTITY, code: "invalid_input", challenge: None };
const TOO_LARGE: Expect = Expect { status: StatusCode::PAYLOAD_TOO_LARGE, code: "payload_too_large", challenge: None };
const NOT_JSON: Expect =
    Expect { status: StatusCode::UNSUPPORTED_MEDIA_TYPE, code: "unsupported_media_type", challenge: None };
const FORBIDDEN: Expect = Expect { status: StatusCode::FORBIDDEN, code: "forbidden", challenge: None };
const NOT_FOUND: Expect = Expect { status: StatusCode::NOT_FOUND, code: "not_found", challenge: None };

/// Both services, two users, and one post each: the state no hostile request may change.
struct Fixture {
    system: TestSystem,
    alice: User,
    alice_post: i64,
    bob_post: i64,
}

impl Fixture {
    async fn new() -> Self {
        // A cooldown longer than any run of the tables, so "at most one JWKS fetch" holds
        // however slow the machine.
        let system = spawn_system_with(|c| c.jwks_min_refetch = std::time::Duration::from_secs(120)).await;
        let alice = system.user("alice").await;
        let bob = system.user("bob").await;
        let alice_post = system.create_post(&alice.token, "alice's post").await;
        let bob_post = system.create_post(&bob.token, "bob's post").await;
        Self { system, alice, alice_post, bob_post }
    }

    fn request(&self, service: Service, method: Method, path: &str) -> RequestBuilder {
        let url = match service {
            Service::Users => self.system.users(path),
            Service::Posts => self.system.posts(path),
        };
        self.system.client.request(method, url)
    }

    /// Sends `request` and checks it was refused as `expect` says. `sent` is what the
    /// request carried that must never come back (tokens, passwords, bodies).
    async fn assert_refused(&self, case: &str, request: RequestBuilder, expect: Expect, sent: &[&str]) {
        let response = request.send().await.unwrap_or_else(|e| panic!("{case}: no answer: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        assert_eq!(status, expect.status, "{case}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{case}: not JSON: {text}"));
        assert_eq!(body["error"], expect.code, "{case}: {text}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{case}: {text}");
        assert_error_headers(case, &headers);
        let challenge = headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        match expect.challenge {
            Some(prefix) => {
                let challenge = challenge.unwrap_or_else(|| panic!("{case}: no WWW-Authenticate"));
                assert!(challenge.starts_with(prefix), "{case}: {challenge}");
                if !prefix.contains("error=") {
                    assert!(!challenge.contains("error="), "{case}: no error code without credentials: {challenge}");
                }
            }
            None => assert!(challenge.is_none(), "{case}: unexpected challenge {challenge:?}"),
        }
        for secret in sent.iter().filter(|s| s.len() >= 8) {
            assert!(!text.contains(*secret), "{case}: the body echoes what was sent: {text}");
        }
        for library_text in ["InvalidSignature", "Base64", "jsonwebtoken", "ErrorKind", "panicked", "diesel", "serde"] {
            assert!(!text.contains(library_text), "{case}: library text in the body: {text}");
        }
    }

    /// Fails unless the posts and users are exactly the fixture's.
    async fn assert_nothing_written(&self) {
        let page: Value = self.system.get("/posts?limit=100", &self.alice.token).await.json().await.unwrap();
        let titles: Vec<(i64, &str)> = page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_i64().unwrap(), p["title"].as_str().unwrap()))
            .collect();
        assert_eq!(titles, [(self.bob_post, "bob's post"), (self.alice_post, "alice's post")], "posts changed");
        let ids: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
        let users: Value = self
            .request(Service::Users, Method::GET, &format!("/users?ids={}", ids.join(",")))
            .bearer_auth(&self.alice.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> =
            users["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["alice", "bob"], "users changed");
    }
}

/// Every error carries the JSON type and is neither cached nor sniffed.
fn assert_error_headers(case: &str, headers: &HeaderMap) {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(header("content-type").starts_with("application/json"), "{case}: {headers:?}");
    assert_eq!(header("cache-control"), "no-store", "{case}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{case}");
}

/// A post body that would be written if a request got through.
fn post_body() -> Value {
    json!({"title": "pwned", "content": "written by an attacker"})
}
