//! What an operator sees: a request id on every request and every log line, an access
//! log, and Prometheus metrics.
//!
//! - [`request_id`]: the id of the request being served, readable anywhere in its task.
//! - [`metrics`]: the metric families both services expose at `/metrics`.
//! - [`middleware`]: the actix middleware that ties them together.
//! - [`logging`]: the env_logger set-up whose lines carry the request id.

pub mod logging;
pub mod metrics;
pub mod middleware;
pub mod request_id;
