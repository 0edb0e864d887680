//! Test helpers: keys generated at run time (we commit no private key, not even a test
//! one) and claim sets to sign, valid or deliberately broken.

use std::sync::OnceLock;

use crate::claims::AccessClaims;
use crate::scope::USER_SCOPES;
use crate::signing::SigningKey;

/// A key generated once per test binary.
pub fn test_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().expect("generating a test RSA key"))
}

/// A second key, for tokens signed by a stranger.
pub fn stranger_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().expect("generating a test RSA key"))
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

/// Valid user-token claims for `issuer`, for both services, living five minutes.
pub fn user_claims(issuer: &str) -> AccessClaims {
    let now = now();
    AccessClaims {
        iss: issuer.to_owned(),
        sub: "1".to_owned(),
        aud: vec!["users-service".to_owned(), "posts-service".to_owned()],
        exp: now + 300,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().to_string(),
        scope: USER_SCOPES.to_owned(),
        client_id: "login".to_owned(),
        username: Some("alice".to_owned()),
    }
}
