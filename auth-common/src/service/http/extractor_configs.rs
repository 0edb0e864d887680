//! The extractor configurations that answer malformed input in the shared JSON shape.
//!
//! actix answers a body, query or path it cannot extract with its own plain-text errors;
//! registered as app data, these answer with `{"error", "error_description"}` instead,
//! and never quote what the client sent.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::web;

use crate::service::errors::HttpProblem;

/// JSON bodies: `limit` bytes at most; syntax errors 400, shape errors 422, too large 413,
/// not `application/json` 415.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _| json_problem(&err).into())
}

fn json_problem(err: &JsonPayloadError) -> HttpProblem {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => HttpProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => HttpProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            HttpProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", describe_serde_error(&e.to_string()))
        }
        JsonPayloadError::Deserialize(e) => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()),
        ),
        _ => HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", "the body could not be read"),
    }
}

/// serde's messages about missing or unknown fields help a client; the others
/// ("invalid type: string \"hunter2\"") may quote what was sent, which can be a password.
fn describe_serde_error(message: &str) -> String {
    let field_message = message.starts_with("missing field") || message.starts_with("unknown field");
    match message.split(" at line ").next() {
        Some(head) if field_message => format!("the body does not have the expected fields: {head}"),
        _ => "a field of the body has the wrong type; see the API documentation".to_owned(),
    }
}

/// Form bodies (the OAuth endpoints): every failure is RFC 6749's `invalid_request`,
/// except an oversize body (413).
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default().limit(limit).error_handler(|err, _| form_problem(&err).into())
}

fn form_problem(err: &UrlencodedError) -> HttpProblem {
    match err {
        UrlencodedError::Overflow { limit, .. } => HttpProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        UrlencodedError::ContentType => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the parameters form-encoded (`Content-Type: application/x-www-form-urlencoded`)",
        ),
        _ => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the form body is malformed or lacks a parameter",
        ),
    }
}

/// Query strings: a 400 that says which parameter is wrong.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let QueryPayloadError::Deserialize(e) = &err else {
            return HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", "the query string is malformed")
                .into();
        };
        HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", format!("the query string is invalid: {e}")).into()
    })
}

/// Path parameters: an id that cannot exist (`/users/abc`) is simply not found.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_: PathError, _| {
        HttpProblem::new(StatusCode::NOT_FOUND, "not_found", "no such resource").into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_that_may_quote_input_are_replaced() {
        let quoting = "invalid type: integer `123456789`, expected a string at line 1 column 30";
        assert!(!describe_serde_error(quoting).contains("123456789"));
        let missing = "missing field `password` at line 1 column 20";
        assert_eq!(
            describe_serde_error(missing),
            "the body does not have the expected fields: missing field `password`"
        );
    }
}
