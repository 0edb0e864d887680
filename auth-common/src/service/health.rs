//! `GET /health/live` and `GET /health/ready`, the same handlers in both services.
//!
//! Liveness is the process answering. Readiness runs the service's [`Readiness`] checks
//! (the database, and for posts-service the first JWKS) and names each one's state, so an
//! operator reading a 503 sees which dependency is missing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::service::errors::{ErrorBody, error_response_builder};

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

/// What a service must have before it takes traffic, checked in order on every
/// `GET /health/ready`.
#[derive(Default)]
pub struct Readiness {
    checks: Vec<Check>,
    /// Set on `SIGTERM`: the instance is leaving, whatever its checks say.
    draining: std::sync::atomic::AtomicBool,
}

/// One readiness check: its name in `checks`, how it is probed, and what a failure says.
struct Check {
    name: &'static str,
    /// Its state in `checks` when it fails (`unavailable`, `not_loaded`).
    failed_state: &'static str,
    /// Its part of the 503's `error_description`.
    failure: &'static str,
    probe: Probe,
}

enum Probe {
    /// A trivial query; a failure is logged with the database's reason.
    #[cfg(feature = "db")]
    Database(crate::service::db::DbPool),
    /// A state the service keeps (such as "the JWKS is loaded"), read without I/O.
    Flag(Box<dyn Fn() -> bool + Send + Sync>),
}

impl Readiness {
    /// From now on `/health/ready` answers 503 (`shutdown: draining`): the server is
    /// about to stop, and a load balancer should send its requests elsewhere.
    pub fn start_draining(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds the database check: `database` is `ok` when it answers a trivial query,
    /// `unavailable` otherwise.
    #[cfg(feature = "db")]
    pub fn database(mut self, pool: crate::service::db::DbPool) -> Self {
        self.checks.push(Check {
            name: "database",
            failed_state: "unavailable",
            failure: "the database does not answer",
            probe: Probe::Database(pool),
        });
        self
    }

    /// Adds a check of a state the service keeps: `name` is `ok` while `is_ready` says
    /// so, `failed_state` otherwise, and the 503 then says `failure`.
    pub fn flag(
        mut self,
        name: &'static str,
        failed_state: &'static str,
        failure: &'static str,
        is_ready: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        self.checks.push(Check { name, failed_state, failure, probe: Probe::Flag(Box::new(is_ready)) });
        self
    }
}

impl Check {
    async fn passes(&self) -> bool {
        match &self.probe {
            #[cfg(feature = "db")]
            Probe::Database(pool) => match crate::service::db::ping(pool).await {
                Ok(()) => true,
                Err(reason) => {
                    log::warn!("not ready: {}: {reason}", self.name);
                    false
                }
            },
            Probe::Flag(is_ready) => is_ready(),
        }
    }
}

/// 200 when every check passes; 503 naming the failing ones.
#[utoipa::path(
    get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready: which check failed, in error_description and checks", body = ErrorBody),
    )
)]
pub async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let mut checks = serde_json::Map::new();
    let mut failing = Vec::new();
    if readiness.draining.load(std::sync::atomic::Ordering::Relaxed) {
        checks.insert("shutdown".to_owned(), "draining".into());
        failing.push("the instance is shutting down");
    }
    for check in &readiness.checks {
        let passes = check.passes().await;
        checks.insert(check.name.to_owned(), (if passes { "ok" } else { check.failed_state }).into());
        if !passes {
            failing.push(check.failure);
        }
    }
    if failing.is_empty() {
        return HttpResponse::Ok().json(json!({"status": "ready", "checks": checks}));
    }
    error_response_builder(StatusCode::SERVICE_UNAVAILABLE).json(json!({
        "error": "not_ready",
        "error_description": failing.join("; "),
        "checks": checks,
    }))
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    async fn answer(readiness: Readiness) -> (u16, serde_json::Value) {
        let response = ready(web::Data::new(readiness)).await;
        let status = response.status().as_u16();
        (status, serde_json::from_slice(&response.into_body().try_into_bytes().unwrap()).unwrap())
    }

    #[actix_web::test]
    async fn every_failing_check_is_named_in_the_503_and_the_passing_ones_stay_ok() {
        let readiness = Readiness::default()
            .flag("first", "down", "the first is down", || false)
            .flag("second", "missing", "the second is missing", || true)
            .flag("third", "late", "the third is late", || false);
        let (status, body) = answer(readiness).await;
        assert_eq!(status, 503);
        assert_eq!(body["error"], "not_ready");
        assert_eq!(body["error_description"], "the first is down; the third is late");
        assert_eq!(body["checks"], json!({"first": "down", "second": "ok", "third": "late"}));
    }

    #[actix_web::test]
    async fn all_checks_passing_is_ready() {
        let (status, body) = answer(Readiness::default().flag("only", "down", "down", || true)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "ready", "checks": {"only": "ok"}}));
    }

    #[actix_web::test]
    async fn a_draining_instance_is_not_ready_whatever_its_checks_say() {
        let readiness = Readiness::default().flag("only", "down", "down", || true);
        readiness.start_draining();
        let (status, body) = answer(readiness).await;
        assert_eq!(status, 503);
        assert_eq!(body["checks"], json!({"shutdown": "draining", "only": "ok"}));
        assert_eq!(body["error_description"], "the instance is shutting down");
    }
}
