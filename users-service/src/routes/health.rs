//! Liveness and readiness.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_common::error::{ErrorBody, error_response_builder};
use serde_json::json;

use crate::state::AppState;

/// A health answer (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Health {
    /// `ok`, `ready`.
    status: String,
    /// Each check and its state.
    checks: Option<std::collections::BTreeMap<String, String>>,
}

/// 200 while the process serves.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers; 503 with the reason otherwise.
#[utoipa::path(
    get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready: error, error_description and the checks", body = ErrorBody),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match auth_common::db::ping(&state.pool).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready", "checks": {"database": "ok"}})),
        Err(reason) => {
            log::warn!("not ready: database: {reason}");
            error_response_builder(StatusCode::SERVICE_UNAVAILABLE).json(json!({
                "error": "not_ready",
                "error_description": "the database does not answer",
                "checks": {"database": "unavailable"},
            }))
        }
    }
}
