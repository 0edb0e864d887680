//! Every way a token can be refused, each with its own reason, plus the happy path.

use std::sync::Arc;

use jsonwebtoken::Header;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Value, json};

use super::*;
use crate::clock::TestClock;
use crate::testing::hostile_tokens::{HostileToken, hostile_tokens, with, without};
use crate::testing::{now, test_key, user_claims};

const ISSUER: &str = "http://issuer.test";

fn settings() -> VerifierSettings {
    VerifierSettings {
        issuer: ISSUER.to_owned(),
        audience: "posts-service".to_owned(),
        leeway_secs: 30,
        max_lifetime_secs: 3600,
        cache_entries: 100,
    }
}

fn verifier() -> Verifier {
    verifier_at(&TestClock::new())
}

/// The test key's verifier, telling the time by `clock`.
fn verifier_at(clock: &TestClock) -> Verifier {
    let keys = crate::token::key_source::StaticKeys::from_jwks(&JwkSet { keys: vec![test_key().jwk().clone()] });
    Verifier::new(settings(), Arc::new(keys), clock.clock())
}

fn claims() -> Value {
    serde_json::to_value(user_claims(ISSUER)).unwrap()
}

fn sign(claims: &Value) -> String {
    test_key().sign(claims).unwrap()
}

fn sign_header(header: &Header, claims: &Value) -> String {
    test_key().sign_with_header(header, claims).unwrap()
}

fn header() -> Header {
    test_key().access_token_header()
}

fn run(token: &str) -> Result<VerifiedToken, RejectReason> {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(verifier().verify(token))
}

#[test]
fn a_valid_token_is_accepted_with_its_scopes() {
    let verified = run(&sign(&claims())).expect("valid token");
    assert_eq!(verified.claims.sub, "1");
    assert!(verified.scopes.contains("posts:write"));
}

#[test]
fn a_token_living_exactly_the_longest_lifetime_is_accepted() {
    let iat = now();
    let token = sign(&with(with(claims(), "iat", json!(iat)), "exp", json!(iat + 3600)));
    assert!(run(&token).is_ok());
}

#[test]
fn typ_is_compared_without_regard_to_case_and_may_carry_the_application_prefix() {
    for typ in ["AT+JWT", "application/at+jwt"] {
        let mut h = header();
        h.typ = Some(typ.to_owned());
        assert!(run(&sign_header(&h, &claims())).is_ok(), "typ {typ} should be accepted");
    }
}

#[test]
fn each_bad_token_is_refused_with_its_reason() {
    let now = now();
    // The shared table, and two cases that depend on this verifier's leeway and lifetime.
    let mut cases: Vec<(&str, String, RejectReason)> = hostile_tokens(test_key(), &claims())
        .into_iter()
        .map(|HostileToken { name, token, reason }| (name, token, reason))
        .collect();
    cases.extend([
        ("expired beyond the leeway", sign(&with(claims(), "exp", json!(now - 60))), RejectReason::Expired),
        (
            "back-dated iat, within the hour of now",
            sign(&with(with(claims(), "iat", json!(now - 7200)), "exp", json!(now + 60))),
            RejectReason::LifetimeTooLong,
        ),
    ]);
    for (case, token, expected) in cases {
        match run(&token) {
            Ok(_) => panic!("case `{case}` was accepted"),
            Err(reason) => assert_eq!(reason, expected, "case `{case}`"),
        }
    }
}

#[test]
fn the_leeway_is_honoured_on_expiry() {
    let token = sign(&with(claims(), "exp", json!(now() - 10)));
    assert!(run(&token).is_ok(), "a token expired 10 s ago is within the 30 s leeway");
}

/// Keys that a test can take away or replace.
#[derive(Default)]
struct MutableKeys {
    keys: std::sync::RwLock<crate::token::key_source::KeyMap>,
    generation: std::sync::atomic::AtomicU64,
}

