//! The actix extractor that authenticates a request from its `Authorization: Bearer` header.
//!
//! A handler that takes a [`Caller`] runs only for a verified token; the caller's scopes
//! are then checked with [`Caller::require_scope`]. The raw token is kept (in a type that
//! will not print it) because posts-service passes it on to users-service unchanged.

use std::fmt;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::token::auth_error::AuthError;
use crate::token::claims::AccessClaims;
use crate::token::reject_reason::{MISSING_TOKEN_LABEL, RejectReason};
use crate::token::scope::ScopeSet;
use crate::token::verifier::{MAX_TOKEN_BYTES, Verifier};

/// A bearer token as it arrived. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Wraps a token string (for instance one posts-service obtained for itself).
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, to verify or forward. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header value that carries it.
    pub fn header_value(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified claims.
    pub claims: AccessClaims,
    /// The granted scopes.
    pub scopes: ScopeSet,
    /// The token the caller sent, for propagation.
    pub token: BearerToken,
}

/// The subject of the request's caller, put in the request extensions for access logs.
#[derive(Debug, Clone)]
pub struct CallerSubject(pub String);

/// A token refusal (or `missing`), put in the request extensions so metrics can count it
/// by reason.
#[derive(Debug, Clone, Copy)]
pub struct TokenRejected(pub &'static str);

impl Caller {
    /// Succeeds when the token carries `scope`; otherwise a 403 `insufficient_scope`.
    pub fn require_scope(&self, scope: &'static str) -> Result<(), AuthError> {
        if self.scopes.contains(scope) { Ok(()) } else { Err(AuthError::InsufficientScope(scope)) }
    }

    /// The user id of a person's token; a 403 for a service account.
    pub fn user_id(&self) -> Result<i64, AuthError> {
        if !self.claims.is_user() {
            return Err(AuthError::Forbidden("this endpoint is for users, not service accounts"));
        }
        self.claims.sub.parse().map_err(|_| AuthError::Rejected(RejectReason::Malformed))
    }
}

impl FromRequest for Caller {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req.headers()).and_then(|token| match has_query_token(req.query_string()) {
            // RFC 6750 §2: one method per request. A token in the query alone is ignored.
            true => {
                Err(AuthError::InvalidRequest("send the token in the Authorization header only, not also in the URL"))
            }
            false => Ok(token),
        });
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let token = token.inspect_err(|e| {
                let label = match e {
                    AuthError::Rejected(reason) => reason.label(),
                    AuthError::Missing => MISSING_TOKEN_LABEL,
                    _ => "malformed",
                };
                req.extensions_mut().insert(TokenRejected(label));
            })?;
            let verifier = verifier.ok_or(AuthError::Misconfigured)?;
            match verifier.verify(token.expose()).await {
                Ok(verified) => {
                    req.extensions_mut().insert(CallerSubject(verified.claims.sub.clone()));
                    Ok(Caller { claims: verified.claims, scopes: verified.scopes, token })
                }
                Err(reason) => {
                    log::debug!("bearer token refused: {}", reason.label());
                    req.extensions_mut().insert(TokenRejected(reason.label()));
                    Err(AuthError::Rejected(reason))
                }
            }
        })
    }
}

/// Finds the bearer token in `Authorization` (RFC 6750 §2.1), and only there: tokens in
/// the query string or the body are ignored, since they end up in logs and histories.
pub fn bearer_token(headers: &HeaderMap) -> Result<BearerToken, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(AuthError::Missing);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest("send exactly one Authorization header"));
    }
    if value.len() > MAX_TOKEN_BYTES + 16 {
        return Err(AuthError::Rejected(RejectReason::Malformed));
    }
    let value = value.to_str().map_err(|_| AuthError::Rejected(RejectReason::Malformed))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    // Another scheme (Basic, …) is not a bearer credential at all: treat it as none sent.
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim_start_matches(' ');
    if !is_token68(token) {
        return Err(AuthError::Rejected(RejectReason::Malformed));
    }
    Ok(BearerToken(token.to_owned()))
}

/// Whether the query string carries `access_token` (RFC 6750 §2.3), however encoded.
fn has_query_token(query: &str) -> bool {
    !query.is_empty()
        && web::Query::<Vec<(String, String)>>::from_query(query)
            .is_ok_and(|pairs| pairs.iter().any(|(name, _)| name == "access_token"))
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(&headers(&["bearer abc.def.ghi"])).unwrap().expose(), "abc.def.ghi");
        assert_eq!(bearer_token(&headers(&["BEARER abc"])).unwrap().expose(), "abc");
    }

    #[test]
    fn header_problems_map_to_the_rfc_6750_answers() {
        let cases: [(&str, &[&str], &str); 6] = [
            ("no header", &[], "Missing"),
            ("basic scheme", &["Basic dXNlcjpwYXNz"], "Missing"),
            ("empty token", &["Bearer "], "Rejected"),
            ("quote in token", &["Bearer an\"invalid\"token"], "Rejected"),
            ("space inside", &["Bearer a b"], "Rejected"),
            ("two headers", &["Bearer a", "Bearer b"], "InvalidRequest"),
        ];
        for (case, values, expected) in cases {
            let err = bearer_token(&headers(values)).expect_err(case);
            assert!(format!("{err:?}").starts_with(expected), "case {case}: got {err:?}");
        }
    }

    #[test]
    fn an_access_token_in_the_query_is_found_however_it_is_encoded() {
        assert!(has_query_token("access_token=abc"));
        assert!(has_query_token("limit=5&access%5Ftoken=abc"));
        assert!(has_query_token("access_token="));
        assert!(!has_query_token(""));
        assert!(!has_query_token("limit=5&token=abc"));
        assert!(!has_query_token("xaccess_token=abc"));
    }

    #[test]
    fn a_token_never_appears_in_debug_output() {
        let token = BearerToken::new("eyJsecret".to_owned());
        assert!(!format!("{token:?}").contains("eyJ"));
    }
}
