//! Cross-origin access (CORS) for the browser origins in `CORS_ALLOWED_ORIGINS`: the
//! middleware, and the parser of the setting.

use actix_web::http::header;

/// Cross-origin access for the browser origins in `CORS_ALLOWED_ORIGINS`, and for no
/// other. With none configured (the default) the layer is off: no `Access-Control-*`
/// header is ever sent, and browsers refuse every cross-origin read. Allowed origins are
/// echoed exactly, with `Vary: Origin`; never `*`, never `null`, never credentials (the API
/// takes bearer tokens, not cookies).
pub fn cors(origins: &[String]) -> actix_web::middleware::Condition<actix_cors::Cors> {
    let request_id = header::HeaderName::from_static("x-request-id");
    // posts-service's count of its calls to users-service for the request.
    let users_calls = header::HeaderName::from_static("x-users-service-calls");
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, request_id.clone()])
        .expose_headers([request_id, users_calls, header::WWW_AUTHENTICATE, header::RETRY_AFTER])
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
}
