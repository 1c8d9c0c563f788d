//! The webhook endpoint's contract: handshake, signatures, unknown apps, limits, durability.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use sqlx::{PgPool, postgres::PgPoolOptions};
use switchboard::{
    http::{AppState, app},
    ingest::event_log::EventLog,
    whatsapp::signature,
};
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::helpers::*;

fn handshake(app: &str, mode: &str, token: &str) -> Request<Body> {
    Request::get(format!(
        "/webhooks/whatsapp/{app}?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444"
    ))
    .body(Body::empty())
    .unwrap()
}

#[sqlx::test]
async fn handshake_with_the_apps_verify_token_echoes_the_challenge(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (status, body) = app
        .request(handshake(META_APP_ID, "subscribe", VERIFY_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "1158201444");
}

#[sqlx::test]
async fn handshake_with_a_wrong_token_mode_or_app_is_forbidden(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for request in [
        handshake(META_APP_ID, "subscribe", "wrong-token"),
        handshake(META_APP_ID, "unsubscribe", VERIFY_TOKEN),
        handshake("999", "subscribe", VERIFY_TOKEN),
        Request::get(format!("/webhooks/whatsapp/{META_APP_ID}"))
            .body(Body::empty())
            .unwrap(),
    ] {
        assert_eq!(app.request(request).await.0, StatusCode::FORBIDDEN);
    }
}

#[sqlx::test]
async fn a_missing_or_wrong_signature_is_rejected_and_nothing_is_stored(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "injected")], vec![]);
    let wrong_secret = signature::sign(b"another-apps-secret", body.as_bytes());
    let other_body = signature::sign(APP_SECRET.as_bytes(), b"{}");
    for signature in [
        None,
        Some(wrong_secret),
        Some(other_body),
        Some("sha256=nothex".into()),
    ] {
        assert_eq!(
            app.post_webhook(META_APP_ID, body.clone(), signature).await,
            StatusCode::UNAUTHORIZED
        );
    }
    app.apply().await;
    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events")
            .await,
        0
    );
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 0);
}

#[sqlx::test]
async fn a_repeated_signature_header_is_rejected_even_with_a_valid_copy(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "injected")], vec![]);
    let valid = signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    let other = signature::sign(b"another-apps-secret", body.as_bytes());
    for copies in [[&valid, &other], [&other, &valid], [&valid, &valid]] {
        let request = Request::post(format!("/webhooks/whatsapp/{META_APP_ID}"))
            .header("content-type", "application/json")
            .header(signature::HEADER, copies[0])
            .header(signature::HEADER, copies[1])
            .body(Body::from(body.clone()))
            .unwrap();
        assert_eq!(app.request(request).await.0, StatusCode::UNAUTHORIZED);
    }
    app.apply().await;
    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events")
            .await,
        0
    );
}

#[sqlx::test]
async fn an_unknown_app_is_not_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    let signature = signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    assert_eq!(
        app.post_webhook("42", body, Some(signature)).await,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn an_app_registered_after_a_miss_is_found_at_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = envelope("late-waba", None, vec![]);
    let signature = signature::sign(b"late-secret", body.as_bytes());
    assert_eq!(
        app.post_webhook("4242", body.clone(), Some(signature.clone()))
            .await,
        StatusCode::NOT_FOUND
    );

    app.add_tenant("Late", "4242", "late-secret").await;

    assert_eq!(
        app.post_webhook("4242", body, Some(signature)).await,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn an_app_id_that_names_no_app_is_not_found_by_either_method(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    let signature = signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    let too_long = "9".repeat(33);
    // A NUL byte, which PostgreSQL refuses in text; not digits; invalid UTF-8; too long.
    for app_id in ["%00", "1234%005678", "abc", "1234567890x", "%FF", &too_long] {
        assert_eq!(
            app.post_webhook(app_id, body.clone(), Some(signature.clone()))
                .await,
            StatusCode::NOT_FOUND,
            "POST {app_id}"
        );
        assert_eq!(
            app.request(handshake(app_id, "subscribe", VERIFY_TOKEN))
                .await
                .0,
            StatusCode::NOT_FOUND,
            "GET {app_id}"
        );
    }
    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events")
            .await,
        0
    );
}

#[sqlx::test]
async fn a_sandbox_app_is_served_like_a_meta_app(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.add_tenant("Sandbox", "sandbox-app-9", "sandbox-secret")
        .await;
    let (status, challenge) = app
        .request(handshake("sandbox-app-9", "subscribe", VERIFY_TOKEN))
        .await;
    assert_eq!((status, challenge.as_str()), (StatusCode::OK, "1158201444"));
    let body = envelope("sandbox-waba-9", None, vec![]);
    let signature = signature::sign(b"sandbox-secret", body.as_bytes());
    assert_eq!(
        app.post_webhook("sandbox-app-9", body, Some(signature))
            .await,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn a_body_over_three_megabytes_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(3_000_001));
    assert_eq!(app.post_signed(body).await, StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test]
async fn an_accepted_event_is_stored_byte_for_byte_before_it_is_answered(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // Meta escapes non-ASCII as \uXXXX; whatever the bytes, they are kept exactly.
    let body = messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "Ol\u{e1} \u{1f44b}")],
        vec![],
    )
    .replace("Ol\u{e1}", "Ol\\u00e1")
    .into_bytes();
    assert_eq!(app.post_signed(body.clone()).await, StatusCode::OK);
    let stored: Vec<u8> = app.scalar("select body from webhook_events").await;
    assert_eq!(stored, body);
    assert_eq!(
        app.scalar::<String>("select state from webhook_events")
            .await,
        "pending"
    );
}

