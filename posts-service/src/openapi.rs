//! The OpenAPI 3.1 document of every route (generated from the handlers' annotations),
//! served at `/openapi.json`, and the interactive page at `/docs`, served from the binary
//! with no request to any other host.

use actix_web::{HttpResponse, web};
use auth_common::error::ErrorBody;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::routes::{health, posts, public};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "posts-service",
        description = "Stores posts. Verifies every access token locally against users-service's JWKS and \
                       fills posts with their authors in one call per page, passing the caller's token on. \
                       Errors are always `{\"error\", \"error_description\"}`."
    ),
    paths(
        posts::create_post,
        posts::list_posts,
        posts::get_post,
        posts::update_post,
        posts::delete_post,
        public::list_public_posts,
        health::live,
        health::ready,
        auth_common::observability::metrics::serve,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "posts", description = "Posts, for bearers of a posts:* scope"),
        (name = "public", description = "The anonymous feed"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an RS256 access token from users-service; the scopes a route lists are the
/// `scope` values it needs.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".to_owned());
        bearer.description = Some("RS256 access token (typ at+jwt) issued by users-service".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// Registers `/openapi.json`, `/docs/` and a redirect from `/docs`.
pub fn configure_docs(cfg: &mut web::ServiceConfig) {
    // validator_url "none": Swagger UI would otherwise send the document to an outside validator.
    let config = Config::from("/openapi.json").validator_url("none");
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()).config(config)).service(
        web::resource("/docs").route(
            web::get()
                .to(|| async { HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
        ),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use auth_common::testing::{dangling_refs, openapi_operations};

    use super::*;

    fn document() -> serde_json::Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let routed: BTreeSet<(String, String)> =
            crate::routes::table().into_iter().map(|(path, method, _)| (method.to_string(), path.to_owned())).collect();
        assert_eq!(openapi_operations(&document()), routed);
    }

    #[test]
    fn every_reference_resolves_and_protected_routes_document_their_401() {
        let doc = document();
        assert_eq!(dangling_refs(&doc), Vec::<String>::new());
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        for (method, path) in openapi_operations(&doc) {
            let operation = &doc["paths"][&path][method.to_lowercase()];
            let has_401 = operation["responses"].get("401").is_some();
            let secured = operation["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            assert!(!secured || has_401, "{method} {path}: a bearer-protected route must document its 401");
        }
    }
}
