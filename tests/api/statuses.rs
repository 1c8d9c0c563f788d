//! Delivery statuses: forward only, failures with their errors, statuses that come first.

use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::ingest::apply::sync_message_statuses;

use crate::helpers::*;

#[sqlx::test]
async fn statuses_only_move_forward_whatever_order_they_arrive_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    app.deliver(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "read", 1_700_000_030)],
    ))
    .await;
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Read);
    app.deliver(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "delivered", 1_700_000_020)],
    ))
    .await;
    app.deliver(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "sent", 1_700_000_010)],
    ))
    .await;
    assert_eq!(
        app.message_status("wamid.OUT").await,
        MessageStatus::Read,
        "a late delivered/sent changes nothing"
    );
    let history: Vec<String> =
        sqlx::query_scalar("select status from message_statuses order by meta_timestamp")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        history,
        ["sent", "delivered", "read"],
        "the history keeps every status"
    );
}

#[sqlx::test]
async fn a_failed_status_stores_each_part_of_metas_error(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    let mut failed = status("wamid.OUT", "failed", 1_700_000_040);
    failed["errors"] = json!([{
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": { "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
    }]);
    app.deliver(messages_webhook(vec![], vec![failed])).await;
    let (status, code, title, message, details): (String, i32, String, String, String) = sqlx::query_as(
        "select status, error_code, error_title, error_message, error_details from messages where wamid = 'wamid.OUT'",
    )
    .fetch_one(&app.pool).await.unwrap();
    assert_eq!(
        (status.as_str(), code, title.as_str()),
        ("failed", 131047, "Re-engagement message")
    );
    assert!(
        message.contains("outside the 24-hour customer service window"),
        "explained for agents: {message}"
    );
    assert!(
        details.contains("more than 24 hours"),
        "Meta's details kept"
    );
    let raw: serde_json::Value = sqlx::query_scalar("select errors from message_statuses")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        raw[0]["message"], "Re-engagement message",
        "Meta's words kept"
    );
}

#[sqlx::test]
async fn pricing_and_conversation_data_are_kept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/webhooks/netflie__a_status_with_pricing_notification.json"
    ))
    .unwrap();
    let payload: Value = serde_json::from_str(&body).unwrap();
    let value = &payload["entry"][0]["changes"][0]["value"];
    let pnid = value["metadata"]["phone_number_id"].as_str().unwrap();
    let waba = payload["entry"][0]["id"].as_str().unwrap();
    app.add_number(app.tenant_id, app.app_id, pnid, waba, None)
        .await;
    app.deliver(body.clone()).await;
    let (pricing, conversation): (Value, Option<Value>) =
        sqlx::query_as("select pricing, conversation from message_statuses")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(pricing, value["statuses"][0]["pricing"]);
    assert_eq!(
        conversation.as_ref(),
        value["statuses"][0].get("conversation")
    );
}

#[sqlx::test]
async fn a_status_that_arrives_before_its_message_is_applied_when_the_message_exists(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![],
        vec![status("wamid.EARLY", "delivered", 1_700_000_020)],
    ))
    .await;
    assert_eq!(app.last_event().await.0, "applied");
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_statuses")
            .await,
        1
    );

    // The send path stores the wamid Meta answered with, then syncs: the early status applies.
    let id = app.outbound_message("wamid.EARLY").await;
    sqlx::query("update messages set status = 'sent' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let number_id: NumberId = app.scalar("select id from phone_numbers").await;
    let mut conn = app.pool.acquire().await.unwrap();
    sync_message_statuses(&mut conn, &[number_id], &["wamid.EARLY".into()])
        .await
        .unwrap();
    assert_eq!(
        app.message_status("wamid.EARLY").await,
        MessageStatus::Delivered
    );
}
