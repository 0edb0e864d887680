//! Reading an OAuth request (RFC 6749): form parameters, each at most once (§3.2), and
//! client authentication by HTTP Basic or `client_secret_post`, never both (§2.3).

use std::collections::HashMap;
use std::fmt;

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::OAuthError;

/// The parameters of a form body; a repeated parameter is `invalid_request`. Its `Debug`
/// shows parameter names only: the values include secrets and tokens.
pub struct FormParams(HashMap<String, String>);

impl fmt::Debug for FormParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl FormParams {
    /// Collects `pairs`, refusing repeats.
    pub fn new(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if map.insert(name, value).is_some() {
                return Err(OAuthError::InvalidRequest("a parameter was sent more than once"));
            }
        }
        Ok(Self(map))
    }

    /// The value of `name`, if sent and not empty (RFC 6749 §3.1: empty means omitted).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// How the client identified itself.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// Nothing: a public client that did not say which it is.
    None,
    /// `client_id` alone: a public client.
    Public(String),
    /// An id and a secret: a confidential client to authenticate.
    Secret {
        /// The client id.
        id: String,
        /// The secret it presented.
        secret: String,
    },
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Public(id) => f.debug_tuple("Public").field(id).finish(),
            Self::Secret { id, .. } => f.debug_struct("Secret").field("id", id).field("secret", &"[redacted]").finish(),
        }
    }
}

impl ClientCredentials {
    /// Reads the credentials from the `Authorization` header and the form.
    pub fn read(headers: &HeaderMap, params: &FormParams) -> Result<Self, OAuthError> {
        let basic = basic_credentials(headers)?;
        let (form_id, form_secret) = (params.get("client_id"), params.get("client_secret"));
        match (basic, form_id, form_secret) {
            (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest("use one client authentication method, not two")),
            (Some((id, _)), Some(other), None) if other != id => {
                Err(OAuthError::InvalidRequest("client_id does not match the Authorization header"))
            }
            (Some((id, secret)), _, None) => Ok(Self::Secret { id, secret }),
            (None, Some(id), Some(secret)) => Ok(Self::Secret { id: id.to_owned(), secret: secret.to_owned() }),
            (None, Some(id), None) => Ok(Self::Public(id.to_owned())),
            (None, None, Some(_)) => Err(OAuthError::InvalidRequest("client_secret was sent without client_id")),
            (None, None, None) => Ok(Self::None),
        }
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
/// Another scheme, or none, is not Basic credentials.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::InvalidClient;
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| malformed())?;
        pairs.into_iter().next().map(|(_, v)| v).ok_or_else(malformed)
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> FormParams {
        FormParams::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
        headers
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let pairs = vec![("grant_type".to_owned(), "a".to_owned()), ("grant_type".to_owned(), "b".to_owned())];
        assert!(FormParams::new(pairs).is_err());
    }

    #[test]
    fn reads_each_authentication_method() {
        let none = HeaderMap::new();
        assert_eq!(
            ClientCredentials::read(&basic("svc", "s%3Acret"), &params(&[])).unwrap(),
            ClientCredentials::Secret { id: "svc".into(), secret: "s:cret".into() }
        );
        assert_eq!(
            ClientCredentials::read(&none, &params(&[("client_id", "svc"), ("client_secret", "x")])).unwrap(),
            ClientCredentials::Secret { id: "svc".into(), secret: "x".into() }
        );
        assert_eq!(
            ClientCredentials::read(&none, &params(&[("client_id", "login")])).unwrap(),
            ClientCredentials::Public("login".into())
        );
        assert_eq!(ClientCredentials::read(&none, &params(&[])).unwrap(), ClientCredentials::None);
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let err = ClientCredentials::read(&basic("svc", "x"), &params(&[("client_secret", "x")])).unwrap_err();
        assert!(matches!(err, OAuthError::InvalidRequest(_)));
    }
}
