//! The errors of bearer-token authentication (RFC 6750 §3), and the response each one
//! becomes: the status, the `WWW-Authenticate` challenge and the shared JSON error body.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

use crate::service::errors::{ErrorBody, error_response_builder};
use crate::token::reject_reason::RejectReason;

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