impl KeySource for MutableKeys {
    fn key<'a>(&'a self, kid: &'a str) -> futures_util::future::BoxFuture<'a, Option<Arc<jsonwebtoken::DecodingKey>>> {
        let found = self.keys.read().unwrap().get(kid).cloned();
        Box::pin(async move { found })
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn cached_verifier(keys: Arc<MutableKeys>, leeway_secs: u64, clock: &TestClock) -> Verifier {
    let settings = VerifierSettings { leeway_secs, ..settings() };
    Verifier::new(settings, keys, clock.clock())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
}

#[test]
fn a_cached_token_is_refused_once_it_expires() {
    let keys = Arc::new(MutableKeys::default());
    *keys.keys.write().unwrap() =
        crate::token::key_source::keys_from_jwks(&JwkSet { keys: vec![test_key().jwk().clone()] });
    let clock = TestClock::new();
    let verifier = cached_verifier(keys, 0, &clock);
    let token = sign(&with(claims(), "exp", json!(now() + 1)));
    assert!(block_on(verifier.verify(&token)).is_ok());
    clock.advance(std::time::Duration::from_millis(2100));
    assert_eq!(block_on(verifier.verify(&token)).unwrap_err(), RejectReason::Expired);
}

#[test]
fn a_cached_token_is_refused_once_its_key_is_no_longer_trusted() {
    let keys = Arc::new(MutableKeys::default());
    let all = crate::token::key_source::keys_from_jwks(&JwkSet { keys: vec![test_key().jwk().clone()] });
    *keys.keys.write().unwrap() = all.clone();
    let verifier = cached_verifier(keys.clone(), 30, &TestClock::new());
    let token = sign(&claims());
    assert!(block_on(verifier.verify(&token)).is_ok());
    assert!(block_on(verifier.verify(&token)).is_ok(), "served from the cache");
    // The key leaves (an emergency retirement) before the source reports a new generation.
    keys.keys.write().unwrap().clear();
    assert_eq!(block_on(verifier.verify(&token)).unwrap_err(), RejectReason::UnknownKid);
    // Back, under a new generation: verified afresh.
    *keys.keys.write().unwrap() = all;
    keys.generation.store(1, std::sync::atomic::Ordering::SeqCst);
    assert!(block_on(verifier.verify(&token)).is_ok());
}

#[test]
fn expiry_and_not_before_are_judged_by_the_verifiers_clock_with_the_leeway_inclusive() {
    // The verifier's clock runs an hour ahead of the system clock the claims were made by.
    let clock = TestClock::new();
    clock.advance(std::time::Duration::from_secs(3600));
    let at = clock.clock().unix_now();
    let verify = |claims: Value| block_on(verifier_at(&clock).verify(&sign(&claims)));
    let timed = |iat: i64, nbf: i64, exp: i64| {
        with(with(with(claims(), "iat", json!(iat)), "nbf", json!(nbf)), "exp", json!(exp))
    };
    let cases = [
        ("exp exactly the leeway ago", timed(at - 60, at - 60, at - 30), Ok(())),
        ("exp a second beyond the leeway", timed(at - 60, at - 60, at - 31), Err(RejectReason::Expired)),
        ("nbf exactly the leeway ahead", timed(at, at + 30, at + 300), Ok(())),
        ("nbf a second beyond the leeway", timed(at, at + 31, at + 300), Err(RejectReason::NotYetValid)),
        ("iat a second beyond the leeway", timed(at + 31, at, at + 300), Err(RejectReason::NotYetValid)),
        // A token fine by the system clock is expired by the verifier's.
        ("fresh by the system clock", claims(), Err(RejectReason::Expired)),
    ];
    for (case, claims, expected) in cases {
        assert_eq!(verify(claims).map(|_| ()), expected, "case `{case}`");
    }
}

#[test]
fn a_token_with_several_faults_is_refused_for_the_first_in_jsonwebtokens_order() {
    let now = now();
    let expired = with(claims(), "exp", json!(now - 60));
    let cases = [
        (
            "expired, from another issuer",
            with(expired.clone(), "iss", json!("http://evil.test")),
            RejectReason::Expired,
        ),
        (
            "expired, for another audience",
            with(expired.clone(), "aud", json!(["users-service"])),
            RejectReason::Expired,
        ),
        ("expired, without a jti", without(expired.clone(), "jti"), RejectReason::Malformed),
        (
            "not yet valid, from another issuer",
            with(with(claims(), "nbf", json!(now + 300)), "iss", json!("http://evil.test")),
            RejectReason::NotYetValid,
        ),
        (
            "another issuer and another audience",
            with(with(claims(), "iss", json!("http://evil.test")), "aud", json!(["users-service"])),
            RejectReason::WrongIssuer,
        ),
        ("expired and issued in the future", with(expired, "iat", json!(now + 3600)), RejectReason::Expired),
    ];
    for (case, claims, expected) in cases {
        assert_eq!(run(&sign(&claims)).unwrap_err(), expected, "case `{case}`");
    }
}
