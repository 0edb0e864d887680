//! Liveness.

use actix_web::HttpResponse;
use serde_json::json;

/// 200 while the process serves.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}
