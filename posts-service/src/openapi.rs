//! The OpenAPI 3.1 document of every route (generated from the handlers' annotations),
//! served at `/openapi.json`, and the interactive page at `/docs`, served from the binary
//! with no request to any other host.

use auth_common::service::errors::ErrorBody;
use auth_common::service::openapi::SecuritySchemes;
use utoipa::OpenApi;

use crate::routes::{posts, public};

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
    ),
    components(schemas(ErrorBody)),
    modifiers(&SECURITY_SCHEMES),
    tags(
        (name = "posts", description = "Posts, for bearers of a posts:* scope"),
        (name = "public", description = "The anonymous feed"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an RS256 access token from users-service; the scopes a route lists are the
/// `scope` values it needs.
static SECURITY_SCHEMES: SecuritySchemes = SecuritySchemes {
    bearer_description: "RS256 access token (typ at+jwt) issued by users-service",
    client_basic: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        auth_common::testing::assert_documents_routes(crate::routes::table(), ApiDoc::openapi());
    }
}
