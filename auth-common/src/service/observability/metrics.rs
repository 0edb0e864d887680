//! The metric families of the contract, in a registry per application (so two apps in
//! one test process never mix their counts), rendered by the `prometheus` crate.

use std::time::Duration;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

use crate::token::reject_reason::RejectReason;

/// The metrics of one service.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    tokens_issued: IntCounterVec,
    tokens_rejected: IntCounterVec,
    jwks_fetches: IntCounterVec,
    users_service_calls: IntCounterVec,
}

impl Metrics {
    /// A fresh registry holding every family.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let vec = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(vec.clone()))?;
            Ok(vec)
        };
        let requests =
            counter("http_requests_total", "HTTP requests served, by route pattern", &["method", "route", "status"])?;
        let tokens_issued = counter("tokens_issued_total", "Access tokens issued, by grant", &["grant"])?;
        let tokens_rejected = counter("tokens_rejected_total", "Bearer tokens refused, by reason", &["reason"])?;
        let jwks_fetches = counter("jwks_fetches_total", "JWKS fetches, by result", &["result"])?;
        let users_service_calls =
            counter("users_service_calls_total", "Calls to users-service, by result", &["result"])?;
        let duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency, by route pattern")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(duration.clone()))?;
        // Every reason's series exists from the start, at 0, so a dashboard sees it before it happens.
        for reason in RejectReason::labels() {
            tokens_rejected.with_label_values(&[reason]);
        }
        Ok(Self { registry, requests, duration, tokens_issued, tokens_rejected, jwks_fetches, users_service_calls })
    }

    /// One request served.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(elapsed.as_secs_f64());
    }

    /// One access token issued by `grant` (`login`, `refresh_token`, `client_credentials`).
    pub fn token_issued(&self, grant: &str) {
        self.tokens_issued.with_label_values(&[grant]).inc();
    }

    /// One bearer token refused (or missing).
    pub fn token_rejected(&self, reason: &str) {
        self.tokens_rejected.with_label_values(&[reason]).inc();
    }

    /// One JWKS fetch (`success` or `failure`).
    pub fn jwks_fetch(&self, result: &str) {
        self.jwks_fetches.with_label_values(&[result]).inc();
    }

    /// One call to users-service (`success`, `timeout`, `unreachable`, `error_status`, `invalid`).
    pub fn users_service_call(&self, result: &str) {
        self.users_service_calls.with_label_values(&[result]).inc();
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// `GET /metrics`: the app's metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String))
)]
pub async fn serve(metrics: actix_web::web::Data<Metrics>) -> actix_web::HttpResponse {
    match metrics.render() {
        Ok(text) => actix_web::HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text),
        Err(e) => {
            log::error!("rendering metrics: {e}");
            crate::service::errors::error_response(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "an internal error occurred",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_their_labels() {
        let metrics = Metrics::new().unwrap();
        metrics.observe_request("GET", "/posts/{id}", 200, Duration::from_millis(3));
        metrics.token_issued("login");
        metrics.token_rejected("expired");
        let text = metrics.render().unwrap();
        assert!(text.contains(r#"http_requests_total{method="GET",route="/posts/{id}",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"tokens_issued_total{grant="login"} 1"#), "{text}");
        assert!(text.contains(r#"tokens_rejected_total{reason="expired"} 1"#), "{text}");
        assert!(text.contains(r#"tokens_rejected_total{reason="wrong_audience"} 0"#), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    }
}
