//! The claims of an access token (RFC 9068 §2.2), shared by the issuer and the verifiers.

use serde::{Deserialize, Deserializer, Serialize};

/// The `typ` header of every access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims users-service signs and every verifier reads.
///
/// Every field is typed, so a token with a string `exp`, an object `sub` or a missing
/// `jti` fails to deserialize and is refused as malformed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer: users-service's public URL, compared byte for byte.
    pub iss: String,
    /// The user id as a decimal string, or the client id of a service account.
    pub sub: String,
    /// The services this token is for. RFC 7519 allows a lone string; we always sign an array.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// A unique id for this token.
    pub jti: String,
    /// Space-separated scopes (RFC 8693 §4.2).
    pub scope: String,
    /// The OAuth client the token was issued to.
    pub client_id: String,
    /// The user's name; absent on service-account tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl AccessClaims {
    /// Whether this token was issued to a person rather than a service account.
    pub fn is_user(&self) -> bool {
        self.username.is_some()
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_json(aud: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "iss": "http://issuer", "sub": "1", "aud": aud, "exp": 2, "iat": 1, "nbf": 1,
            "jti": "j", "scope": "posts:read", "client_id": "login"
        })
    }

    #[test]
    fn audience_may_be_a_single_string_or_an_array() {
        let one: AccessClaims = serde_json::from_value(claims_json("a".into())).unwrap();
        let many: AccessClaims = serde_json::from_value(claims_json(serde_json::json!(["a", "b"]))).unwrap();
        assert_eq!(one.aud, vec!["a"]);
        assert_eq!(many.aud, vec!["a", "b"]);
    }

    #[test]
    fn a_string_expiry_does_not_deserialize() {
        let mut value = claims_json("a".into());
        value["exp"] = "9999999999".into();
        assert!(serde_json::from_value::<AccessClaims>(value).is_err());
    }
}
