//! The routes of users-service.
//!
//! [`table`] lists every route of this service once: path, method, handler. [`configure`]
//! registers them grouped by path (so a known path with another method answers 405),
//! with the routes every service has (`auth_common::service::operations`: health,
//! metrics), and a test compares the whole table with the OpenAPI document: a route
//! cannot be added without documentation.

pub mod authorize;
pub mod login;
pub mod logout;
pub mod oauth;
pub mod userinfo;
pub mod users;
pub mod well_known;

use actix_web::http::Method;
use actix_web::web;
use auth_common::service::http::routes::{RouteTable, get_or_head};

/// Every route: path, method, handler. `/users/me` comes before `/users/{id}`. The reads
/// answer HEAD too; the sign-in and sign-out pages' GETs have effects, and do not.
pub fn table() -> RouteTable {
    vec![
        ("/users", Method::POST, web::post().to(users::create_user)),
        ("/users", Method::GET, get_or_head().to(users::list_users)),
        ("/users/me", Method::GET, get_or_head().to(users::get_me)),
        ("/users/{id}", Method::GET, get_or_head().to(users::get_user)),
        ("/auth/login", Method::POST, web::post().to(login::login)),
        ("/oauth/authorize", Method::GET, web::get().to(authorize::authorize_page)),
        ("/oauth/authorize", Method::POST, web::post().to(authorize::sign_in)),
        ("/oauth/consent", Method::POST, web::post().to(authorize::consent)),
        ("/oauth/logout", Method::GET, web::get().to(logout::end_session_link)),
        ("/oauth/logout", Method::POST, web::post().to(logout::end_session_form)),
        ("/oauth/token", Method::POST, web::post().to(oauth::token)),
        ("/userinfo", Method::GET, get_or_head().to(userinfo::userinfo)),
        ("/userinfo", Method::POST, web::post().to(userinfo::userinfo_post)),
        ("/oauth/revoke", Method::POST, web::post().to(oauth::revoke)),
        ("/.well-known/jwks.json", Method::GET, get_or_head().to(well_known::jwks)),
        ("/.well-known/oauth-authorization-server", Method::GET, get_or_head().to(well_known::authorization_server)),
        ("/.well-known/openid-configuration", Method::GET, get_or_head().to(well_known::openid_configuration)),
        ("/public-key", Method::GET, get_or_head().to(well_known::public_key)),
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
