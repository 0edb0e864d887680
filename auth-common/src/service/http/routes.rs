//! Registering a service's routes: its route table, then its OpenAPI document and the
//! `/docs` page.

use actix_web::http::Method;
use actix_web::{Route, guard, web};

/// Every route of a service: path, method, handler. Services list their routes once, in a
/// table a test also compares with their OpenAPI document.
pub type RouteTable = Vec<(&'static str, Method, Route)>;

/// A route for a safe read: `GET`, and `HEAD` answered by the same handler. RFC 9110
/// §9.3.2 asks a server that answers GET to answer HEAD alike (monitors and caches send
/// it); the HTTP/1 codec sends the headers and `Content-Length` of the GET and drops the
/// body. Not for a GET with effects (the sign-in and sign-out pages): a HEAD that starts a
/// session or ends one would be a surprise.
pub fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// Registers a service's own route `table` and the operations routes (health, metrics;
/// see [`register_routes`]), then `/openapi.json` and the `/docs` page for its own
/// document `openapi` with the operations merged in: what a service's
/// `routes::configure` does.
pub fn register_api(cfg: &mut web::ServiceConfig, table: RouteTable, openapi: utoipa::openapi::OpenApi) {
    let (table, openapi) = crate::service::operations::with_operations(table, openapi);
    register_routes(cfg, table);
    crate::service::openapi::register_docs(cfg, openapi);
}

/// Registers a route table (path, method, handler) grouped by path, so a known path asked
/// with another method answers 405, not 404.
pub fn register_routes(cfg: &mut web::ServiceConfig, table: RouteTable) {
    let mut resources: Vec<(&str, Vec<Route>)> = Vec::new();
    for (path, _, route) in table {
        match resources.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push(route),
            None => resources.push((path, vec![route])),
        }
    }
    for (path, routes) in resources {
        cfg.service(routes.into_iter().fold(web::resource(path), |resource, route| resource.route(route)));
    }
}
