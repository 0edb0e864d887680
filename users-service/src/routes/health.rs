//! Readiness (liveness is shared: `auth_common::service::health`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_common::service::errors::{ErrorBody, error_response_builder};
use serde_json::json;

use crate::state::AppState;

/// 200 when the database answers; 503 with the reason otherwise.
#[utoipa::path(
    get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = auth_common::service::health::Health),
        (status = 503, description = "Not ready: error, error_description and the checks", body = ErrorBody),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match auth_common::service::db::ping(&state.pool).await {
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
