//! Serving a service's OpenAPI document and its interactive page, and the parts of the
//! document both services share.

use actix_web::http::header;
use actix_web::web;

/// Registers `/openapi.json` (the document) and the interactive page at `/docs/`, with a
/// redirect from `/docs`. The page is Swagger UI vendored into the binary; its validator
/// is off, since it would send the document to an outside host. The page loads the
/// document by a relative URL, so that it works under a gateway's prefix too:
/// `/users-service/docs/` loads `/users-service/openapi.json`.
pub fn register_docs(cfg: &mut web::ServiceConfig, openapi: utoipa::openapi::OpenApi) {
    let config = utoipa_swagger_ui::Config::from("../openapi.json").validator_url("none");
    cfg.service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi).config(config))
        .service(web::resource("/docs").route(web::get().to(|| async {
            actix_web::HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
        })));
}

/// Adds the `bearer` security scheme (an RS256 JWT in `Authorization: Bearer`) to a
/// document; routes name it with the scopes they need.
pub fn add_bearer_scheme(openapi: &mut utoipa::openapi::OpenApi, description: &str) {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.bearer_format = Some("JWT".to_owned());
    bearer.description = Some(description.to_owned());
    openapi.components.get_or_insert_with(Default::default).add_security_scheme("bearer", SecurityScheme::Http(bearer));
}
