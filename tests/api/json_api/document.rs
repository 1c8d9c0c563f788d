//! The OpenAPI document: generated from the handlers that serve the routes, so every operation it
//! lists is served (behind the key), and the copy in `docs/openapi.json` is the one served.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use super::*;

/// The document in the repository; `SWITCHBOARD_WRITE_OPENAPI=1` rewrites it from the code.
const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

#[sqlx::test]
async fn every_documented_operation_is_served_behind_the_key(pool: PgPool) {
    let program = Program::new(pool).await;
    let document = serde_json::to_value(switchboard::api::v1::openapi()).unwrap();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        // Any id will do: without a key nothing is looked up.
        let concrete = path.replace("{id}", "1").replace("{label_id}", "1");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let url = format!("{}/api/v1{concrete}", program.app.url);
            let response = reqwest::Client::new()
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} is served, and only with a key"
            );
            let operation_id = item[method.as_str().to_ascii_lowercase()]["operationId"].clone();
            assert!(
                operation_ids.insert(operation_id),
                "{method} {path}: a unique operationId"
            );
        }
    }
    assert_eq!(operation_ids.len(), 13);

    // What is not documented is not served: an unknown path, a method not listed.
    let (status, body) = program.get("/conversations/1/archive").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let response = program
        .request(Method::PUT, "/conversations/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[sqlx::test]
async fn the_document_served_is_the_one_in_the_repository(pool: PgPool) {
    let program = Program::new(pool).await;
    let served: Value = reqwest::get(format!("{}/api/v1/openapi.json", program.app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    assert_eq!(
        served,
        serde_json::to_value(switchboard::api::v1::openapi()).unwrap()
    );
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("SWITCHBOARD_WRITE_OPENAPI").is_some() {
        std::fs::write(CHECKED_IN, &pretty).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        checked_in == pretty,
        "docs/openapi.json differs from the API served: rerun this test with \
         SWITCHBOARD_WRITE_OPENAPI=1 and commit the file"
    );

    let page = reqwest::get(format!("{}/api/v1/docs", program.app.url))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for path in served["paths"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("/api/v1{path}")),
            "{path} is on the page"
        );
    }
    assert!(html.contains("id=\"schema-NewMessage\""));
}
