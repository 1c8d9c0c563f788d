//! Failures and refusals in an agent's words, whichever way they arrive: Meta's direct answer, a
//! `failed` status webhook (before or after Meta's answer is recorded), or the send service itself.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::{
    domain::tenants, ingest::apply::sync_message_statuses, outbox::send::SendRefused,
    whatsapp::errors,
};

use crate::helpers::*;

fn failed(wamid: &str, code: i64, title: &str) -> Value {
    let mut failed = status(wamid, "failed", Utc::now().timestamp());
    failed["errors"] = json!([{ "code": code, "title": title, "message": title,
        "error_data": { "details": title } }]);
    failed
}

async fn window_closed_by_meta(app: &TestApp) -> bool {
    app.scalar::<Option<chrono::DateTime<Utc>>>(
        "select window_closed_by_meta_at from conversations",
    )
    .await
    .is_some()
}

#[sqlx::test]
async fn a_failure_reported_by_webhook_reads_in_plain_words(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    app.deliver(messages_webhook(
        vec![],
        vec![failed("wamid.OUT", 131026, "Message undeliverable")],
    ))
    .await;
    let (code, title, message): (i32, String, String) = sqlx::query_as(
        "select error_code, error_title, error_message from messages where wamid = 'wamid.OUT'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let entry = errors::info(131026).unwrap();
    assert_eq!((code, title.as_str()), (131026, entry.title));
    assert!(message.starts_with(entry.explanation), "{message}");
    assert!(message.ends_with(entry.action), "{message}");
}

#[sqlx::test]
async fn a_131047_status_closes_the_window(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    app.deliver(messages_webhook(
        vec![],
        vec![failed("wamid.OUT", 131047, "Re-engagement message")],
    ))
    .await;
    assert!(window_closed_by_meta(&app).await);
}

#[sqlx::test]
async fn a_131047_status_that_arrives_before_metas_answer_is_recorded_closes_the_window(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![],
        vec![failed("wamid.EARLY", 131047, "Re-engagement message")],
    ))
    .await;
    // The send path then records the wamid Meta answered with, and syncs.
    let id = app.outbound_message("wamid.PENDING").await;
    sqlx::query("update messages set wamid = 'wamid.EARLY' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(!window_closed_by_meta(&app).await);
    let number_id: NumberId = app.scalar("select id from phone_numbers").await;
    let mut conn = app.pool.acquire().await.unwrap();
    sync_message_statuses(&mut conn, &[number_id], &["wamid.EARLY".into()])
        .await
        .unwrap();

    assert_eq!(
        app.message_status("wamid.EARLY").await,
        MessageStatus::Failed
    );
    assert!(window_closed_by_meta(&app).await);
}

#[sqlx::test]
async fn a_131050_status_opts_the_customer_out_of_marketing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    app.deliver(messages_webhook(
        vec![],
        vec![failed(
            "wamid.OUT",
            131050,
            "User stopped marketing messages",
        )],
    ))
    .await;
    let opted_out: Option<chrono::DateTime<Utc>> =
        app.scalar("select opted_out_at from contacts").await;
    assert!(opted_out.is_some());
}

#[sqlx::test]
async fn after_meta_refuses_inside_our_window_the_agent_is_told_what_happened(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(0).await;
    s.fail_next(131047).await;
    let queued = s.send_text(conversation, "k1", "Hi").await.unwrap();
    s.wait_for(queued.message_id, MessageStatus::Failed).await;
    let (_, _, message) = s.error(queued.message_id).await;
    assert!(message.contains("WhatsApp refused"), "{message}");
    assert!(
        !message.contains("more than 24 hours"),
        "the customer wrote minutes ago: {message}"
    );

    let refused = refusal(s.send_text(conversation, "k2", "Hello?").await);
    assert!(
        refused.to_string().contains("WhatsApp refused"),
        "{refused}"
    );
    assert!(!refused.to_string().contains("more than 24 hours"));
}

#[sqlx::test]
async fn a_key_reused_for_a_different_message_is_a_conflict(pool: PgPool) {
    let s = Sending::new(pool).await;
    let first = s.conversation(1).await;
    let other = s.conversation_with("15550002222", 1).await;
    let queued = s.send_text(first, "key-1", "Thanks!").await.unwrap();

    let same = s.send_text(first, "key-1", "Thanks!").await.unwrap();
    assert_eq!((same.message_id, same.duplicate), (queued.message_id, true));
    for attempt in [
        s.send_text(first, "key-1", "Something else").await,
        s.send_text(other, "key-1", "Thanks!").await,
    ] {
        let refused = refusal(attempt);
        assert!(
            matches!(refused, SendRefused::IdempotencyConflict { message_id } if message_id == queued.message_id),
            "{refused:?}"
        );
        assert_eq!(refused.code(), "idempotency_conflict");
    }
    assert_eq!(
        s.app
            .scalar::<i64>("select count(*) from messages where direction = 'outbound'")
            .await,
        1
    );
}

#[sqlx::test]
async fn a_refusal_without_synced_templates_says_how_to_sync_them(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(30).await;
    let refused = refusal(s.send_text(conversation, "k1", "Hello?").await);
    assert!(refused.templates().is_empty());
    assert_eq!(
        (refused.code(), refused.meta_code()),
        ("window_closed", Some(131047))
    );
    assert!(
        refused.to_string().contains("switchboard templates sync"),
        "{refused}"
    );
}

#[sqlx::test]
async fn templates_are_offered_in_the_tenants_language_when_the_customers_is_unknown(pool: PgPool) {
    let s = Sending::new(pool).await;
    let body = json!([{ "type": "BODY", "text": "Hola" }]);
    s.template("aviso", "es", "UTILITY", body.clone()).await;
    s.template("notice", "en_US", "UTILITY", body.clone()).await;
    s.template("avis", "fr", "UTILITY", body).await;
    let conversation = s.conversation(30).await;
    let names = |refused: SendRefused| -> Vec<String> {
        refused.templates().iter().map(|t| t.name.clone()).collect()
    };

    let refused = refusal(s.send_text(conversation, "k1", "Hi").await);
    assert_eq!(
        names(refused),
        ["notice", "avis", "aviso"],
        "English by default"
    );

    let mut conn = s.app.pool.acquire().await.unwrap();
    tenants::set_default_language(&mut conn, s.app.tenant_id, None, "es")
        .await
        .unwrap()
        .unwrap();
    let refused = refusal(s.send_text(conversation, "k2", "Hi").await);
    assert_eq!(names(refused), ["aviso", "avis", "notice"]);

    sqlx::query("update contacts set language = 'fr'")
        .execute(&s.app.pool)
        .await
        .unwrap();
    let refused = refusal(s.send_text(conversation, "k3", "Hi").await);
    assert_eq!(
        names(refused),
        ["avis", "aviso", "notice"],
        "the customer's first"
    );
}
