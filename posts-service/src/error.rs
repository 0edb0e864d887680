//! `ApiError`: every way a posts-service request can fail, and the response each becomes.
//! Internal errors are logged once, here; the client gets a generic sentence.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use auth_common::service::db::{DbError, QueryError};
use auth_common::service::errors::{error_response, internal_response, unavailable_response};
use auth_common::token::auth_error::AuthError;

/// A result whose error renders as our JSON error shape.
pub type ApiResult<T> = Result<T, ApiError>;

/// Every failure of a posts-service request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (a bad cursor, `limit` out of range).
    #[error("{0}")]
    BadRequest(String),
    /// The body is well-formed but a value is invalid.
    #[error("{0}")]
    Validation(String),
    /// Bearer authentication or authorization failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The caller may not touch this post.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such post.
    #[error("{0}")]
    NotFound(&'static str),
    /// The database could not be reached in time.
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] DbError),
    /// Anything else.
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
            Self::NotFound("no such post")
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
            Self::Auth(e) => e.status_code(),
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::BadRequest(d) => error_response(status, "invalid_request", d),
            Self::Validation(d) => error_response(status, "invalid_input", d),
            Self::Auth(e) => e.error_response(),
            Self::Forbidden(d) => error_response(status, "forbidden", d),
            Self::NotFound(d) => error_response(status, "not_found", d),
            Self::Unavailable(e) => unavailable_response(e),
            Self::Internal(e) => internal_response(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use auth_common::service::errors::ErrorBody;

    use super::*;

    #[test]
    fn every_variant_maps_to_its_status_and_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::BadRequest("x".into()), 400, "invalid_request"),
            (ApiError::Validation("x".into()), 422, "invalid_input"),
            (ApiError::Auth(AuthError::InsufficientScope("posts:write")), 403, "insufficient_scope"),
            (ApiError::Forbidden("x"), 403, "forbidden"),
            (ApiError::NotFound("x"), 404, "not_found"),
            (ApiError::Unavailable(DbError::Cancelled), 503, "unavailable"),
            (ApiError::Internal(anyhow::anyhow!("SELECT * FROM posts")), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            let name = format!("{err:?}");
            let response = err.error_response();
            assert_eq!(response.status().as_u16(), status, "{name}");
            let body: ErrorBody = serde_json::from_slice(&response.into_body().try_into_bytes().unwrap()).unwrap();
            assert_eq!(body.error, code, "{name}");
            assert!(!body.error_description.contains("SELECT"), "{name} leaks internals");
        }
    }

    #[test]
    fn a_failed_query_is_a_404_when_nothing_was_found_and_otherwise_a_generic_500() {
        let failed = |source| ApiError::from(QueryError { query: "loading a post by id", source });
        let broken = diesel::result::Error::QueryBuilderError("SELECT secret FROM posts".into());
        for (err, status) in [(failed(diesel::result::Error::NotFound), 404), (failed(broken), 500)] {
            let response = err.error_response();
            assert_eq!(response.status().as_u16(), status);
            let body = response.into_body().try_into_bytes().unwrap();
            assert!(!String::from_utf8_lossy(&body).contains("SELECT"), "the body leaks the query");
        }
    }
}
