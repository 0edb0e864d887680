//! The service side: the plumbing an actix-web service built on these tokens needs,
//! written once for both services.
//!
//! - [`http`]: extractor configurations and middleware that keep every error in the JSON
//!   shape, security headers, route-table registration.
//! - [`errors`]: the JSON error shape both services answer with.
//! - [`cors`]: cross-origin access for configured browser origins.
//! - [`openapi`]: serving the OpenAPI document and the `/docs` page.
//! - [`operations`]: the routes every service has (health, metrics) and their documentation.
//! - [`observability`]: request ids, access logs, Prometheus metrics, log set-up.
//! - [`server`]: the listener, middleware chain, thread sizing and run loop of both services.
//! - [`hangup`]: `SIGHUP` forwarded to the task that reloads.
//! - [`health`]: `/health/live`, and `/health/ready` over each service's own checks.
//! - `cli` (feature `cli`): `serve`, `healthcheck` and the `main` both binaries share.
//! - [`env`](mod@env): reading typed settings from the environment with errors that name the key.
//! - `settings` (feature `db`): the settings both services read, parsed once.
//! - `db` (feature `db`): the database layer both services share.
//! - [`positive_id`]: parsing the positive integer ids requests name.
//! - [`timestamp`]: how timestamps are written in JSON.

#[cfg(feature = "cli")]
pub mod cli;
pub mod cors;
#[cfg(feature = "db")]
pub mod db;
pub mod env;
pub mod errors;
pub mod hangup;
pub mod health;
pub mod http;
pub mod observability;
pub mod openapi;
pub mod operations;
pub mod positive_id;
pub mod server;
#[cfg(feature = "db")]
pub mod settings;
pub mod timestamp;
