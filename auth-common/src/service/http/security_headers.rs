//! Headers every response carries.

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;

/// Headers every response carries: no MIME sniffing of our JSON.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}
