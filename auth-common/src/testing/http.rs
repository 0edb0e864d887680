//! Reading a service's answers in a test: the JSON error shape, the bearer challenge, the
//! signing key a service wrote to its key folder, the `kid` a token names. Both services'
//! tests read them the same way, so they are written once, here.

use std::path::Path;

use reqwest::{Response, StatusCode};

use crate::service::errors::ErrorBody;
use crate::token::signing_key::SigningKey;

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

/// The first signing key in a service's key folder: for tokens that must carry a valid
/// signature and one bad claim.
pub fn signing_key_in(keys_dir: &Path) -> SigningKey {
    let pem = std::fs::read_dir(keys_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pem"))
        .expect("a key file");
    SigningKey::from_pkcs8_pem(&std::fs::read_to_string(pem).unwrap()).unwrap()
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
