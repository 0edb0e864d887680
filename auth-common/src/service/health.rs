//! Liveness, the same in both services (readiness differs: each checks its own needs).

use actix_web::HttpResponse;
use serde_json::json;

/// A health answer (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Health {
    /// `ok` or `ready`.
    status: String,
    /// Each check and its state.
    checks: Option<std::collections::BTreeMap<String, String>>,
}

/// `GET /health/live`: 200 while the process serves.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    responses((status = 200, description = "The process serves", body = Health))
)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}
