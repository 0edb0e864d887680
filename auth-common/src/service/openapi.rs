//! Serving a service's OpenAPI document and its interactive page, and the parts of the
//! document both services share.

use actix_web::http::header;
use actix_web::web;
use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

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

/// The security schemes of a service's document, as a utoipa modifier: `bearer` (an
/// RS256 JWT in `Authorization: Bearer`), which routes name with the scopes they need,
/// and for a service with a token endpoint `client_basic` (a service account's id and
/// secret). Use it from a `static`: `modifiers(&SECURITY_SCHEMES)`.
#[derive(Debug, Clone, Copy)]
pub struct SecuritySchemes {
    /// What the `bearer` scheme says about the tokens it takes.
    pub bearer_description: &'static str,
    /// Whether to add `client_basic` (HTTP Basic with a client id and secret).
    pub client_basic: bool,
}

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".to_owned());
        bearer.description = Some(self.bearer_description.to_owned());
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        if self.client_basic {
            components.add_security_scheme("client_basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
        }
    }
}
