//! What changes a message after it arrived: the customer's edits and deletions, the business's
//! own messages from the WhatsApp Business app (echoes), WhatsApp's marketing preferences, and
//! statuses a lost race left behind.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

fn edit(wamid: &str, ts: i64, original: &str, body: &str) -> Value {
    json!({ "from": CUSTOMER, "id": wamid, "timestamp": ts.to_string(), "type": "edit",
            "edit": { "original_message_id": original,
                      "message": { "type": "text", "text": { "body": body } } } })
}

fn revoke(wamid: &str, ts: i64, original: &str) -> Value {
    json!({ "from": CUSTOMER, "id": wamid, "timestamp": ts.to_string(), "type": "revoke",
            "revoke": { "original_message_id": original } })
}

/// A change of another `field` for [`PHONE_NUMBER_ID`].
fn change(field: &str, key: &str, items: Value) -> String {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "97212345678", "phone_number_id": PHONE_NUMBER_ID },
    });
    value[key] = items;
    envelope(
        WABA_ID,
        None,
        vec![json!({ "field": field, "value": value })],
    )
}

async fn message(app: &TestApp, wamid: &str) -> (String, Value, Option<Value>, bool, bool) {
    sqlx::query_as(
        "select body, content, original_content, edited_at is not null, deleted_at is not null
         from messages where wamid = $1",
    )
    .bind(wamid)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn an_edit_changes_the_original_message_and_keeps_its_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "teh order")],
        vec![],
    ))
    .await;
    app.deliver(messages_webhook(
        vec![edit("wamid.e1", 1_700_000_060, "wamid.1", "the order")],
        vec![],
    ))
    .await;

    let (body, content, original, edited, deleted) = message(&app, "wamid.1").await;
    assert_eq!(body, "the order");
    assert_eq!(content["text"]["body"], "the order");
    assert_eq!(original.unwrap()["text"]["body"], "teh order");
    assert!(edited && !deleted);
    assert_eq!(
        app.scalar::<i64>("select count(*) from messages").await,
        1,
        "no new bubble"
    );
    assert_eq!(
        app.scalar::<i32>("select unread_count from conversations")
            .await,
        1
    );
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_changes")
            .await,
        1
    );
}

#[sqlx::test]
async fn changes_that_arrive_before_their_message_or_twice_give_the_same_result(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let second = edit("wamid.e2", 1_700_000_120, "wamid.1", "final");
    let first = edit("wamid.e1", 1_700_000_060, "wamid.1", "better");
    app.deliver(messages_webhook(vec![second.clone()], vec![]))
        .await;
    app.deliver(messages_webhook(vec![first], vec![])).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "draft")],
        vec![],
    ))
    .await;
    app.deliver(messages_webhook(vec![second], vec![])).await;

    let (body, _, original, edited, _) = message(&app, "wamid.1").await;
    assert_eq!(body, "final", "the latest edit by Meta's time wins");
    assert_eq!(original.unwrap()["text"]["body"], "draft");
    assert!(edited);
}

#[sqlx::test]
async fn a_deleted_message_is_marked_and_its_text_kept_as_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "oops")],
        vec![],
    ))
    .await;
    app.deliver(messages_webhook(
        vec![revoke("wamid.r1", 1_700_000_030, "wamid.1")],
        vec![],
    ))
    .await;
    let (body, _, original, _, deleted) = message(&app, "wamid.1").await;
    assert!(deleted);
    assert_eq!(body, "This message was deleted");
    assert_eq!(original.unwrap()["text"]["body"], "oops");
}

#[sqlx::test]
async fn a_message_sent_from_the_business_app_is_an_outbound_message_that_does_not_open_the_window(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let echo = json!([{ "from": "97212345678", "to": "15550002222", "id": "wamid.echo",
        "timestamp": "1700000500", "type": "text", "text": { "body": "Sent from the phone" } }]);
    app.deliver(change("smb_message_echoes", "message_echoes", echo))
        .await;

    let (direction, status, body): (String, String, String) =
        sqlx::query_as("select direction, status, body from messages where wamid = 'wamid.echo'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (direction.as_str(), status.as_str(), body.as_str()),
        ("outbound", "sent", "Sent from the phone")
    );
    let (wa_id, last_customer, last_message): (
        String,
        Option<chrono::DateTime<Utc>>,
        Option<chrono::DateTime<Utc>>,
    ) = sqlx::query_as(
        "select k.wa_id, c.last_customer_message_at, c.last_message_at
             from conversations c join contacts k on k.id = c.contact_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        wa_id, "15550002222",
        "the customer, not the business number"
    );
    assert!(last_customer.is_none(), "the window stays closed");
    assert_eq!(last_message.map(|t| t.timestamp()), Some(1_700_000_500));

    // The business app edits it: the echo of the edit changes the original.
    let edited = json!([{ "from": "97212345678", "to": "15550002222", "id": "wamid.echo2",
        "timestamp": "1700000600", "type": "edit",
        "edit": { "original_message_id": "wamid.echo", "message": { "type": "text", "text": { "body": "Edited on the phone" } } } }]);
    app.deliver(change("smb_message_echoes", "message_echoes", edited))
        .await;
    assert_eq!(message(&app, "wamid.echo").await.0, "Edited on the phone");
}

#[sqlx::test]
async fn marketing_preferences_set_in_whatsapp_opt_the_customer_out_and_back_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let preference = |value: &str, ts: i64| {
        change(
            "user_preferences",
            "user_preferences",
            json!([{ "wa_id": CUSTOMER, "detail": "User requested", "category": "marketing_messages",
                     "value": value, "timestamp": ts }]),
        )
    };
    let opted_out = async || {
        app.scalar::<Option<chrono::DateTime<Utc>>>("select opted_out_at from contacts")
            .await
            .is_some()
    };
    app.deliver(preference("stop", 1_700_000_000)).await;
    assert!(opted_out().await);
    app.deliver(preference("resume", 1_700_000_100)).await;
    assert!(!opted_out().await);
    // A late "stop" older than the "resume" loses.
    app.deliver(preference("stop", 1_700_000_050)).await;
    assert!(!opted_out().await);
}

#[sqlx::test]
async fn a_status_left_only_in_the_history_is_reconciled_onto_its_message(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    // As if both post-commit syncs of a race had failed: the status is stored, the message not moved.
    sqlx::query(
        "insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp, raw)
         select tenant_id, id, 'wamid.OUT', 'read', now(), '{}' from phone_numbers",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Sent);

    let moved = switchboard::ingest::apply::reconcile_statuses(
        &app.pool,
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(moved, 1);
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Read);
    let again = switchboard::ingest::apply::reconcile_statuses(
        &app.pool,
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}
