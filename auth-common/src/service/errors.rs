//! The one error shape both services answer with, `{"error", "error_description"}`
//! (RFC 6749 §5.2), and the errors of bearer-token authentication (RFC 6750 §3).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"error": "invalid_token", "error_description": "the access token has expired; refresh it or log in again"}))]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `invalid_token` or `not_found`.
    pub error: String,
    /// A sentence a person can act on. Never holds a token, a secret or internal detail.
    pub error_description: String,
}

/// Builds an error response in the shared shape. Errors are never cached.
pub fn error_response(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    error_response_builder(status).json(ErrorBody { error: code.to_owned(), error_description: description.to_owned() })
}

/// A response builder for an error: the status plus `Cache-Control: no-store`, so a
/// caller can add headers (such as `WWW-Authenticate`) before the body.
pub fn error_response_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    builder
}

/// The 503 for a database that could not be reached in time: logged as a warning, with
/// `Retry-After`.
pub fn unavailable_response(cause: &dyn std::fmt::Display) -> HttpResponse {
    log::warn!("database unavailable: {cause}");
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the service is temporarily unavailable; retry shortly",
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The 500 for anything unexpected: the whole chain of causes is logged once, here, and
/// the client gets a generic sentence (no SQL, no library text).
pub fn internal_response(cause: &anyhow::Error) -> HttpResponse {
    log::error!("internal error: {cause:?}");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred")
}

/// A client error that is fully described by a status, a code and a sentence: what
/// extractor failures (bad JSON, oversize bodies, bad paths) turn into.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{description}")]
pub struct HttpProblem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable error code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub description: String,
}

impl HttpProblem {
    /// A problem with the given status, code and description.
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self { status, code, description: description.into() }
    }
}

impl ResponseError for HttpProblem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        error_response(self.status, self.code, &self.description)
    }
}

/// Why a presented token was refused. The labels are the fixed set the
/// `tokens_rejected_total{reason}` metric uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    NotYetValid,
    /// The signature does not verify, or the algorithm is not RS256.
    BadSignature,
    /// `kid` names no key of the key set.
    UnknownKid,
    /// `iss` is not our issuer.
    WrongIssuer,
    /// `aud` does not hold this service.
    WrongAudience,
    /// The `typ` header is not `at+jwt`: some other kind of token.
    WrongType,
    /// Not a well-formed JWS with the claims we require, or a header we refuse.
    Malformed,
    /// `exp` lies further from `iat`, or from now, than the longest lifetime accepted.
    /// Counted as `malformed`: no token we issue looks like this.
    LifetimeTooLong,
}

impl RejectReason {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BadSignature => "bad_signature",
            Self::UnknownKid => "unknown_kid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongType => "wrong_type",
            Self::Malformed | Self::LifetimeTooLong => "malformed",
        }
    }

    /// What the client is told. Says what to do without echoing the token or library text.
    pub fn description(self) -> &'static str {
        match self {
            Self::Expired => "the access token has expired; refresh it or log in again",
            Self::NotYetValid => "the access token is not valid yet; check the clocks",
            Self::BadSignature => "the access token signature does not verify",
            Self::UnknownKid => "the access token was signed with a key this service does not know",
            Self::WrongIssuer => "the access token was issued by an issuer this service does not trust",
            Self::WrongAudience => "the access token is not meant for this service",
            Self::WrongType => "the token is not an access token (typ must be at+jwt)",
            Self::Malformed => "the access token is malformed or lacks a required claim",
            Self::LifetimeTooLong => "the access token lives longer than this service accepts",
        }
    }
}

/// A failure to authenticate or authorize a bearer-token request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// No bearer token was sent.
    #[error("no bearer token")]
    Missing,
    /// The `Authorization` header was ambiguous (RFC 6750 §3.1 `invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// A token was sent and refused.
    #[error("token refused: {}", .0.label())]
    Rejected(RejectReason),
    /// The token is valid but lacks the scope the route needs.
    #[error("missing scope {0}")]
    InsufficientScope(&'static str),
    /// The token is valid but the caller may not use this route (for instance a service
    /// account on a route for people).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The application did not register a verifier: a programming error.
    #[error("no token verifier is configured")]
    Misconfigured,
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Rejected(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (code, description, challenge) = match self {
            // RFC 6750 §3.1: no error code when the request carried no credentials.
            Self::Missing => (
                "unauthorized",
                "this endpoint needs an access token: send `Authorization: Bearer <token>`".to_owned(),
                Some("Bearer".to_owned()),
            ),
            Self::InvalidRequest(why) => (
                "invalid_request",
                (*why).to_owned(),
                Some(format!("Bearer error=\"invalid_request\", error_description=\"{why}\"")),
            ),
            Self::Rejected(reason) => (
                "invalid_token",
                reason.description().to_owned(),
                Some(format!("Bearer error=\"invalid_token\", error_description=\"{}\"", reason.description())),
            ),
            Self::InsufficientScope(scope) => (
                "insufficient_scope",
                format!("this request needs the scope `{scope}`"),
                Some(format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"")),
            ),
            Self::Forbidden(why) => ("forbidden", (*why).to_owned(), None),
            Self::Misconfigured => {
                log::error!("a route needs authentication but the app registered no Verifier");
                ("internal_error", "an internal error occurred".to_owned(), None)
            }
        };
        let mut builder = error_response_builder(status);
        if let Some(challenge) = challenge {
            builder.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        builder.json(ErrorBody { error: code.to_owned(), error_description: description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn parts(err: &AuthError) -> (StatusCode, Option<String>, ErrorBody) {
        let response = err.error_response();
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body = response.into_body().try_into_bytes().unwrap();
        (status, challenge, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn each_auth_error_maps_to_its_status_challenge_and_code() {
        let cases = [
            (AuthError::Missing, 401, Some("Bearer"), "unauthorized"),
            (AuthError::InvalidRequest("two tokens"), 400, Some("Bearer error=\"invalid_request\""), "invalid_request"),
            (AuthError::Rejected(RejectReason::Expired), 401, Some("Bearer error=\"invalid_token\""), "invalid_token"),
            (
                AuthError::InsufficientScope("posts:write"),
                403,
                Some("Bearer error=\"insufficient_scope\", scope=\"posts:write\""),
                "insufficient_scope",
            ),
            (AuthError::Forbidden("people only"), 403, None, "forbidden"),
            (AuthError::Misconfigured, 500, None, "internal_error"),
        ];
        for (err, status, challenge, code) in cases {
            let (got_status, got_challenge, body) = parts(&err);
            assert_eq!(got_status.as_u16(), status, "status of {err:?}");
            match challenge {
                Some(prefix) => assert!(
                    got_challenge.as_deref().unwrap_or_default().starts_with(prefix),
                    "challenge of {err:?}: {got_challenge:?}"
                ),
                None => assert!(got_challenge.is_none(), "{err:?} should carry no challenge"),
            }
            assert_eq!(body.error, code, "code of {err:?}");
            assert!(!body.error_description.is_empty(), "description of {err:?}");
        }
    }

    #[test]
    fn a_missing_token_challenge_carries_no_error_code() {
        let (_, challenge, _) = parts(&AuthError::Missing);
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }
}
