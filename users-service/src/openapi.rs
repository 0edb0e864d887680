//! The OpenAPI 3.1 document of every route (generated from the handlers' annotations),
//! served at `/openapi.json`, and the interactive page at `/docs`, served from the binary
//! with no request to any other host.

use actix_web::{HttpResponse, web};
use auth_common::error::ErrorBody;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::routes::{health, login, oauth, users, well_known};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "users-service",
        description = "Registers and logs in users, issues RS256 access tokens and rotating refresh tokens, \
                       and publishes its public keys. Errors are always `{\"error\", \"error_description\"}`."
    ),
    paths(
        users::create_user,
        users::list_users,
        users::get_me,
        users::get_user,
        login::login,
        oauth::token,
        oauth::revoke,
        well_known::jwks,
        well_known::authorization_server,
        well_known::openid_configuration,
        well_known::public_key,
        health::live,
        health::ready,
        auth_common::observability::metrics::serve,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "users", description = "Registration and user lookups"),
        (name = "tokens", description = "Login, the OAuth 2.0 token and revocation endpoints"),
        (name = "keys", description = "Public keys and discovery"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an RS256 access token in `Authorization: Bearer`; the scopes a route lists are
/// the `scope` values it needs. `client_basic`: a service account's id and secret.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".to_owned());
        bearer.description = Some("RS256 access token (typ at+jwt) from /auth/login or /oauth/token".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme("client_basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
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
