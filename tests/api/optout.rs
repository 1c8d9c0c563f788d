//! Opt-out: STOP keywords, marketing templates refused, START to come back.

use serde_json::json;
use sqlx::PgPool;
use switchboard::{
    domain::tenants,
    outbox::send::{SendError, SendRefused},
    whatsapp::outbound::Outbound,
};

use crate::helpers::*;

fn sale() -> Outbound {
    Outbound::Template {
        name: "spring_sale".into(),
        language: "en_US".into(),
        components: json!([{ "type": "body", "parameters": [{ "type": "text", "text": "Dana" }] }]),
    }
}

async fn say(s: &Sending, wamid: &str, ts: i64, words: &str) {
    s.app
        .deliver(messages_webhook(vec![text(wamid, ts, words)], vec![]))
        .await;
}

async fn opted_out(s: &Sending) -> bool {
    s.app
        .scalar::<Option<chrono::DateTime<chrono::Utc>>>("select opted_out_at from contacts")
        .await
        .is_some()
}

#[sqlx::test]
async fn stop_opts_out_of_marketing_templates_and_start_opts_back_in(pool: PgPool) {
    let s = Sending::new(pool).await;
    s.template(
        "spring_sale",
        "en_US",
        "MARKETING",
        json!([{ "type": "BODY", "text": "Hi {{1}}, sale!" }]),
    )
    .await;
    s.template(
        "receipt",
        "en_US",
        "UTILITY",
        json!([{ "type": "BODY", "text": "Your receipt" }]),
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let conversation = s.conversation(1).await;

    say(&s, "wamid.stop", now - 100, "  stop ").await;
    assert!(opted_out(&s).await);
    let refused = s.send(conversation, "k1", sale()).await;
    assert!(
        matches!(refused, Err(SendError::Refused(SendRefused::OptedOut))),
        "{refused:?}"
    );
    let receipt = Outbound::Template {
        name: "receipt".into(),
        language: "en_US".into(),
        components: json!([]),
    };
    assert!(
        s.send(conversation, "k2", receipt).await.is_ok(),
        "utility templates still go"
    );

    say(&s, "wamid.start", now - 50, "START").await;
    assert!(!opted_out(&s).await);
    assert!(s.send(conversation, "k3", sale()).await.is_ok());
}

#[sqlx::test]
async fn a_late_stop_does_not_undo_a_newer_start(pool: PgPool) {
    let s = Sending::new(pool).await;
    let now = chrono::Utc::now().timestamp();
    s.conversation(1).await;
    say(&s, "wamid.start", now - 50, "START").await;
    say(&s, "wamid.stop", now - 100, "STOP").await;
    assert!(!opted_out(&s).await);
}

#[sqlx::test]
async fn keywords_are_configurable_per_tenant(pool: PgPool) {
    let s = Sending::new(pool).await;
    let mut conn = s.app.pool.acquire().await.unwrap();
    tenants::set_keywords(
        &mut conn,
        s.app.tenant_id,
        None,
        &["BAJA".into()],
        &["ALTA".into()],
    )
    .await
    .unwrap()
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    s.conversation(1).await;
    say(&s, "wamid.1", now - 90, "STOP").await;
    assert!(!opted_out(&s).await, "STOP is no longer a keyword here");
    say(&s, "wamid.2", now - 80, "Baja").await;
    assert!(opted_out(&s).await);
    say(&s, "wamid.3", now - 70, "alta").await;
    assert!(!opted_out(&s).await);
}
