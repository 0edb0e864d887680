//! The OpenAPI document and the docs page, served from the binary.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_users;

#[tokio::test]
async fn the_openapi_document_and_an_offline_docs_page_are_served() {
    let users = spawn_users().await;
    let doc: Value = users.client.get(users.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["paths"]["/users/{id}"]["get"]["security"][0]["bearer"], serde_json::json!(["users:read"]));
    let redirect = users.client.get(users.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    let page = users.client.get(users.url("/docs/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("swagger-ui-bundle.js"));
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js"] {
        let response = users.client.get(users.url(&format!("/docs/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset} is served from the binary");
    }
    let initializer =
        users.client.get(users.url("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(
        // Relative to the page (/docs/), so that it also works behind the gateway's prefix.
        initializer.contains("\"../openapi.json\"") && initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
    assert!(
        !page.contains("https://") && !initializer.contains("https://"),
        "the page loads nothing from another host"
    );
}
