//! The routes every service has beside its own: `/health/live`, `/health/ready` and
//! `/metrics`, with their part of the OpenAPI document (tag `operations`). A service
//! lists only its own routes and documents only its own paths;
//! [`register_api`](crate::service::http::routes::register_api) adds these to both.

use actix_web::http::Method;
use utoipa::OpenApi;

use crate::service::health;
use crate::service::http::routes::{RouteTable, get_or_head};
use crate::service::observability::metrics;

/// The operations routes: path, method, handler.
pub fn routes() -> RouteTable {
    vec![
        ("/health/live", Method::GET, get_or_head().to(health::live)),
        ("/health/ready", Method::GET, get_or_head().to(health::ready)),
        ("/metrics", Method::GET, get_or_head().to(metrics::serve)),
    ]
}

/// The operations routes' part of a service's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(health::live, health::ready, metrics::serve),
    tags((name = "operations", description = "Health and metrics"))
)]
pub struct OperationsDoc;

/// A service's whole API: its own `table` and document `doc`, with the operations routes
/// added to the one and their documentation merged into the other.
pub fn with_operations(
    mut table: RouteTable,
    mut doc: utoipa::openapi::OpenApi,
) -> (RouteTable, utoipa::openapi::OpenApi) {
    table.extend(routes());
    doc.merge(OperationsDoc::openapi());
    (table, doc)
}
