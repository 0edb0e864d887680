//! The JWKS, the discovery documents and the PEM.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::spawn_users;

#[tokio::test]
async fn the_jwks_publishes_only_public_rsa_members_and_is_cacheable() {
    let users = spawn_users().await;
    let response = users.client.get(users.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let body: Value = response.json().await.unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let mut members: Vec<&str> = keys[0].as_object().unwrap().keys().map(String::as_str).collect();
    members.sort();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["alg"].as_str(), keys[0]["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    // 2048 bits = 256 bytes = 342 base64url characters.
    assert!(keys[0]["n"].as_str().unwrap().len() >= 342);
}

#[tokio::test]
async fn both_discovery_documents_name_the_issuer_that_signs_the_tokens() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let claims = users.verify_independently(&tokens.access, "users-service").await.unwrap();
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let doc: Value = users.client.get(users.url(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["issuer"], claims["iss"], "{path}");
        assert_eq!(doc["jwks_uri"], format!("{}/.well-known/jwks.json", users.address), "{path}");
        assert_eq!(doc["token_endpoint"], format!("{}/oauth/token", users.address), "{path}");
        assert_eq!(doc["revocation_endpoint"], format!("{}/oauth/revoke", users.address), "{path}");
        let grants: Vec<&str> =
            doc["grant_types_supported"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        assert_eq!(grants, ["authorization_code", "refresh_token", "client_credentials"], "{path}");
        assert_eq!(doc["authorization_endpoint"], format!("{}/oauth/authorize", users.address), "{path}");
        assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]), "{path}");
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]), "{path}");
        // Request objects are not supported, and an omitted request_uri_parameter_supported
        // would claim they are (OpenID Connect Discovery §3).
        assert_eq!(doc["request_parameter_supported"], false, "{path}");
        assert_eq!(doc["request_uri_parameter_supported"], false, "{path}");
        // The JWKS the document points at is reachable and verifies the token.
        let jwks: jsonwebtoken::jwk::JwkSet =
            users.client.get(doc["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
        assert_eq!(jwks.keys.len(), 1);
    }
}

#[tokio::test]
async fn the_public_key_pem_verifies_the_tokens_and_holds_nothing_private() {
    let users = spawn_users().await;
    let tokens = users.user_tokens("alice").await;
    let pem = users.client.get(users.url("/public-key")).send().await.unwrap().text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----") && !pem.contains("PRIVATE"), "{pem}");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["users-service"]);
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    assert!(jsonwebtoken::decode::<Value>(&tokens.access, &key, &validation).is_ok());
}
