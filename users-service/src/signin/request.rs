//! An authorization request (RFC 6749 §4.1.1, with RFC 9700's rules), checked in the order
//! that decides where an error may go: until the client and its redirect URI are known to
//! belong together, an error is shown on the page and never redirected (no open redirect);
//! after that, it goes back to the client with `error` and `state` (§4.1.2.1).

use auth_common::token::scope::{OIDC_SCOPES, Scope, ScopeSet, USER_SCOPES};

use crate::tokens::authorization_code::CodeChallenge;
use crate::tokens::clients::{ClientRegistry, OAuthClient};
use crate::tokens::oauth_request::FormParams;

/// A request whose client and redirect URI are trusted, with everything else checked.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: OAuthClient,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: ScopeSet,
    pub challenge: CodeChallenge,
    /// OpenID Connect: echoed in the ID token (at most 255 bytes).
    pub nonce: Option<String>,
    /// OpenID Connect's `prompt`, a set of `none`, `login`, `consent`.
    pub prompt: Prompt,
    /// OpenID Connect's `max_age`: a session older than this many seconds asks again.
    pub max_age: Option<u64>,
}

/// OpenID Connect's `prompt` values (Core §3.1.2.1), as a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// No page may be shown: a code, or an error.
    pub none: bool,
    /// The password again, whatever the browser holds.
    pub login: bool,
    /// The consent page, even for a first-party client.
    pub consent: bool,
}

/// The longest `state` carried: it travels in a form, a redirect and the sign-in page.
pub const MAX_STATE_BYTES: usize = 2048;

/// Why a request was refused, and where the answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Shown on the page: the redirect URI is not trusted (or not known).
    OnPage(&'static str),
    /// Sent back to the trusted redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: &'static str },
}

impl AuthorizeRequest {
    /// Checks `params` (the query of `GET /oauth/authorize`, or the hidden fields of the
    /// sign-in form) against the registered clients.
    pub fn check(params: &FormParams, clients: &ClientRegistry) -> Result<Self, Refused> {
        let client_id = params.get("client_id").ok_or(Refused::OnPage("the request names no client (client_id)"))?;
        let client = clients.app(client_id).ok_or(Refused::OnPage("no such client may sign users in here"))?;
        let redirect_uri = params
            .get("redirect_uri")
            .ok_or(Refused::OnPage("the request has no redirect_uri; it must be one registered for the client"))?;
        if !client.redirects_to(redirect_uri) {
            return Err(Refused::OnPage("redirect_uri is not registered for this client"));
        }
        let state = params.get("state").map(str::to_owned);
        if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_BYTES) {
            return Err(Refused::OnPage("state is longer than 2048 bytes"));
        }
        let refuse = |error, description| Refused::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error,
            description,
        };
        match params.get("response_type") {
            Some("code") => {}
            None => return Err(refuse("invalid_request", "response_type is required")),
            Some(_) => return Err(refuse("unsupported_response_type", "only response_type=code is supported")),
        }
        let challenge = CodeChallenge::parse(params.get("code_challenge"), params.get("code_challenge_method"))
            .map_err(|why| refuse("invalid_request", why))?;
        let user_scopes = format!("{USER_SCOPES} {}", OIDC_SCOPES.join(" "));
        let allowed = intersection(&client.scopes, &ScopeSet::parse(&user_scopes).unwrap_or_default());
        let scopes = match params.get("scope") {
            None => allowed,
            Some(raw) => match ScopeSet::parse(&understood(raw)) {
                Ok(asked) if !asked.is_empty() && asked.is_subset(&allowed) => asked,
                _ => return Err(refuse("invalid_scope", "the scope asked for is not one this client may have")),
            },
        };
        if scopes.is_empty() {
            return Err(refuse("invalid_scope", "this client may not ask for any user scope"));
        }
        // Request objects (OpenID Connect Core §6) are not supported: say so (§3.1.2.6).
        if params.get("request").is_some() {
            return Err(refuse("request_not_supported", "request objects are not supported"));
        }
        if params.get("request_uri").is_some() {
            return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
        }
        if params.get("response_mode").is_some_and(|mode| mode != "query") {
            return Err(refuse("invalid_request", "only response_mode=query is supported"));
        }
        let nonce = params.get("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > 255) {
            return Err(refuse("invalid_request", "nonce is longer than 255 bytes"));
        }
        let prompt = Prompt::parse(params.get("prompt")).map_err(|why| refuse("invalid_request", why))?;
        let max_age = match params.get("max_age") {
            None => None,
            Some(raw) => {
                Some(raw.parse::<u64>().map_err(|_| refuse("invalid_request", "max_age must be a number of seconds"))?)
            }
        };
        Ok(Self {
            client: client.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state,
            scopes,
            challenge,
            nonce,
            prompt,
            max_age,
        })
    }

    /// The parameters to carry through the sign-in form, as they were checked.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scopes.to_string()),
            ("code_challenge", self.challenge.as_str().to_owned()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce", nonce.clone()));
        }
        // The form already asks for the password: `login` and `none` are spent; the
        // consent page, if asked for, still comes.
        if self.prompt.consent {
            fields.push(("prompt", "consent".to_owned()));
        }
        fields
    }
}

