//! Errors answer in their caller's language: an HTML page for a browser's paths, JSON on Meta's
//! webhook endpoint, Meta's error envelope in the sandbox's Graph API.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::*;

/// An answer's status, content type and body.
async fn answer(app: &TestApp, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn json_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[sqlx::test]
async fn an_unknown_path_is_a_404_page(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for path in ["/conversations/42", "/sandboxes", "/inbox/nowhere"] {
        let (status, content_type, page) = answer(&app, get(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
        assert!(page.contains(r#"data-error-code="not_found""#), "{page}");
        assert!(page.contains("Not found."), "{page}");
    }
}

#[sqlx::test]
async fn a_path_in_an_html_page_is_escaped_never_echoed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, _, page) = answer(&app, get("/%3Cscript%3Ealert(1)%3C/script%3E")).await;
    assert!(!page.contains("<script>"), "{page}");
}

#[sqlx::test]
async fn webhook_errors_are_json_with_their_usual_statuses(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    let unsigned = Request::post(format!("/webhooks/whatsapp/{META_APP_ID}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, content_type, body) = answer(&app, unsigned).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::UNAUTHORIZED, "application/json")
    );
    assert_eq!(
        json_body(&body),
        json!({ "error": { "code": "unauthorized", "message": "invalid X-Hub-Signature-256" } })
    );

    let wrong_token = get(&format!(
        "/webhooks/whatsapp/{META_APP_ID}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"
    ));
    let (status, _, body) = answer(&app, wrong_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json_body(&body)["error"]["code"], "forbidden");

    for path in ["/webhooks/whatsapp/not-an-app", "/webhooks/elsewhere"] {
        let (status, content_type, body) = answer(&app, get(path)).await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::NOT_FOUND, "application/json"),
            "{path}"
        );
        assert_eq!(
            json_body(&body),
            json!({ "error": { "code": "not_found", "message": "not found" } })
        );
    }
}

#[sqlx::test]
async fn the_sandboxs_unknown_objects_get_metas_envelope(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (status, content_type, body) =
        answer(&app, get("/sandbox/graph/v23.0/999000999/nonsense")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::BAD_REQUEST, "application/json")
    );
    let error = &json_body(&body)["error"];
    assert_eq!(
        (&error["code"], &error["error_subcode"]),
        (&json!(100), &json!(33))
    );
    assert_eq!(error["type"], "GraphMethodException");
}

#[sqlx::test]
async fn a_malformed_query_on_the_webhook_is_a_json_bad_request(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let path = format!("/webhooks/whatsapp/{META_APP_ID}?hub.mode=subscribe&hub.mode=unsubscribe");
    let (status, content_type, body) = answer(&app, get(&path)).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::BAD_REQUEST, "application/json")
    );
    let error = &json_body(&body)["error"];
    assert_eq!(error["code"], "bad_request");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Failed to deserialize query string") && message.contains("hub.mode"),
        "{message}"
    );
}

#[sqlx::test]
async fn the_sandboxs_malformed_paths_and_queries_get_metas_invalid_parameter(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let requests = [
        get(&format!(
            "/sandbox/graph/v23.0/{WABA_ID}/message_templates?limit=many"
        )),
        Request::post("/sandbox/graph/v23.0/%FF%FE/messages")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap(),
    ];
    for request in requests {
        let uri = request.uri().clone();
        let (status, content_type, body) = answer(&app, request).await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::BAD_REQUEST, "application/json"),
            "{uri}"
        );
        let error = &json_body(&body)["error"];
        assert_eq!(
            (&error["code"], &error["type"]),
            (&json!(100), &json!("OAuthException")),
            "{uri}"
        );
        let details = error["error_data"]["details"].as_str().unwrap();
        assert!(
            details.starts_with("Failed to deserialize query string")
                || details.starts_with("Invalid URL"),
            "{uri}: {details}"
        );
    }
}

#[sqlx::test]
async fn every_answer_carries_a_strict_content_security_policy(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for path in ["/no/such/page", "/healthz"] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.router.clone().oneshot(request).await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
    }
}
