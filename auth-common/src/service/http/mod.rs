//! The HTTP plumbing both services wrap their routes in, one job a module.
//!
//! - [`extractor_configs`]: malformed bodies, queries and paths answered in the JSON error shape.
//! - [`json_errors`]: actix's own error responses (404, 405, …) rewritten into that shape.
//! - [`security_headers`]: headers every response carries.
//! - [`routes`]: registering a route table, so a known path with another method answers 405.

pub mod extractor_configs;
pub mod json_errors;
pub mod routes;
pub mod security_headers;
