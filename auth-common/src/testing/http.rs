//! Reading a service's answers in a test: the JSON error shape, the bearer challenge, the
//! `kid` a token names. Both services'
//! tests read them the same way, so they are written once, here.

use reqwest::{Response, StatusCode};

use crate::service::errors::ErrorBody;

/// The status and the JSON error body of a response, asserting the shape.
pub async fn error_of(response: Response) -> (StatusCode, ErrorBody) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, error_body(&text))
}

/// [`error_of`], asserting also that the body is declared `application/json`.
pub async fn json_error_of(response: Response) -> (StatusCode, ErrorBody) {
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    assert_eq!(content_type.as_deref(), Some("application/json"), "error body for {status} is not JSON: {text}");
    (status, error_body(&text))
}

fn error_body(text: &str) -> ErrorBody {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not the error shape ({e}): {text}"))
}

/// The `WWW-Authenticate` header of a response.
pub fn challenge(response: &Response) -> Option<String> {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned())
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
