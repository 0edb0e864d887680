//! Service accounts (`OAUTH_CLIENTS`) and client authentication at the token endpoint.

use std::fmt;

use auth_common::token::scope::ScopeSet;
use auth_common::token::sha256;

use crate::error::OAuthError;

/// The client id of the first-party login (`POST /auth/login`): a public client with no
/// secret, to which every user refresh token is bound.
pub const LOGIN_CLIENT_ID: &str = "login";

/// A client secret, held only as its SHA-256 hash and compared in constant time.
#[derive(Clone)]
pub struct ClientSecret([u8; 32]);

impl ClientSecret {
    /// Hashes `secret`.
    pub fn new(secret: &str) -> Self {
        Self(sha256::digest(secret.as_bytes()))
    }

    /// Whether `candidate` is the secret, in time that does not depend on where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        #[allow(deprecated)]
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.0, &sha256::digest(candidate.as_bytes())).is_ok()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A service account.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// Its client id, also the `sub` of its tokens.
    pub id: String,
    /// Its secret.
    pub secret: ClientSecret,
    /// The most it may be granted.
    pub scopes: ScopeSet,
}

/// The registered service accounts.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistry {
    clients: Vec<OAuthClient>,
    decoy: Option<ClientSecret>,
}

impl ClientRegistry {
    /// A registry of `clients`.
    pub fn new(clients: Vec<OAuthClient>) -> Self {
        Self { clients, decoy: Some(ClientSecret::new("decoy secret for unknown clients")) }
    }

    /// The client `id` if `secret` is its secret. An unknown id costs the same comparison
    /// as a wrong secret, so timing does not tell which ids exist.
    pub fn authenticate(&self, id: &str, secret: &str) -> Result<&OAuthClient, OAuthError> {
        match self.clients.iter().find(|c| c.id == id) {
            Some(client) if client.secret.matches(secret) => Ok(client),
            Some(_) => Err(OAuthError::InvalidClient),
            None => {
                if let Some(decoy) = &self.decoy {
                    let _ = decoy.matches(secret);
                }
                Err(OAuthError::InvalidClient)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> ClientRegistry {
        ClientRegistry::new(vec![OAuthClient {
            id: "svc".into(),
            secret: ClientSecret::new("right-secret"),
            scopes: ScopeSet::parse("users:read").unwrap(),
        }])
    }

    #[test]
    fn authenticates_only_the_right_pair() {
        let registry = registry();
        assert!(registry.authenticate("svc", "right-secret").is_ok());
        assert_eq!(registry.authenticate("svc", "wrong").unwrap_err(), OAuthError::InvalidClient);
        assert_eq!(registry.authenticate("nobody", "right-secret").unwrap_err(), OAuthError::InvalidClient);
        assert_eq!(registry.authenticate("svc", "").unwrap_err(), OAuthError::InvalidClient);
    }

    #[test]
    fn debug_output_holds_no_secret() {
        assert!(!format!("{:?}", registry()).contains("right-secret"));
    }
}
