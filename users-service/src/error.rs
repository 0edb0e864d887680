//! `ApiError`: every way a users-service request can fail, and the response each becomes.
//!
//! Client errors say what to fix. Internal errors are logged once, here, with their whole
//! chain of causes, and the client gets a generic sentence: no SQL, no library text.

use crate::throttle::Refusal;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_common::service::db::{DbError, QueryError};
use auth_common::service::errors::{
    ErrorBody, error_response, error_response_builder, internal_response, unavailable_response,
};
use auth_common::token::auth_error::AuthError;

/// A result whose error renders as our JSON error shape.
pub type ApiResult<T> = Result<T, ApiError>;

/// Errors of the OAuth endpoints, with RFC 6749 §5.2 codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// Client authentication failed (unknown client, wrong secret, none sent).
    #[error("client authentication failed")]
    InvalidClient,
    /// The refresh token is unknown, spent, revoked, expired or another client's.
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// The client may not use this grant.
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    /// A grant type we do not support.
    #[error("grant_type must be authorization_code, refresh_token or client_credentials")]
    UnsupportedGrantType,
    /// The scope asked for is malformed or beyond what may be granted.
    #[error("{0}")]
    InvalidScope(&'static str),
}

impl OAuthError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
        }
    }
}

/// Every failure of a users-service request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but a value is invalid.
    #[error("{0}")]
    Validation(String),
    /// Login failed. One answer for every bad pair, so nobody learns which names exist.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Bearer authentication or authorization failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An OAuth endpoint refused the request.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// No such resource.
    #[error("{0}")]
    NotFound(&'static str),
    /// The resource exists already.
    #[error("{0}")]
    Conflict(&'static str),
    /// Throttled: too many failures or requests from this address (see `throttle`).
    #[error("too many attempts")]
    TooManyRequests(Refusal),
    /// The database could not be reached in time.
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] DbError),
    /// The credential failure counts could not be read: the attempt is refused rather
    /// than let through unthrottled (see `throttle`). Answered like [`Self::Unavailable`].
    #[error("the credential failure counts are unavailable")]
    CountersUnavailable(#[source] QueryError),
    /// Anything else: a bug or an unexpected failure.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        Self::Unavailable(e)
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        if e.is_not_found() {
            Self::NotFound("no such resource")
        } else if e.is_unique_violation() {
            Self::Conflict("that resource exists already")
        } else {
            // The whole chain (which query, then diesel's message) is logged once, when the
            // response is built; the body says only that something went wrong.
            Self::Internal(anyhow::Error::new(e))
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Auth(e) => e.status_code(),
            Self::OAuth(OAuthError::InvalidClient) => StatusCode::UNAUTHORIZED,
            Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::CountersUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::BadRequest(d) => error_response(status, "invalid_request", d),
            Self::Validation(d) => error_response(status, "invalid_input", d),
            Self::InvalidCredentials => {
                // RFC 9110 §15.5.2: every 401 names a scheme; tokens are how this API authenticates.
                let mut response = error_response(status, "invalid_credentials", "invalid username or password");
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"users-service\""));
                response
            }
            Self::Auth(e) => e.error_response(),
            Self::OAuth(e) => {
                let mut builder = error_response_builder(status);
                builder.insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
                if matches!(e, OAuthError::InvalidClient) {
                    // RFC 6749 §5.2: a 401 names the scheme the client should use.
                    builder.insert_header((
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"users-service\""),
                    ));
                }
                builder.json(ErrorBody { error: e.code().to_owned(), error_description: e.to_string() })
            }
            Self::NotFound(d) => error_response(status, "not_found", d),
            Self::Conflict(d) => error_response(status, "conflict", d),
            Self::TooManyRequests(refusal) => {
                let secs = refusal.retry_after_secs();
                let what = match refusal {
                    Refusal::Account(_) => "too many failed logins for this account from your address",
                    Refusal::Client(_) => "too many failed authentications for this client from your address",
                    Refusal::Address(_) => "too many failed attempts from your address",
                    Refusal::Rate(_) => "too many requests from your address",
                };
                let mut response = error_response(status, "rate_limited", &format!("{what}; retry in {secs} s"));
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            Self::Unavailable(e) => unavailable_response(e),
            Self::CountersUnavailable(e) => unavailable_response(e),
            Self::Internal(e) => internal_response(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn every_variant_maps_to_its_status_and_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::BadRequest("x".into()), 400, "invalid_request"),
            (ApiError::Validation("x".into()), 422, "invalid_input"),
            (ApiError::InvalidCredentials, 401, "invalid_credentials"),
            (ApiError::Auth(AuthError::Missing), 401, "unauthorized"),
            (ApiError::OAuth(OAuthError::InvalidRequest("x")), 400, "invalid_request"),
            (ApiError::OAuth(OAuthError::InvalidClient), 401, "invalid_client"),
            (ApiError::OAuth(OAuthError::InvalidGrant("x")), 400, "invalid_grant"),
            (ApiError::OAuth(OAuthError::UnauthorizedClient("x")), 400, "unauthorized_client"),
            (ApiError::OAuth(OAuthError::UnsupportedGrantType), 400, "unsupported_grant_type"),
            (ApiError::OAuth(OAuthError::InvalidScope("x")), 400, "invalid_scope"),
            (ApiError::NotFound("x"), 404, "not_found"),
            (ApiError::Conflict("x"), 409, "conflict"),
            (ApiError::TooManyRequests(Refusal::Account(std::time::Duration::from_secs(30))), 429, "rate_limited"),
            (ApiError::Unavailable(DbError::Cancelled), 503, "unavailable"),
            (
                ApiError::CountersUnavailable(QueryError {
                    query: "reading credential failures",
                    source: diesel::result::Error::BrokenTransactionManager,
                }),
                503,
                "unavailable",
            ),
            (ApiError::Internal(anyhow::anyhow!("SELECT secret FROM t")), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            let name = format!("{err:?}");
            let response = err.error_response();
            assert_eq!(response.status().as_u16(), status, "{name}");
            assert_eq!(response.headers().get(header::CACHE_CONTROL).unwrap(), "no-store", "{name}");
            let body: ErrorBody = serde_json::from_slice(&response.into_body().try_into_bytes().unwrap()).unwrap();
            assert_eq!(body.error, code, "{name}");
            assert!(!body.error_description.contains("SELECT"), "{name} leaks internals");
        }
    }

    #[test]
    fn a_failed_query_maps_to_404_409_or_a_generic_500() {
        let failed = |source| ApiError::from(QueryError { query: "inserting a user", source });
        let taken = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key value: (alice)".to_owned()),
        );
        let broken = diesel::result::Error::QueryBuilderError("SELECT secret FROM users".into());
        for (err, status) in
            [(failed(diesel::result::Error::NotFound), 404), (failed(taken), 409), (failed(broken), 500)]
        {
            let response = err.error_response();
            assert_eq!(response.status().as_u16(), status);
            let body = String::from_utf8_lossy(&response.into_body().try_into_bytes().unwrap()).into_owned();
            assert!(!body.contains("SELECT") && !body.contains("alice"), "the body leaks the query: {body}");
        }
    }

    #[test]
    fn invalid_client_names_the_basic_scheme() {
        let response = ApiError::OAuth(OAuthError::InvalidClient).error_response();
        assert!(response.headers().get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap().starts_with("Basic"));
    }
}
