//! `GET /metrics`: Prometheus text behind the operator's bearer token, with what this process
//! recorded and the shared backlog read from the database at each scrape.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use sqlx::PgPool;
use switchboard::whatsapp::signature;

use crate::helpers::*;

const TOKEN: &str = "scrape-me-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get("/metrics");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

/// The value of the sample `series` (name and labels, as rendered), if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[sqlx::test]
async fn without_a_token_configured_there_are_no_metrics(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(scrape(&app, Some(TOKEN)).await.0, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn the_scraper_needs_the_token_and_reads_webhooks_sends_and_the_backlog(pool: PgPool) {
    let app = TestApp::with_config(pool, |config| {
        config.metrics_token = Some(TOKEN.into());
    })
    .await;
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&app, Some("wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );

    let (_, before) = scrape(&app, Some(TOKEN)).await;
    let counted = |text: &str, outcome: &str| {
        let series = format!("switchboard_webhook_requests_total{{outcome=\"{outcome}\"}}");
        sample(text, &series).unwrap_or(0.0)
    };
    let body = messages_webhook(vec![text("wamid.m1", 1_700_000_000, "Hi")], vec![]);
    assert_eq!(app.post_signed(body.clone()).await, StatusCode::OK);
    let forged = signature::sign(b"not the secret", body.as_bytes());
    let refused = app.post_webhook(META_APP_ID, body, Some(forged)).await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    // Stored, not applied yet: one pending event in this test's database.
    let (status, after) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(counted(&after, "accepted") >= counted(&before, "accepted") + 1.0);
    assert!(counted(&after, "bad_signature") >= counted(&before, "bad_signature") + 1.0);
    assert_eq!(
        sample(&after, "switchboard_webhook_events{state=\"pending\"}"),
        Some(1.0),
        "{after}"
    );
    assert!(sample(&after, "switchboard_webhook_apply_lag_seconds").is_some());
    assert_eq!(
        sample(&after, "switchboard_send_queue{state=\"queued\"}"),
        Some(0.0)
    );
    assert!(sample(&after, "switchboard_db_pool_connections").is_some_and(|n| n >= 1.0));
    assert!(after.contains("switchboard_webhook_accept_seconds_bucket"));

    // A number whose send slots are booked two seconds ahead.
    let number: i64 = app.scalar("select id from phone_numbers").await;
    sqlx::query(
        "insert into send_pacing (phone_number_id, next_slot_at)
         values ($1, now() + interval '2 seconds')",
    )
    .bind(number)
    .execute(&app.pool)
    .await
    .unwrap();
    app.apply().await;
    let (_, applied) = scrape(&app, Some(TOKEN)).await;
    let series = format!("switchboard_number_pacing_seconds{{number=\"{number}\"}}");
    let ahead = sample(&applied, &series);
    assert!(ahead.is_some_and(|s| s > 1.0 && s <= 2.0), "{applied}");
    assert_eq!(
        sample(&applied, "switchboard_webhook_events{state=\"pending\"}"),
        Some(0.0)
    );
}

#[sqlx::test]
async fn sends_and_graph_calls_are_counted(pool: PgPool) {
    let sending = Sending::new(pool).await;
    let conversation = sending.conversation(1).await;
    let queued = sending
        .send_text(conversation, "metrics-1", "Counted")
        .await
        .unwrap();
    sending
        .wait_for(queued.message_id, MessageStatus::Sent)
        .await;
    // The recorder is the process's: other tests' sends count too, so only presence is certain.
    let text = switchboard::metrics::handle().render();
    let sent = sample(
        &text,
        "switchboard_sends_total{outcome=\"sent\",code=\"none\"}",
    );
    assert!(sent.is_some_and(|n| n >= 1.0), "{text}");
    let calls = sample(
        &text,
        "switchboard_graph_call_seconds_count{outcome=\"ok\"}",
    );
    assert!(calls.is_some_and(|n| n >= 1.0), "{text}");
}
