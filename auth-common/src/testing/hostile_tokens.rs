//! The hostile tokens every verifier must refuse, as data: each with its name, the token
//! and the reason the verifier gives. The verifier's unit tests check each reason; both
//! services' HTTP tests send each token to every bearer route and check the refusal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::testing::{now, sign_raw, stranger_key};
use crate::token::reject_reason::RejectReason;
use crate::token::signing_key::SigningKey;
use crate::token::verifier::MAX_TOKEN_BYTES;

/// One token a verifier must refuse.
pub struct HostileToken {
    /// What is wrong with it, for failure messages.
    pub name: &'static str,
    /// The token itself.
    pub token: String,
    /// The reason the verifier refuses it for.
    pub reason: RejectReason,
}

/// `value` with `key` set to `new`.
pub fn with(mut value: Value, key: &str, new: Value) -> Value {
    value[key] = new;
    value
}

/// `value` without `key`.
pub fn without(mut value: Value, key: &str) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.remove(key);
    }
    value
}

/// The header `real` signs access tokens under, with `alg` in place of RS256 and `kid`.
pub fn header_json(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

/// Every hostile token, built from `claims` (valid claims the verifier under test would
/// accept) and `real` (the key it trusts), so that each is wrong in one way only: the
/// others are signed for real where a valid signature matters.
pub fn hostile_tokens(real: &SigningKey, claims: &Value) -> Vec<HostileToken> {
    use RejectReason::{BadSignature, Expired, LifetimeTooLong, Malformed, NotYetValid, UnknownKid, WrongAudience};
    use RejectReason::{WrongIssuer, WrongType};
    let kid = real.kid();
    let stranger = stranger_key();
    let issuer = claims["iss"].as_str().unwrap_or_default().to_owned();
    let sign = |header: Value, claims: &Value| sign_raw(real, &header, claims);
    let signed = |claims: Value| sign(header_json("RS256", kid), &claims);
    let valid = signed(claims.clone());
    let [head, payload, signature]: [&str; 3] = valid.split('.').collect::<Vec<_>>().try_into().unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let stranger_jwk = serde_json::to_value(stranger.jwk()).unwrap();
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.typ = Some("at+jwt".into());
    hs256.kid = Some(kid.to_owned());
    let hs256_with_public_key =
        jsonwebtoken::encode(&hs256, claims, &EncodingKey::from_secret(real.public_pem().as_bytes())).unwrap();
    let mut tampered = valid.clone();
    let payload_start = tampered.find('.').unwrap() + 5;
    let flipped = if &tampered[payload_start..=payload_start] == "A" { "B" } else { "A" };
    tampered.replace_range(payload_start..=payload_start, flipped);
    let now = now();
    let c = || claims.clone();
    let cases: Vec<(&'static str, String, RejectReason)> = vec![
        // Algorithms.
        ("alg none", format!("{}.{payload}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}))), Malformed),
        ("alg none without a kid", format!("{}.{payload}.", b64(&json!({"alg": "none", "typ": "at+jwt"}))), Malformed),
        (
            "alg none, signature kept",
            format!("{}.{payload}.{signature}", b64(&json!({"alg": "none", "typ": "at+jwt"}))),
            Malformed,
        ),
        ("alg NONE", format!("{}.{payload}.", b64(&json!({"alg": "NONE", "typ": "at+jwt", "kid": kid}))), Malformed),
        ("HS256 keyed with the public key", hs256_with_public_key, BadSignature),
        (
            "RS512 header on an RS256 signature",
            format!("{}.{payload}.{signature}", b64(&header_json("RS512", kid))),
            BadSignature,
        ),
        ("PS256 header", format!("{}.{payload}.{signature}", b64(&header_json("PS256", kid))), BadSignature),
        ("ES256 header", format!("{}.{payload}.{signature}", b64(&header_json("ES256", kid))), BadSignature),
        ("EdDSA header", format!("{}.{payload}.{signature}", b64(&header_json("EdDSA", kid))), BadSignature),
        // Keys the token brings itself.
        (
            "embedded jwk, signed by that key",
            sign_raw(stranger, &with(header_json("RS256", stranger.kid()), "jwk", stranger_jwk.clone()), claims),
            Malformed,
        ),
        (
            "embedded jwk under the real kid",
            sign_raw(stranger, &with(header_json("RS256", kid), "jwk", stranger_jwk), claims),
            Malformed,
        ),
        (
            "the trusted key's own jwk embedded",
            sign(with(header_json("RS256", kid), "jwk", serde_json::to_value(real.jwk()).unwrap()), claims),
            Malformed,
        ),
        (
            "jku to the attacker's JWKS",
            sign_raw(
                stranger,
                &with(header_json("RS256", stranger.kid()), "jku", json!("http://127.0.0.1:9/jwks.json")),
                claims,
            ),
            Malformed,
        ),
        (
            "x5u to the attacker's certificate",
            sign_raw(
                stranger,
                &with(header_json("RS256", stranger.kid()), "x5u", json!("http://127.0.0.1:9/c.pem")),
                claims,
            ),
            Malformed,
        ),
        (
            "x5c chain beside the real kid",
            sign(with(header_json("RS256", kid), "x5c", json!(["MIIBIjAN"])), claims),
            Malformed,
        ),
        (
            "jku beside the real kid",
            sign(with(header_json("RS256", kid), "jku", json!("http://127.0.0.1:9/j")), claims),
            Malformed,
        ),
        (
            "x5u beside the real kid",
            sign(with(header_json("RS256", kid), "x5u", json!("http://127.0.0.1:9/c")), claims),
            Malformed,
        ),
        (
            "a stranger's key under its own kid",
            sign_raw(stranger, &header_json("RS256", stranger.kid()), claims),
            UnknownKid,
        ),
        ("a stranger's key under the real kid", sign_raw(stranger, &header_json("RS256", kid), claims), BadSignature),
        // crit.
        (
            "unknown crit extension",
            sign(with(with(header_json("RS256", kid), "crit", json!(["exp-ext"])), "exp-ext", json!(1)), claims),
            Malformed,
        ),
        (
            "crit naming a registered header",
            sign(with(header_json("RS256", kid), "crit", json!(["kid"])), claims),
            Malformed,
        ),
        ("empty crit", sign(with(header_json("RS256", kid), "crit", json!([])), claims), Malformed),
        ("crit that is not an array", sign(with(header_json("RS256", kid), "crit", json!("x")), claims), Malformed),
        // kids that look like paths, URLs or queries: no key, no file, no fetch.
        ("unknown kid", sign(header_json("RS256", "nope"), claims), UnknownKid),
        ("kid ../../../../etc/passwd", sign(header_json("RS256", "../../../../etc/passwd"), claims), UnknownKid),
        ("kid /dev/zero", sign(header_json("RS256", "/dev/zero"), claims), UnknownKid),
        ("kid ..\\keys\\active.pem", sign(header_json("RS256", "..\\keys\\active.pem"), claims), UnknownKid),
        ("kid file URL", sign(header_json("RS256", "file:///etc/passwd"), claims), UnknownKid),
        ("kid http URL", sign(header_json("RS256", "http://127.0.0.1:9/key"), claims), UnknownKid),
        ("kid SQL", sign(header_json("RS256", "' OR '1'='1"), claims), UnknownKid),
        ("kid with NUL", sign(header_json("RS256", "a\u{0}b"), claims), UnknownKid),
        ("kid 4 KiB long", sign(header_json("RS256", &"k".repeat(4096)), claims), UnknownKid),
        ("kid as a number", sign(with(header_json("RS256", kid), "kid", json!(7)), claims), Malformed),
        ("no kid", sign(json!({"alg": "RS256", "typ": "at+jwt"}), claims), UnknownKid),
        // typ.
        ("typ JWT", sign(with(header_json("RS256", kid), "typ", json!("JWT")), claims), WrongType),
        ("typ rt+jwt", sign(with(header_json("RS256", kid), "typ", json!("rt+jwt")), claims), WrongType),
        ("no typ", sign(json!({"alg": "RS256", "kid": kid}), claims), WrongType),
        // Time.
        ("expired", signed(with(c(), "exp", json!(now - 120))), Expired),
        ("not yet valid", signed(with(c(), "nbf", json!(now + 600))), NotYetValid),
        ("issued in the future", signed(with(c(), "iat", json!(now + 3600))), NotYetValid),
        ("lives 30 days", signed(with(c(), "exp", json!(now + 30 * 86_400))), LifetimeTooLong),
        ("string exp", signed(with(c(), "exp", json!("99999999999"))), Malformed),
        ("huge float exp", signed(with(c(), "exp", json!(1e30))), Malformed),
        ("negative exp", signed(with(c(), "exp", json!(-1))), Malformed),
        ("boolean nbf", signed(with(c(), "nbf", json!(true))), Malformed),
        ("missing exp", signed(without(c(), "exp")), Malformed),
        ("missing nbf", signed(without(c(), "nbf")), Malformed),
        ("missing iat", signed(without(c(), "iat")), Malformed),
        // Issuer and audience.
        ("wrong issuer", signed(with(c(), "iss", json!("http://evil.example"))), WrongIssuer),
        ("issuer with a trailing slash", signed(with(c(), "iss", json!(format!("{issuer}/")))), WrongIssuer),
        ("issuer as an array", signed(with(c(), "iss", json!([issuer]))), Malformed),
        ("no audience", signed(with(c(), "aud", json!([]))), WrongAudience),
        ("someone else's audience", signed(with(c(), "aud", json!(["billing"]))), WrongAudience),
        ("missing audience", signed(without(c(), "aud")), Malformed),
        // Other claims.
        ("empty sub", signed(with(c(), "sub", json!(""))), Malformed),
        ("numeric sub", signed(with(c(), "sub", json!(1))), Malformed),
        ("object sub", signed(with(c(), "sub", json!({}))), Malformed),
        ("missing sub", signed(without(c(), "sub")), Malformed),
        ("missing jti", signed(without(c(), "jti")), Malformed),
        ("missing client_id", signed(without(c(), "client_id")), Malformed),
        ("malformed scope", signed(with(c(), "scope", json!("posts:read  x"))), Malformed),
        // Shape.
        ("over 8 KiB", signed(with(c(), "pad", json!("x".repeat(9 * 1024)))), Malformed),
        ("oversize token", format!("{head}.{}.{signature}", "A".repeat(MAX_TOKEN_BYTES)), Malformed),
        ("two tokens glued with a dot", format!("{valid}.{valid}"), Malformed),
        ("four segments", format!("{valid}.{signature}"), Malformed),
        ("five segments (JWE shape)", "a.b.c.d.e".to_owned(), Malformed),
        ("two segments", format!("{head}.{payload}"), Malformed),
        ("header is an array", format!("{}.{payload}.x", URL_SAFE_NO_PAD.encode("[]")), Malformed),
        ("signature stripped", format!("{head}.{payload}."), BadSignature),
        ("padded base64", format!("{head}==.{payload}.{signature}"), Malformed),
        ("payload tampered with", tampered, BadSignature),
        (
            "payload re-encoded with another sub",
            format!("{head}.{}.{signature}", b64(&with(c(), "sub", json!("999")))),
            BadSignature,
        ),
        ("not a JWT", "hello".to_owned(), Malformed),
    ];
    cases.into_iter().map(|(name, token, reason)| HostileToken { name, token, reason }).collect()
}
