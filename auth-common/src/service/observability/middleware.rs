//! One middleware per app, outermost: it gives the request its id (in the task-local, the
//! request extensions and the response header), then, once the response is ready, writes
//! the access log line and records the request's metrics by route *pattern*
//! (`/posts/{id}`, never the raw path).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

use super::metrics::Metrics;
use super::request_id::{HEADER, RequestId};
use crate::token::extractor::{CallerSubject, TokenRejected};

/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// The middleware; wrap it with `actix_web::middleware::from_fn(observe)`. It reads the
/// app's `web::Data<Metrics>`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::parse)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let started = Instant::now();
    let mut response = id.clone().scope(next.call(req)).await?;
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    let request = response.request();
    let route = request.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let status = response.status().as_u16();
    let subject = request.extensions().get::<CallerSubject>().map(|s| s.0.clone());
    let rejected = request.extensions().get::<TokenRejected>().map(|r| r.0);
    if let Some(metrics) = &metrics {
        metrics.observe_request(&method, &route, status, elapsed);
        if let Some(reason) = rejected {
            metrics.token_rejected(reason);
        }
    }
    id.sync_scope(|| {
        log::info!(
            target: "access",
            "{method} {route} {status} {:.1}ms sub={}{}",
            elapsed.as_secs_f64() * 1000.0,
            subject.as_deref().unwrap_or("-"),
            rejected.map(|r| format!(" token_refused={r}")).unwrap_or_default(),
        );
    });
    Ok(response)
}
