//! A burst applied in one batch: the set-based path for plain messages and statuses, and the
//! per-event path for the rest, give what applying each event alone gives.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

fn from(customer: &str, wamid: &str, ts: i64, body: &str) -> String {
    let mut message = text(wamid, ts, body);
    message["from"] = json!(customer);
    messages_webhook(vec![message], vec![]).replace(CUSTOMER, customer)
}

#[sqlx::test]
async fn a_mixed_burst_in_one_batch_is_applied_like_each_event_alone(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    let base = 1_700_000_000;
    let mut bodies = Vec::new();
    for (i, customer) in ["15550000001", "15550000002", "15550000003"]
        .iter()
        .enumerate()
    {
        for n in 0..5 {
            let ts = base + 100 * n + i as i64;
            bodies.push(from(
                customer,
                &format!("wamid.{customer}.{n}"),
                ts,
                "Hello",
            ));
        }
    }
    // A duplicate delivery, an out-of-order older message, a keyword, statuses, a reaction, an edit.
    bodies.push(from(
        "15550000001",
        "wamid.15550000001.4",
        base + 400,
        "Hello",
    ));
    bodies.push(from("15550000002", "wamid.old", base - 5_000, "Late"));
    bodies.push(from("15550000003", "wamid.stop", base + 999, "STOP"));
    bodies.push(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "read", base + 10)],
    ));
    bodies.push(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "delivered", base + 5)],
    ));
    let reaction = json!({ "from": CUSTOMER, "id": "wamid.react", "timestamp": base.to_string(),
        "type": "reaction", "reaction": { "message_id": "wamid.OUT", "emoji": "🎉" } });
    bodies.push(messages_webhook(vec![reaction], vec![]));
    let edit = json!({ "from": "15550000001", "id": "wamid.edit", "timestamp": (base + 500).to_string(),
        "type": "edit", "edit": { "original_message_id": "wamid.15550000001.0",
        "message": { "type": "text", "text": { "body": "Hello, edited" } } } });
    bodies.push(messages_webhook(vec![edit], vec![]).replace(CUSTOMER, "15550000001"));
    for body in &bodies {
        assert_eq!(
            app.post_signed(body.clone()).await,
            axum::http::StatusCode::OK
        );
    }

    let taken = switchboard::ingest::apply::apply_pending(&app.pool, 500)
        .await
        .unwrap();
    assert_eq!(taken, bodies.len(), "one batch");

    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events where state = 'applied'")
            .await,
        bodies.len() as i64 + 1
    );
    let inbound: i64 = app
        .scalar("select count(*) from messages where direction = 'inbound'")
        .await;
    assert_eq!(
        inbound,
        15 + 1 + 1 + 1,
        "the duplicate stored once; the edit is not a message"
    );
    let unread: Vec<(String, i32, i64, i64)> = sqlx::query_as(
        "select k.wa_id, c.unread_count, extract(epoch from c.last_customer_message_at)::bigint,
                extract(epoch from c.last_message_at)::bigint
         from conversations c join contacts k on k.id = c.contact_id
         where k.wa_id like '1555000000%' order by k.wa_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        unread,
        [
            ("15550000001".into(), 5, base + 400, base + 400),
            ("15550000002".into(), 6, base + 401, base + 401),
            ("15550000003".into(), 6, base + 999, base + 999),
        ],
        "each new message counted once; the clocks at the newest message, never moved back"
    );
    let opted_out: bool = app
        .scalar("select opted_out_at is not null from contacts where wa_id = '15550000003'")
        .await;
    assert!(opted_out);
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Read);
    let statuses: i64 = app.scalar("select count(*) from message_statuses").await;
    assert_eq!(statuses, 2);
    let edited: String = app
        .scalar("select body from messages where wamid = 'wamid.15550000001.0'")
        .await;
    assert_eq!(edited, "Hello, edited");
    let emoji: String = app.scalar("select emoji from message_reactions").await;
    assert_eq!(emoji, "🎉");
}
