//! What endpoints are sent: Switchboard's events, made in the transaction of their change and
//! signed with a timestamp; Meta's payloads, byte for byte, re-signed as Meta signs.

use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::{
    domain::{
        messages::SentBy,
        teamwork::{self, Actor},
        webhook_endpoints::Format,
    },
    outbound_webhooks::signing,
    whatsapp,
};

use super::*;

#[sqlx::test]
async fn a_customers_message_and_the_teams_work_become_signed_events(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (_, secret) = endpoint(
        &app,
        &url,
        Format::Switchboard,
        &[
            "message.received",
            "conversation.assigned",
            "conversation.status",
        ],
    )
    .await;
    let conversation = customer_writes(&app, "wamid.e1", "Where is my parcel?", 1).await;
    let ana = user(&app, app.tenant_id, "ana@example.com", "Ana").await;
    let mut conn = app.pool.acquire().await.unwrap();
    let actor = Actor {
        tenant_id: app.tenant_id,
        by: SentBy::Agent(ana),
    };
    teamwork::assign(&mut conn, actor, conversation, Some(ana))
        .await
        .unwrap();
    teamwork::set_status(
        &mut conn,
        actor,
        conversation,
        switchboard::domain::conversations::ConversationStatus::Resolved,
    )
    .await
    .unwrap();
    drop(conn);

    deliver_all(&deliverer(&app)).await;
    assert_eq!(
        receiver.types(),
        [
            "message.received",
            "conversation.assigned",
            "conversation.status"
        ],
        "in the order they happened"
    );
    let got = receiver.got();
    let now = chrono::Utc::now().timestamp();
    for request in &got {
        let signature = request.header("switchboard-signature");
        assert_eq!(
            signing::verify(secret.as_bytes(), signature, &request.body, now),
            Ok(()),
            "{signature}"
        );
        assert_eq!(request.header("switchboard-event-id"), request.json()["id"]);
        assert_eq!(request.header("content-type"), "application/json");
    }
    let received = got[0].json();
    assert_eq!(
        received["data"]["message"]["content"]["text"]["body"],
        "Where is my parcel?"
    );
    assert_eq!(received["data"]["message"]["direction"], "inbound");
    assert_eq!(received["data"]["contact"]["wa_id"], CUSTOMER);
    assert_eq!(received["data"]["conversation"]["id"], conversation.get());
    assert_eq!(
        received["data"]["conversation"]["phone_number_id"],
        PHONE_NUMBER_ID
    );
    assert_eq!(
        got[1].json()["data"]["conversation"]["assignee_id"],
        ana.get()
    );
    assert_eq!(got[2].json()["data"]["conversation"]["status"], "resolved");
    // Another signature (another secret) does not verify.
    assert!(
        signing::verify(
            b"whsec_other",
            got[0].header("switchboard-signature"),
            &got[0].body,
            now
        )
        .is_err()
    );
}

