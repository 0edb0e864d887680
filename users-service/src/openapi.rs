//! The OpenAPI 3.1 document of every route (generated from the handlers' annotations),
//! served at `/openapi.json`, and the interactive page at `/docs`, served from the binary
//! with no request to any other host.

use auth_common::service::errors::ErrorBody;
use auth_common::service::openapi::SecuritySchemes;
use utoipa::OpenApi;

use crate::routes::{authorize, login, logout, oauth, userinfo, users, well_known};

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
        authorize::authorize_page,
        authorize::sign_in,
        authorize::consent,
        logout::end_session_link,
        logout::end_session_form,
        oauth::token,
        oauth::revoke,
        userinfo::userinfo,
        userinfo::userinfo_post,
        well_known::jwks,
        well_known::authorization_server,
        well_known::openid_configuration,
        well_known::public_key,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SECURITY_SCHEMES),
    tags(
        (name = "users", description = "Registration and user lookups"),
        (name = "tokens", description = "Login, the OAuth 2.0 token and revocation endpoints"),
        (name = "keys", description = "Public keys and discovery"),
        (name = "sign-in", description = "The authorization code grant's sign-in page (HTML, for browsers)"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an RS256 access token in `Authorization: Bearer`; the scopes a route lists are
/// the `scope` values it needs. `client_basic`: a service account's id and secret.
static SECURITY_SCHEMES: SecuritySchemes = SecuritySchemes {
    bearer_description: "RS256 access token (typ at+jwt) from /auth/login or /oauth/token",
    client_basic: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        auth_common::testing::assert_documents_routes(crate::routes::table(), ApiDoc::openapi());
    }
}
