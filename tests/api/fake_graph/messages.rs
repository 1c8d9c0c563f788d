//! Free-form messages and the 24-hour rule: accepted sends are reported sent, delivered and read
//! (or failed with 131047 outside the window) by signed status webhooks, unless delays are off.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use tokio::time::sleep;

use super::{Meta, STATUS_COUNT, STRANGER, wamid};
use crate::helpers::*;

#[sqlx::test]
async fn a_text_inside_the_window_is_sent_delivered_and_read_by_signed_webhooks(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(1).await;

    let (status, body) = meta.send_text(&format!("+{CUSTOMER}")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"],
        json!([{ "input": format!("+{CUSTOMER}"), "wa_id": CUSTOMER }])
    );
    let wamid = wamid(&body);
    assert!(wamid.starts_with("wamid.HBg"), "{wamid}");
    assert!(body["messages"][0].get("message_status").is_none());

    meta.wait_for(STATUS_COUNT, &wamid, 3).await;
    let statuses = meta.statuses(&wamid).await;
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|(status, ..)| status.as_str())
        .collect();
    assert_eq!(kinds, ["sent", "delivered", "read"]);
    let pricing = statuses[0].2.as_ref().unwrap();
    assert_eq!(
        (&pricing["category"], &pricing["billable"]),
        (&json!("service"), &json!(true))
    );
    let failed: i64 = meta
        .app
        .scalar("select count(*) from webhook_events where state <> 'applied'")
        .await;
    assert_eq!(failed, 0, "every webhook was signed, accepted and applied");
}

#[sqlx::test]
async fn a_text_outside_the_window_is_accepted_then_fails_with_131047(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(25).await;

    let (status, late) = meta.send_text(CUSTOMER).await;
    assert_eq!(status, StatusCode::OK, "Meta accepts it first");
    let (status, never_wrote) = meta.send_text(STRANGER).await;
    assert_eq!(status, StatusCode::OK);

    for wamid in [wamid(&late), wamid(&never_wrote)] {
        meta.wait_for(STATUS_COUNT, &wamid, 1).await;
        let statuses = meta.statuses(&wamid).await;
        let (status, errors, _) = &statuses[0];
        assert_eq!(status, "failed");
        let error = &errors.as_ref().unwrap()[0];
        assert_eq!(
            (&error["code"], &error["title"]),
            (&json!(131047), &json!("Re-engagement message"))
        );
    }
    // The delivered and read delays have passed: nothing but the failure was reported.
    sleep(Duration::from_millis(150)).await;
    meta.app.apply().await;
    assert_eq!(meta.statuses(&wamid(&late)).await.len(), 1);
}

#[sqlx::test]
async fn without_status_delays_no_webhooks_are_sent(pool: PgPool) {
    let meta = Meta::with_delays(pool, None).await;
    meta.customer_wrote(1).await;
    let before: i64 = meta.app.scalar("select count(*) from webhook_events").await;

    assert_eq!(meta.send_text(CUSTOMER).await.0, StatusCode::OK);
    assert_eq!(meta.send_text(STRANGER).await.0, StatusCode::OK);

    sleep(Duration::from_millis(200)).await;
    assert_eq!(
        meta.app
            .scalar::<i64>("select count(*) from webhook_events")
            .await,
        before
    );
    let scheduled: i64 = meta
        .app
        .scalar("select count(*) from sandbox_webhooks")
        .await;
    assert_eq!(scheduled, 0, "nothing was even scheduled");
}
