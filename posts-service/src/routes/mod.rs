//! The routes of posts-service, registered in one place for the app and the tests.

mod health;
mod posts;
mod public;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/posts").route(web::post().to(posts::create_post)).route(web::get().to(posts::list_posts)),
    )
    .service(
        web::resource("/posts/{id}")
            .route(web::get().to(posts::get_post))
            .route(web::put().to(posts::update_post))
            .route(web::delete().to(posts::delete_post)),
    )
    .service(web::resource("/public/posts").route(web::get().to(public::list_public_posts)))
    .service(web::resource("/health/live").route(web::get().to(health::live)))
    .service(web::resource("/health/ready").route(web::get().to(health::ready)))
    .service(web::resource("/metrics").route(web::get().to(auth_common::observability::metrics::serve)));
}
