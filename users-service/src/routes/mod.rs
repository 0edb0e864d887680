//! The routes of users-service, registered in one place for the app and the tests.

mod health;
mod login;
mod oauth;
mod users;
mod well_known;

use actix_web::web;

/// Registers every route. `/users/me` comes before `/users/{id}` so it is not read as an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users").route(web::post().to(users::create_user)).route(web::get().to(users::list_users)),
    )
    .service(web::resource("/users/me").route(web::get().to(users::get_me)))
    .service(web::resource("/users/{id}").route(web::get().to(users::get_user)))
    .service(web::resource("/auth/login").route(web::post().to(login::login)))
    .service(web::resource("/oauth/token").route(web::post().to(oauth::token)))
    .service(web::resource("/oauth/revoke").route(web::post().to(oauth::revoke)))
    .service(web::resource("/.well-known/jwks.json").route(web::get().to(well_known::jwks)))
    .service(web::resource("/.well-known/oauth-authorization-server").route(web::get().to(well_known::discovery)))
    .service(web::resource("/.well-known/openid-configuration").route(web::get().to(well_known::discovery)))
    .service(web::resource("/public-key").route(web::get().to(well_known::public_key)))
    .service(web::resource("/health/live").route(web::get().to(health::live)))
    .service(web::resource("/health/ready").route(web::get().to(health::ready)))
    .service(web::resource("/metrics").route(web::get().to(auth_common::observability::metrics::serve)));
}
