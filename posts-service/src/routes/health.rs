//! Readiness (liveness is shared: `auth_common::service::health`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_common::service::errors::{ErrorBody, error_response_builder};
use serde_json::json;

use crate::state::AppState;

/// 200 when the database answers and the JWKS is loaded; 503 naming what is not ready.
#[utoipa::path(
    get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = auth_common::service::health::Health),
        (status = 503, description = "Not ready: which check failed, in error_description and checks", body = ErrorBody),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = auth_common::service::db::ping(&state.pool).await;
    let jwks_loaded = state.jwks.is_loaded();
    let checks = json!({
        "database": if database.is_ok() { "ok" } else { "unavailable" },
        "jwks": if jwks_loaded { "ok" } else { "not_loaded" },
    });
    if database.is_ok() && jwks_loaded {
        return HttpResponse::Ok().json(json!({"status": "ready", "checks": checks}));
    }
    let mut failing = Vec::new();
    if let Err(reason) = database {
        log::warn!("not ready: database: {reason}");
        failing.push("the database does not answer");
    }
    if !jwks_loaded {
        failing.push("the JWKS has not been loaded from users-service yet");
    }
    error_response_builder(StatusCode::SERVICE_UNAVAILABLE).json(json!({
        "error": "not_ready",
        "error_description": failing.join("; "),
        "checks": checks,
    }))
}