#[sqlx::test]
async fn an_agents_reply_and_its_ticks_become_events(pool: PgPool) {
    let sending = Sending::new(pool).await;
    let app = &sending.app;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(
        app,
        &url,
        Format::Switchboard,
        &["message.sent_by_agent", "message.status"],
    )
    .await;
    let conversation = sending.conversation(1).await;
    let ana = user(app, app.tenant_id, "ana@example.com", "Ana").await;
    let request = switchboard::outbox::send::SendRequest {
        to: switchboard::outbox::send::SendTo::Conversation(conversation),
        content: switchboard::whatsapp::outbound::Outbound::Text {
            body: "On its way!".into(),
            preview_url: false,
        },
        reply_to: None,
        idempotency_key: "agent-reply".into(),
        sent_by: SentBy::Agent(ana),
    };
    sending.service.send(app.tenant_id, request).await.unwrap();
    // The fake Meta answers, then sends delivered and read by webhook.
    let deliverer = deliverer(app);
    let mut statuses = Vec::new();
    for _ in 0..100 {
        deliver_all(&deliverer).await;
        statuses = receiver
            .got()
            .iter()
            .map(|r| r.json())
            .filter(|e| e["type"] == "message.status")
            .map(|e| {
                e["data"]["message"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        if statuses.last().map(String::as_str) == Some("read") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = receiver.got()[0].json();
    assert_eq!(first["type"], "message.sent_by_agent");
    assert_eq!(first["data"]["message"]["sent_by"], "Ana");
    assert_eq!(
        first["data"]["message"]["content"]["text"]["body"],
        "On its way!"
    );
    // Each time the message's status moved on, in order. The fake's delivered and read come a
    // moment apart, and when the appliers take both in one batch the message moves once, to read
    // (as the inbox shows it): delivered is then not an event of its own.
    assert!(
        statuses.ends_with(&["sent".to_owned(), "delivered".to_owned(), "read".to_owned()])
            || statuses.ends_with(&["sent".to_owned(), "read".to_owned()]),
        "each tick as it happened: {statuses:?}"
    );
}

#[sqlx::test]
async fn an_endpoint_gets_only_the_events_it_took(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(&app, &url, Format::Switchboard, &["conversation.status"]).await;
    customer_writes(&app, "wamid.o1", "Hello", 1).await;
    deliver_all(&deliverer(&app)).await;
    assert!(receiver.got().is_empty(), "{:?}", receiver.types());
    let queued: i64 = app.scalar("select count(*) from webhook_deliveries").await;
    assert_eq!(queued, 0);
}

#[sqlx::test]
async fn metas_payloads_are_forwarded_byte_for_byte_and_signed_as_meta_signs(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (_, secret) = endpoint(&app, &url, Format::Meta, &[]).await;
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/webhooks/bindambc__message_audio.json"
    ))
    .unwrap();
    let mut payload: Value = serde_json::from_slice(&raw).unwrap();
    // Addressed to this tenant's number and WABA, spaced as Meta spaces it.
    payload["entry"][0]["id"] = json!(WABA_ID);
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] =
        json!(PHONE_NUMBER_ID);
    let body = serde_json::to_string_pretty(&payload).unwrap();
    app.deliver(body.clone()).await;
    deliver_all(&deliverer(&app)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body.as_ref(), body.as_bytes(), "as Meta sent it");
    let signature = got[0].header("x-hub-signature-256");
    assert_eq!(
        whatsapp::signature::verify(secret.as_bytes(), Some(signature), &got[0].body),
        Ok(())
    );
    assert_ne!(
        whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes()),
        signature,
        "re-signed with the endpoint's secret, not the app's"
    );
}

#[sqlx::test]
async fn windows_about_to_close_and_closed_are_told_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(
        &app,
        &url,
        Format::Switchboard,
        &["conversation.window_closing", "conversation.window_closed"],
    )
    .await;
    let closing = customer_writes_as(&app, "15550000001", "wamid.w1", "Hi", 0).await;
    let closed = customer_writes_as(&app, "15550000002", "wamid.w2", "Hi", 0).await;
    let answered = customer_writes_as(&app, "15550000003", "wamid.w3", "Hi", 0).await;
    // Move their windows in time: 23.5 h old, 24.5 h old, and 23.5 h old but answered.
    sqlx::query(
        "update conversations set
             last_customer_message_at = now() - case id when $1 then interval '23.5 hours'
                                                         when $2 then interval '24.5 hours'
                                                         else interval '23.5 hours' end,
             last_reply_at = case id when $3 then now() - interval '23 hours' end",
    )
    .bind(closing)
    .bind(closed)
    .bind(answered)
    .execute(&app.pool)
    .await
    .unwrap();
    let deliverer = deliverer(&app);
    deliverer.housekeep().await.unwrap();
    deliverer.housekeep().await.unwrap();
    deliver_all(&deliverer).await;
    let events: Vec<(String, i64)> = receiver
        .got()
        .iter()
        .map(|r| {
            let event = r.json();
            (
                event["type"].as_str().unwrap().to_owned(),
                event["data"]["conversation"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![
        ("conversation.window_closing".to_owned(), closing.get()),
        ("conversation.window_closed".to_owned(), closed.get()),
    ];
    expected.sort();
    let mut events = events;
    events.sort();
    assert_eq!(
        events, expected,
        "once each; an answered customer is not waiting"
    );
    let closed_event = receiver
        .got()
        .into_iter()
        .map(|r| r.json())
        .find(|e| e["type"] == "conversation.window_closed")
        .unwrap();
    assert_eq!(closed_event["data"]["window"]["reason"], "expired");
}

#[sqlx::test]
async fn a_templates_review_is_told(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(&app, &url, Format::Switchboard, &["template.status"]).await;
    let update = envelope(
        WABA_ID,
        Some(chrono::Utc::now().timestamp()),
        vec![
            json!({ "field": "message_template_status_update", "value": {
            "event": "APPROVED", "message_template_id": 806312974732579_i64,
            "message_template_name": "order_update", "message_template_language": "en_US",
            "reason": "NONE" } }),
        ],
    );
    app.deliver(update).await;
    deliver_all(&deliverer(&app)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    let template = &got[0].json()["data"]["template"];
    assert_eq!(template["name"], "order_update");
    assert_eq!(template["status"], "APPROVED");
    assert_eq!(template["meta_template_id"], "806312974732579");
}
