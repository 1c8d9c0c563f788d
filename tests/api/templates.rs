//! Account-level events: template status, quality and category; phone number quality and name.

use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::whatsapp::signature;

use crate::helpers::*;

fn template_status(time: i64, event: &str, extra: Value) -> String {
    let mut value = json!({
        "event": event,
        "message_template_id": 1689556908129832_i64,
        "message_template_name": "order_confirmation",
        "message_template_language": "en-US",
        "message_template_category": "UTILITY",
    });
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    envelope(
        WABA_ID,
        Some(time),
        vec![json!({ "field": "message_template_status_update", "value": value })],
    )
}

async fn template(
    app: &TestApp,
) -> (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    sqlx::query_as(
        "select status, language, status_reason, quality_score, category from message_templates",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn template_status_updates_create_and_update_the_template(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(template_status(
        1_751_247_548,
        "APPROVED",
        json!({ "reason": "NONE" }),
    ))
    .await;
    let (status, language, reason, _, category) = template(&app).await;
    assert_eq!(
        (status.as_str(), language.as_str(), reason),
        ("APPROVED", "en_US", None)
    );
    assert_eq!(category.as_deref(), Some("UTILITY"));

    let rejection = json!({ "reason": "INVALID_FORMAT", "rejection_info": { "reason": "Parameters next to each other." } });
    app.deliver(template_status(1_751_247_600, "REJECTED", rejection))
        .await;
    let (status, _, reason, _, _) = template(&app).await;
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("REJECTED", Some("Parameters next to each other."))
    );

    app.deliver(template_status(
        1_751_247_700,
        "PAUSED",
        json!({ "reason": "NONE" }),
    ))
    .await;
    // An older event delivered late does not undo the newer one.
    app.deliver(template_status(1_751_247_650, "APPROVED", json!({})))
        .await;
    assert_eq!(template(&app).await.0, "PAUSED");
    app.deliver(template_status(1_751_247_800, "DISABLED", json!({})))
        .await;
    assert_eq!(template(&app).await.0, "DISABLED");
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_templates")
            .await,
        1
    );
}

#[sqlx::test]
async fn template_quality_and_category_updates_apply_to_the_known_template(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(template_status(1_751_247_548, "APPROVED", json!({})))
        .await;
    let quality = json!({ "field": "message_template_quality_update", "value": {
        "previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
        "message_template_id": 1689556908129832_i64, "message_template_name": "order_confirmation",
        "message_template_language": "en_US" } });
    let category = json!({ "field": "template_category_update", "value": {
        "message_template_id": 1689556908129832_i64, "message_template_name": "order_confirmation",
        "message_template_language": "en_US", "new_category": "MARKETING" } });
    app.deliver(envelope(
        WABA_ID,
        Some(1_751_250_000),
        vec![quality, category],
    ))
    .await;
    let (_, _, _, quality, category) = template(&app).await;
    assert_eq!(
        (quality.as_deref(), category.as_deref()),
        (Some("YELLOW"), Some("MARKETING"))
    );
}

#[sqlx::test]
async fn phone_number_quality_and_name_updates_apply_to_the_number(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let quality = json!({ "field": "phone_number_quality_update", "value": {
        "display_phone_number": "972123456789", "event": "FLAGGED", "current_limit": "TIER_10K" } });
    let name = json!({ "field": "phone_number_name_update", "value": {
        "display_phone_number": "972123456789", "decision": "APPROVED",
        "requested_verified_name": "Acme Support", "rejection_reason": null } });
    app.deliver(envelope(WABA_ID, Some(1_608_243_062), vec![quality, name]))
        .await;
    let (rating, tier, verified): (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("select quality_rating, messaging_tier, verified_name from phone_numbers")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (rating.as_deref(), tier.as_deref(), verified.as_deref()),
        (Some("FLAGGED"), Some("TIER_10K"), Some("Acme Support"))
    );
}

#[sqlx::test]
async fn an_account_event_for_another_apps_waba_is_unroutable(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (globex, globex_app) = app.add_tenant("Globex", "777", "globex-secret").await;
    app.add_number(globex, globex_app, "555", "globex-waba", None)
        .await;
    // Acme's app names Globex's WABA: nothing of Globex's changes.
    let body = envelope(
        "globex-waba",
        Some(1),
        vec![
            json!({ "field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 1, "message_template_name": "x", "message_template_language": "en" } }),
        ],
    );
    app.deliver(body).await;
    assert_eq!(app.last_event().await.0, "unroutable");
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_templates")
            .await,
        0
    );
    // Globex's own app may.
    let body = envelope(
        "globex-waba",
        Some(1),
        vec![
            json!({ "field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 1, "message_template_name": "x", "message_template_language": "en" } }),
        ],
    );
    let signature = signature::sign(b"globex-secret", body.as_bytes());
    app.post_webhook("777", body, Some(signature)).await;
    app.apply().await;
    assert_eq!(
        app.scalar::<TenantId>("select tenant_id from message_templates")
            .await,
        globex
    );
}

#[sqlx::test]
async fn a_field_without_a_handler_is_stored_and_never_an_error(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = envelope(
        WABA_ID,
        Some(1),
        vec![json!({ "field": "account_alerts", "value": { "entity_type": "WABA" } })],
    );
    app.deliver(body.clone()).await;
    assert_eq!(app.last_event().await.0, "applied");
    assert_eq!(
        app.scalar::<Vec<u8>>("select body from webhook_events")
            .await,
        body.into_bytes()
    );
}
