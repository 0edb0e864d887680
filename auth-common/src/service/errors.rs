//! The one error shape both services answer with, `{"error", "error_description"}`
//! (RFC 6749 §5.2), and the responses built in it: a client problem, a 503 for a
//! database out of reach, a generic 500. Token refusals have their own errors on the
//! token side ([`crate::token::auth_error`]), answered in this same shape.

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
