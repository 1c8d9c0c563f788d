//! The admin console's operations page: the webhook backlog and events that need an admin, each
//! number's queue, and the last day's failed sends grouped by reason, in words; only the tenant's.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn operations_show_the_backlog_queues_and_failures_in_words(pool: PgPool) {
    let sending = Sending::new(pool).await;
    let app = &sending.app;
    let mut admin = signed_in_admin(app).await;
    let quiet = admin.get("/admin/operations").await;
    assert_eq!(quiet.status, StatusCode::OK);
    assert!(
        quiet
            .body
            .contains("Every webhook received has been applied.")
    );
    assert!(quiet.body.contains(r#"data-testid="no-failures""#));

    // A send Meta refuses, and an event for a number this workspace does not have.
    let conversation = sending.conversation(1).await;
    sending.fail_next(131026).await;
    let queued = sending
        .send_text(conversation, "ops-1", "Hello?")
        .await
        .unwrap();
    sending
        .wait_for(queued.message_id, MessageStatus::Failed)
        .await;
    let stray = messages_webhook(vec![text("wamid.stray", 1_700_000_000, "Hi")], vec![])
        .replace(PHONE_NUMBER_ID, "7777777777777");
    app.deliver(stray).await;

    let page = admin.get("/admin/operations").await;
    let failures = page.body.split(r#"data-testid="failures""#).nth(1).unwrap();
    assert!(failures.contains("(WhatsApp error 131026)"), "{failures}");
    assert!(
        page.body
            .contains("1 named a number or account this workspace does not have.")
    );
    assert!(page.body.contains("7777777777777"));
    assert!(page.body.contains(r#"data-testid="queue""#));

    // Another tenant's failures and events are not shown.
    let (other, other_app) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    app.add_number(other, other_app, "9990001112223", "8880001112223", None)
        .await;
    sqlx::query(
        "insert into webhook_events (app_id, body, state, unroutable)
         values ($1, '{}', 'unroutable', '{globex-only-id}')",
    )
    .bind(other_app)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = admin.get("/admin/operations").await;
    assert!(!page.body.contains("globex-only-id"));
    assert!(page.body.contains("1 named a number or account"));

    user(app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let mut agent = Client::signed_in(app, "ana@acme.test").await;
    assert_eq!(
        agent.get("/admin/operations").await.status,
        StatusCode::FORBIDDEN
    );
}
