//! The registered clients (`OAUTH_CLIENTS`): service accounts, and browser or native
//! applications that sign users in with the authorization code grant; and client
//! authentication at the token endpoint.

pub mod registration;

use std::fmt;
use std::sync::Arc;

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

/// A registered client.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// Its client id, also the `sub` of its client-credentials tokens.
    pub id: String,
    /// Its secret; `None` for a public client (a browser or native app), which proves
    /// itself with PKCE alone and may not use the client-credentials grant.
    pub secret: Option<ClientSecret>,
    /// The most it may be granted.
    pub scopes: ScopeSet,
    /// Where the authorization endpoint may send its users back, compared exactly
    /// (RFC 9700 §4.1.3). None: a service account, which cannot sign users in.
    pub redirect_uris: Vec<String>,
    /// Where the end-session endpoint may send its users after signing out; empty: its
    /// redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// An app run by someone else: the sign-in asks the user to consent to its scopes.
    pub third_party: bool,
}

impl OAuthClient {
    /// A service account: a secret, scopes, no redirect URI.
    pub fn service_account(id: &str, secret: &str, scopes: ScopeSet) -> Self {
        Self {
            id: id.to_owned(),
            secret: Some(ClientSecret::new(secret)),
            scopes,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            third_party: false,
        }
    }

    /// Whether `uri` is one of its redirect URIs, byte for byte.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    /// Whether the end-session endpoint may send a user to `uri`, byte for byte: one of
    /// its post-logout redirect URIs, or of its redirect URIs when it lists none.
    pub fn returns_after_logout_to(&self, uri: &str) -> bool {
        let listed = if self.post_logout_redirect_uris.is_empty() {
            &self.redirect_uris
        } else {
            &self.post_logout_redirect_uris
        };
        listed.iter().any(|registered| registered == uri)
    }
}

/// The registered clients. Cloning it is cheap (the list is shared), so a blocking task
/// can take its own.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistry {
    clients: Arc<[OAuthClient]>,
    decoy: Option<ClientSecret>,
}

impl ClientRegistry {
    /// The client `id`, authenticated or not (the authorization endpoint names a client
    /// before anyone has proved anything).
    pub fn get(&self, id: &str) -> Option<&OAuthClient> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// The client `id` if it signs users in (it has redirect URIs), as the authorization
    /// and end-session endpoints need; a service account is not one.
    pub fn app(&self, id: &str) -> Option<&OAuthClient> {
        self.get(id).filter(|c| !c.redirect_uris.is_empty())
    }

    /// Whether `id` names a client with a secret: its tokens are refreshed and revoked
    /// only with its authentication.
    pub fn has_secret(&self, id: &str) -> bool {
        self.get(id).is_some_and(|c| c.secret.is_some())
    }

    /// A registry of `clients`.
    pub fn new(clients: Vec<OAuthClient>) -> Self {
        Self { clients: clients.into(), decoy: Some(ClientSecret::new("decoy secret for unknown clients")) }
    }

    /// The client `id` if `secret` is its secret. An unknown id costs the same comparison
    /// as a wrong secret, so timing does not tell which ids exist.
    pub fn authenticate(&self, id: &str, secret: &str) -> Result<&OAuthClient, OAuthError> {
        match self.clients.iter().find(|c| c.id == id) {
            Some(client) if client.secret.as_ref().is_some_and(|s| s.matches(secret)) => Ok(client),
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
        ClientRegistry::new(vec![
            OAuthClient::service_account("svc", "right-secret", ScopeSet::parse("users:read").unwrap()),
            OAuthClient {
                id: "app".into(),
                secret: None,
                scopes: ScopeSet::parse("posts:read").unwrap(),
                redirect_uris: vec!["http://localhost/cb".into()],
                post_logout_redirect_uris: Vec::new(),
                third_party: false,
            },
        ])
    }

    #[test]
    fn authenticates_only_the_right_pair() {
        let registry = registry();
        assert!(registry.authenticate("svc", "right-secret").is_ok());
        assert_eq!(registry.authenticate("svc", "wrong").unwrap_err(), OAuthError::InvalidClient);
        assert_eq!(registry.authenticate("nobody", "right-secret").unwrap_err(), OAuthError::InvalidClient);
        assert_eq!(registry.authenticate("svc", "").unwrap_err(), OAuthError::InvalidClient);
        assert_eq!(registry.authenticate("app", "").unwrap_err(), OAuthError::InvalidClient, "public: no secret");
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let registry = registry();
        let app = registry.get("app").unwrap();
        assert!(app.redirects_to("http://localhost/cb"));
        for near in ["http://localhost/cb/", "http://localhost/cb?x=1", "http://LOCALHOST/cb", "http://localhost/c"] {
            assert!(!app.redirects_to(near), "{near}");
        }
        assert!(!registry.get("svc").unwrap().redirects_to(""));
    }

    #[test]
    fn apps_are_the_clients_that_sign_users_in() {
        let registry = registry();
        assert!(registry.app("app").is_some() && registry.app("svc").is_none() && registry.app("nobody").is_none());
        assert!(registry.has_secret("svc") && !registry.has_secret("app") && !registry.has_secret("nobody"));
    }

    #[test]
    fn debug_output_holds_no_secret() {
        assert!(!format!("{:?}", registry()).contains("right-secret"));
    }
}
