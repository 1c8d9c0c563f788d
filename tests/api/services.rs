//! The setup services every surface calls, tested directly: registering a number, syncing
//! templates.

use axum::{Json, Router, extract::Query, http::HeaderMap, routing::get};
use serde_json::Value;
use sqlx::PgPool;
use switchboard::{
    domain::{
        apps::AppSecrets,
        numbers::{self, Registration},
        templates,
    },
    whatsapp::graph::{GraphClient, GraphUrls},
};

use crate::helpers::*;

#[sqlx::test]
async fn registering_a_number_creates_its_app_once_and_audits_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cipher = app.config.secret_key.cipher();
    let registration = |phone_number_id, secrets: Option<AppSecrets>| Registration {
        tenant_id: app.tenant_id,
        meta_app_id: "1048576000000001",
        app_secrets: secrets,
        phone_number_id,
        waba_id: "555000111",
        display_phone_number: Some("+1 555 078 3881"),
        access_token: "EAAG-token".into(),
        by: None,
    };
    let secrets = || AppSecrets {
        app_secret: "s3cret".into(),
        verify_token: "verify-me".into(),
    };
    let mut tx = app.pool.begin().await.unwrap();

    let first = numbers::register(&mut tx, &cipher, registration("2001", Some(secrets())))
        .await
        .unwrap();
    let second = numbers::register(&mut tx, &cipher, registration("2002", None))
        .await
        .unwrap();
    let duplicate = numbers::register(&mut tx, &cipher, registration("2001", None)).await;
    tx.commit().await.unwrap();

    assert_ne!(first, second);
    let error = format!("{:#}", duplicate.unwrap_err());
    assert!(error.contains("already registered"), "{error}");
    let apps: i64 = app
        .scalar("select count(*) from meta_apps where meta_app_id = '1048576000000001'")
        .await;
    assert_eq!(apps, 1);
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'number.add'")
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn registering_under_a_new_app_needs_its_secrets(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut tx = app.pool.begin().await.unwrap();
    let registration = Registration {
        tenant_id: app.tenant_id,
        meta_app_id: "1048576000000002",
        app_secrets: None,
        phone_number_id: "2003",
        waba_id: "555000111",
        display_phone_number: None,
        access_token: "EAAG-token".into(),
        by: None,
    };

    let refused = numbers::register(&mut tx, &app.config.secret_key.cipher(), registration).await;

    let error = format!("{:#}", refused.unwrap_err());
    assert!(error.contains("META_APP_SECRET"), "{error}");
}

/// A Meta that lists `bindambc`'s two template pages, and the bearer tokens it was called with.
async fn template_lister() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let list = move |Query(query): Query<std::collections::HashMap<String, String>>,
                     headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let token = headers["authorization"].to_str().unwrap().to_owned();
            seen.lock().unwrap().push(token);
            let page = match query.get("after").map(String::as_str) {
                None => "bindambc__list_templates_response_2.json",
                Some(_) => "bindambc__list_templates_response_3.json",
            };
            let path = format!(
                "{}/../shared/corpus/templates/{page}",
                env!("CARGO_MANIFEST_DIR")
            );
            Json(serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap()).unwrap())
        }
    };
    let router = Router::new().route("/v23.0/{waba}/message_templates", get(list));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, tokens)
}

#[sqlx::test]
async fn template_sync_stores_every_page_meta_lists(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (meta, tokens) = template_lister().await;
    let urls = GraphUrls {
        meta,
        sandbox: app.config.sandbox_graph_url(),
    };
    let graph = GraphClient::new("v23.0").unwrap();
    let cipher = app.config.secret_key.cipher();

    let synced = templates::sync(&app.pool, &cipher, &graph, &urls, app.tenant_id)
        .await
        .unwrap();

    assert_eq!(synced.len(), 1);
    assert_eq!(
        (synced[0].waba_id.as_str(), synced[0].templates),
        (WABA_ID, 3)
    );
    let stored: Vec<(String, String)> =
        sqlx::query_as("select name, status from message_templates order by name")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [
            ("schedule_confirmation5".into(), "APPROVED".into()),
            ("welcome_template3".into(), "REJECTED".into())
        ]
    );
    assert_eq!(
        *tokens.lock().unwrap(),
        ["Bearer test-access-token", "Bearer test-access-token"]
    );
}
