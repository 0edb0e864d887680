//! Keeps every error a client can provoke in the shared JSON shape.
//!
//! actix answers malformed bodies, queries and paths, unknown routes (404) and wrong
//! methods (405) with its own plain-text or empty bodies. The extractor configurations
//! here and [`json_errors`] turn all of those into `{"error", "error_description"}`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::web;

use crate::error::{HttpProblem, error_response};

/// JSON bodies: `limit` bytes at most; syntax errors 400, shape errors 422, too large 413,
/// not `application/json` 415.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _| json_problem(&err).into())
}

fn json_problem(err: &JsonPayloadError) -> HttpProblem {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => HttpProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => HttpProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            HttpProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", describe_serde_error(&e.to_string()))
        }
        JsonPayloadError::Deserialize(e) => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()),
        ),
        _ => HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", "the body could not be read"),
    }
}

/// serde's messages about missing or unknown fields help a client; the others
/// ("invalid type: string \"hunter2\"") may quote what was sent, which can be a password.
fn describe_serde_error(message: &str) -> String {
    let field_message = message.starts_with("missing field") || message.starts_with("unknown field");
    match message.split(" at line ").next() {
        Some(head) if field_message => format!("the body does not have the expected fields: {head}"),
        _ => "a field of the body has the wrong type; see the API documentation".to_owned(),
    }
}

/// Form bodies (the OAuth endpoints): every failure is RFC 6749's `invalid_request`,
/// except an oversize body (413).
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default().limit(limit).error_handler(|err, _| form_problem(&err).into())
}

fn form_problem(err: &UrlencodedError) -> HttpProblem {
    match err {
        UrlencodedError::Overflow { limit, .. } => HttpProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        UrlencodedError::ContentType => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the parameters form-encoded (`Content-Type: application/x-www-form-urlencoded`)",
        ),
        _ => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the form body is malformed or lacks a parameter",
        ),
    }
}

/// Query strings: a 400 that says which parameter is wrong.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let QueryPayloadError::Deserialize(e) = &err else {
            return HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", "the query string is malformed")
                .into();
        };
        HttpProblem::new(StatusCode::BAD_REQUEST, "invalid_request", format!("the query string is invalid: {e}")).into()
    })
}

/// Path parameters: an id that cannot exist (`/users/abc`) is simply not found.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_: PathError, _| {
        HttpProblem::new(StatusCode::NOT_FOUND, "not_found", "no such resource").into()
    })
}

/// Replaces any error response that has no JSON body (actix's own 404, 405, 400…) with
/// one in the shared shape. Responses that are JSON already pass untouched.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (code, description) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route; see /openapi.json for the API"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not accept that method"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request is too large"),
            s if s.is_server_error() => ("internal_error", "an internal error occurred"),
            _ => ("invalid_request", "the request could not be processed"),
        };
        let (req, old) = res.into_parts();
        let mut response = error_response(status, code, description);
        // Keep headers such as `Allow` and `WWW-Authenticate`.
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
        let response: actix_web::HttpResponse<BoxBody> = response;
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
    })
}

/// Headers every response carries: no MIME sniffing of our JSON.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// Cross-origin access for the browser origins in `CORS_ALLOWED_ORIGINS`, and for no
/// other. With none configured (the default) the layer is off: no `Access-Control-*`
/// header is ever sent, and browsers refuse every cross-origin read. Allowed origins are
/// echoed exactly, with `Vary: Origin`; never `*`, never `null`, never credentials (the API
/// takes bearer tokens, not cookies).
pub fn cors(origins: &[String]) -> actix_web::middleware::Condition<actix_cors::Cors> {
    let request_id = header::HeaderName::from_static("x-request-id");
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, request_id.clone()])
        .expose_headers([request_id, header::WWW_AUTHENTICATE, header::RETRY_AFTER])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    actix_web::middleware::Condition::new(!origins.is_empty(), cors)
}

/// Parses `CORS_ALLOWED_ORIGINS`: comma-separated `scheme://host[:port]` origins, exactly
/// as browsers send them. Wildcards, `null`, paths and anything else are refused at start.
pub fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            let valid = rest.is_some_and(|host| {
                !host.is_empty()
                    && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
                    && !host.starts_with(':')
            });
            if valid {
                Ok(origin.to_ascii_lowercase())
            } else {
                Err(format!("{origin:?} is not an origin like https://app.example.com"))
            }
        })
        .collect()
}

/// Registers a route table (path, method, handler) grouped by path, so a known path asked
/// with another method answers 405, not 404. Services list their routes once, in a table
/// a test also compares with their OpenAPI document.
pub fn register_routes(
    cfg: &mut web::ServiceConfig,
    table: Vec<(&'static str, actix_web::http::Method, actix_web::Route)>,
) {
    let mut resources: Vec<(&str, Vec<actix_web::Route>)> = Vec::new();
    for (path, _, route) in table {
        match resources.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push(route),
            None => resources.push((path, vec![route])),
        }
    }
    for (path, routes) in resources {
        cfg.service(routes.into_iter().fold(web::resource(path), |resource, route| resource.route(route)));
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_origins_are_accepted() {
        assert_eq!(
            parse_origins(" https://App.example.com, http://localhost:3000 ,").unwrap(),
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert_eq!(parse_origins("").unwrap(), Vec::<String>::new());
        for bad in
            ["*", "null", "app.example.com", "https://app.example.com/", "https://*.example.com", "ftp://x", "https://"]
        {
            assert!(parse_origins(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn serde_messages_that_may_quote_input_are_replaced() {
        let quoting = "invalid type: integer `123456789`, expected a string at line 1 column 30";
        assert!(!describe_serde_error(quoting).contains("123456789"));
        let missing = "missing field `password` at line 1 column 20";
        assert_eq!(
            describe_serde_error(missing),
            "the body does not have the expected fields: missing field `password`"
        );
    }
}
