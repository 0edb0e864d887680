//! The hot paths of identity propagation, in ns per operation:
//!
//! - `sign`: one access token, as users-service mints it at login and refresh;
//! - `sign_reparsing_the_key`: the same through `jsonwebtoken::encode`, which parses the
//!   private key again on every call (what `sign` avoids);
//! - `verify_warm_keys`: a full verification with the public keys already parsed (a warm
//!   JWKS cache), the cache of verified tokens turned off;
//! - `verify_cached`: the same token again with the cache on: what a client that reuses
//!   its token costs.
//!
//! Run: `cargo bench -p auth-common`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, LazyLock};

use auth_common::token::claims::AccessClaims;
use auth_common::token::key_source::StaticKeys;
use auth_common::token::signing_key::SigningKey;
use auth_common::token::verifier::{Verifier, VerifierSettings};
use divan::Bencher;
use futures_util::FutureExt;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::JwkSet;

const ISSUER: &str = "http://users.bench";

static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate().unwrap());

fn main() {
    auth_common::token::install_crypto_provider();
    divan::main();
}

fn claims() -> AccessClaims {
    let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap();
    AccessClaims {
        iss: ISSUER.to_owned(),
        sub: "42".to_owned(),
        aud: vec!["posts-service".to_owned(), "users-service".to_owned()],
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: "3f1c1a52-8d0e-4a39-9a8f-0c2f1f7e9b21".to_owned(),
        scope: "posts:read posts:write users:read".to_owned(),
        client_id: "login".to_owned(),
        username: Some("alice".to_owned()),
    }
}

fn verifier(cache_entries: usize) -> Verifier {
    let keys = StaticKeys::from_jwks(&JwkSet { keys: vec![KEY.jwk().clone()] });
    let settings = VerifierSettings {
        issuer: ISSUER.to_owned(),
        audience: "posts-service".to_owned(),
        leeway_secs: 30,
        cache_entries,
        max_lifetime_secs: 3600,
    };
    Verifier::new(settings, Arc::new(keys), auth_common::clock::Clock::system())
}

#[divan::bench]
fn sign(bencher: Bencher) {
    let claims = claims();
    bencher.bench(|| KEY.sign(&claims).unwrap());
}

#[divan::bench]
fn sign_reparsing_the_key(bencher: Bencher) {
    let claims = claims();
    let header = KEY.access_token_header();
    let encoding = EncodingKey::from_rsa_pem(KEY.private_pem().as_bytes()).unwrap();
    bencher.bench(|| jsonwebtoken::encode(&header, &claims, &encoding).unwrap());
}

#[divan::bench]
fn verify_warm_keys(bencher: Bencher) {
    let verifier = verifier(0);
    let token = KEY.sign(&claims()).unwrap();
    // StaticKeys answers at once, so the future is ready on its first poll.
    bencher.bench(|| verifier.verify(&token).now_or_never().unwrap().unwrap());
}

#[divan::bench]
fn verify_cached(bencher: Bencher) {
    let verifier = verifier(1000);
    let token = KEY.sign(&claims()).unwrap();
    verifier.verify(&token).now_or_never().unwrap().unwrap();
    bencher.bench(|| verifier.verify(&token).now_or_never().unwrap().unwrap());
}
