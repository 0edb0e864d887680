//! Registering a service's route table.

use actix_web::web;

/// Registers a route table (path, method, handler) grouped by path, so a known path asked
/// with another method answers 405, not 404. Services list their routes once, in a table
/// a test also compares with their OpenAPI document.
pub fn register_routes(
    cfg: &mut web::ServiceConfig,
    table: Vec<(&'static str, actix_web::http::Method, actix_web::Route)>,
) {
    let mut resources: Vec<(&str, Vec<actix_web::Route>)> = Vec::new();
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
