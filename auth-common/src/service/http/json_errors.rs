//! The middleware that keeps every error response in the shared JSON shape.
//!
//! actix answers unknown routes (404), wrong methods (405) and some malformed requests
//! with its own plain-text or empty bodies; [`json_errors`] rewrites those.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};

use crate::service::errors::error_response;

/// Replaces any error response that has no JSON body (actix's own 404, 405, 400…) with
/// one in the shared shape. Responses that are JSON already, or an HTML page, pass
/// untouched.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        // JSON is the shape already; HTML is a page of ours (users-service's sign-in) that
        // explains the error to a person in a browser.
        let ours = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
        if ours {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (code, description) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route; see /openapi.json for the API"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not accept that method"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request is too large"),
            s if s.is_server_error() => ("internal_error", "an internal error occurred"),
            _ => ("invalid_request", "the request could not be processed"),
        };
        let (req, old) = res.into_parts();
        let mut response = error_response(status, code, description);
        // Keep headers such as `Allow` and `WWW-Authenticate`.
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
        let response: actix_web::HttpResponse<BoxBody> = response;
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
    })
}
