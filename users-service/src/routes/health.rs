//! Liveness and readiness.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_common::error::error_response_builder;
use serde_json::json;

use crate::state::AppState;

/// 200 while the process serves.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers; 503 with the reason otherwise.
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