#[sqlx::test]
async fn when_the_database_cannot_store_the_event_meta_is_told_to_retry(pool: PgPool) {
    let app = TestApp::without_live_updates(pool.clone()).await;
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    // Warm the app cache, then take the database away.
    app.deliver(body.clone()).await;
    pool.close().await;
    assert_eq!(app.post_signed(body).await, StatusCode::SERVICE_UNAVAILABLE);
}

/// A pool whose every connection attempt is refused, as when the database is down: each acquire
/// waits out its 5 s timeout.
fn unreachable_pool() -> PgPool {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy("postgres://postgres@127.0.0.1:1/x")
        .unwrap()
}

/// The router over `apps_pool` for app lookups and `events_pool` for the event log.
fn router_over(apps_pool: PgPool, events_pool: PgPool) -> axum::Router {
    let (events, _writer) = EventLog::start(events_pool, Arc::new(Notify::new()));
    app(AppState::new(apps_pool, test_config(), events).unwrap())
}

/// Sends `request` to `router`; returns the status and how long the answer took.
async fn timed(router: &axum::Router, request: Request<Body>) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = router.clone().oneshot(request).await.unwrap();
    (response.status(), started.elapsed())
}

fn signed_post(body: &str) -> Request<Body> {
    Request::post(format!("/webhooks/whatsapp/{META_APP_ID}"))
        .header(
            signature::HEADER,
            signature::sign(APP_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[sqlx::test]
async fn while_the_database_is_down_meta_is_told_to_retry_within_seconds(pool: PgPool) {
    // Well under the 5 s one acquire waits: the 503 must not wait for the pool (a failure guard
    // on a timeout, not a speed measurement).
    let prompt = Duration::from_millis(3_500);
    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    let down = router_over(unreachable_pool(), unreachable_pool());
    for request in [
        signed_post(&body),
        handshake(META_APP_ID, "subscribe", VERIFY_TOKEN),
    ] {
        let (status, took) = timed(&down, request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < prompt, "answered after {took:?}");
    }

    // The app is known (its lookup answers), but the event cannot be stored.
    let _app = TestApp::new(pool.clone()).await;
    let cannot_store = router_over(pool, unreachable_pool());
    let (status, took) = timed(&cannot_store, signed_post(&body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < prompt, "answered after {took:?}");
}

#[sqlx::test]
async fn malformed_json_with_a_valid_signature_is_kept_as_failed_and_answered_200(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for body in [
        "{not json",
        r#"{"object":"whatsapp_business_account","entry":"nope"}"#,
    ] {
        app.deliver(body).await;
        let (state, error, _) = app.last_event().await;
        assert_eq!(state, "failed");
        assert!(
            error
                .unwrap()
                .contains("not a WhatsApp webhook notification")
        );
    }
    let missing_id = messages_webhook(
        vec![serde_json::json!({"from": CUSTOMER, "timestamp": "1", "type": "text"})],
        vec![],
    );
    app.deliver(missing_id).await;
    let (state, error, _) = app.last_event().await;
    assert_eq!(state, "failed");
    assert!(
        error.unwrap().contains("malformed message"),
        "names what is wrong"
    );
}

#[sqlx::test]
async fn health_and_readiness_answer(pool: PgPool) {
    let app = TestApp::without_live_updates(pool.clone()).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(app.request(get("/healthz")).await.0, StatusCode::OK);
    assert_eq!(app.request(get("/readyz")).await.0, StatusCode::OK);
    pool.close().await;
    assert_eq!(
        app.request(get("/readyz")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(app.request(get("/healthz")).await.0, StatusCode::OK);
}
