//! The routes of posts-service.
//!
//! [`table`] lists every route of this service once: path, method, handler. [`configure`]
//! registers them grouped by path (so a known path with another method answers 405),
//! with the routes every service has (`auth_common::service::operations`: health,
//! metrics), and a test compares the whole table with the OpenAPI document: a route
//! cannot be added without documentation.

pub mod posts;
pub mod public;

use actix_web::http::Method;
use actix_web::web;
use auth_common::service::http::routes::{RouteTable, get_or_head};

/// Every route: path, method, handler; the reads answer HEAD too.
pub fn table() -> RouteTable {
    vec![
        ("/posts", Method::POST, web::post().to(posts::create_post)),
        ("/posts", Method::GET, get_or_head().to(posts::list_posts)),
        ("/posts/{id}", Method::GET, get_or_head().to(posts::get_post)),
        ("/posts/{id}", Method::PUT, web::put().to(posts::update_post)),
        ("/posts/{id}", Method::DELETE, web::delete().to(posts::delete_post)),
        ("/public/posts", Method::GET, get_or_head().to(public::list_public_posts)),
    ]
}

/// Registers every route of [`table`] and the operations routes, then `/openapi.json`
/// and the `/docs` page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    auth_common::service::http::routes::register_api(
        cfg,
        table(),
        <crate::openapi::ApiDoc as utoipa::OpenApi>::openapi(),
    );
}