impl Prompt {
    /// The space-separated values of `prompt`; `none` with any other is an error.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let mut prompt = Self::default();
        for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {}
                _ => return Err("prompt holds a value that is not none, login, consent or select_account"),
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(prompt)
    }
}

/// The words of `raw` that are scopes at all here: OpenID Connect asks that values not
/// understood (`offline_access`, `phone`) be ignored (Core §3.1.2.1), which standard
/// client libraries count on. A word of our form that the client may not have is kept, so
/// it is refused.
fn understood(raw: &str) -> String {
    let words: Vec<&str> = raw.split(' ').filter(|w| Scope::parse(w).is_ok()).collect();
    words.join(" ")
}

fn intersection(a: &ScopeSet, b: &ScopeSet) -> ScopeSet {
    let common: Vec<&str> = a.iter().map(|s| s.as_str()).filter(|s| b.contains(s)).collect();
    ScopeSet::parse(&common.join(" ")).unwrap_or_default()
}

/// `redirect_uri` with `pairs` added to its query.
pub fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> ClientRegistry {
        ClientRegistry::new(vec![
            OAuthClient {
                id: "app".into(),
                secret: None,
                scopes: ScopeSet::parse("posts:read posts:write").unwrap(),
                redirect_uris: vec!["http://localhost:8080/callback".into()],
                post_logout_redirect_uris: Vec::new(),
                third_party: false,
            },
            OAuthClient::service_account("svc", "secret-secret-secret", ScopeSet::parse("users:read").unwrap()),
        ])
    }

    fn params(pairs: &[(&str, &str)]) -> FormParams {
        FormParams::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    const GOOD: [(&str, &str); 6] = [
        ("client_id", "app"),
        ("redirect_uri", "http://localhost:8080/callback"),
        ("response_type", "code"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
    ];

    fn with(changes: &[(&str, Option<&str>)]) -> FormParams {
        let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
        for (name, value) in changes {
            pairs.retain(|(k, _)| k != name);
            if let Some(v) = value {
                pairs.push((name, v));
            }
        }
        params(&pairs)
    }

    #[test]
    fn a_good_request_gets_the_client_scopes_that_users_have() {
        let request = AuthorizeRequest::check(&with(&[]), &clients()).unwrap();
        assert_eq!(request.scopes.to_string(), "posts:read posts:write");
        assert_eq!(request.state.as_deref(), Some("xyz"));
    }

    #[test]
    fn an_untrusted_redirect_is_never_followed() {
        for changes in [
            vec![("client_id", None)],
            vec![("client_id", Some("nobody"))],
            vec![("client_id", Some("svc"))],
            vec![("redirect_uri", None)],
            vec![("redirect_uri", Some("https://evil.example/callback"))],
            vec![("redirect_uri", Some("http://localhost:8080/callback/../x"))],
        ] {
            let refused = AuthorizeRequest::check(&with(&changes), &clients()).unwrap_err();
            assert!(matches!(refused, Refused::OnPage(_)), "{changes:?}: {refused:?}");
        }
    }

    #[test]
    fn later_errors_go_back_to_the_client_with_its_state() {
        for (changes, error) in [
            (vec![("response_type", Some("token"))], "unsupported_response_type"),
            (vec![("code_challenge_method", Some("plain"))], "invalid_request"),
            (vec![("code_challenge", None)], "invalid_request"),
            (vec![("scope", Some("users:read"))], "invalid_scope"),
            (vec![("scope", Some("offline_access"))], "invalid_scope"),
        ] {
            match AuthorizeRequest::check(&with(&changes), &clients()).unwrap_err() {
                Refused::Redirect { error: got, state, redirect_uri, .. } => {
                    assert_eq!((got, state.as_deref()), (error, Some("xyz")), "{changes:?}");
                    assert_eq!(redirect_uri, "http://localhost:8080/callback");
                }
                other => panic!("{changes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn scope_values_not_understood_here_are_ignored() {
        let request = AuthorizeRequest::check(&with(&[("scope", Some("offline_access posts:read phone"))]), &clients());
        assert_eq!(request.unwrap().scopes.to_string(), "posts:read");
    }

    #[test]
    fn the_redirect_keeps_an_existing_query_and_encodes_the_state() {
        assert_eq!(
            redirect_to("https://a.example/cb", &[("code", "c"), ("state", "a b&c")]),
            "https://a.example/cb?code=c&state=a+b%26c"
        );
        assert_eq!(redirect_to("https://a.example/cb?x=1", &[("code", "c")]), "https://a.example/cb?x=1&code=c");
    }
}
