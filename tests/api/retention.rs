//! Retention: applied and dismissed webhook events past their retention are deleted, in batches;
//! failed and unroutable ones wait for an admin, and what the events produced stays.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sqlx::PgPool;
use switchboard::ingest::retention;

use crate::{helpers::*, inbox::*};

#[sqlx::test]
async fn old_applied_events_go_and_everything_an_admin_must_see_stays(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // 2,500 old applied events (more than one batch), one old failed, one old unroutable, one
    // old dismissed, and a message that arrived now.
    sqlx::query(
        "insert into webhook_events (app_id, body, received_at, state)
         select $1, '{}', now() - interval '40 days' + make_interval(secs => g), 'applied'
         from generate_series(1, 2500) g",
    )
    .bind(app.app_id)
    .execute(&app.pool)
    .await
    .unwrap();
    for state in ["failed", "unroutable", "dismissed"] {
        sqlx::query(
            "insert into webhook_events (app_id, body, received_at, state)
             values ($1, '{}', now() - interval '40 days', $2)",
        )
        .bind(app.app_id)
        .bind(state)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    customer_writes(&app, "wamid.recent", "Still here", 1).await;

    let deleted = retention::prune(&app.pool, Utc::now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(deleted, 2501, "the applied ones and the dismissed one");
    let left: Vec<(String,)> = sqlx::query_as("select state from webhook_events order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        left,
        [
            ("failed".into(),),
            ("unroutable".into(),),
            ("applied".into(),)
        ]
    );
    let messages: i64 = app.scalar("select count(*) from messages").await;
    assert_eq!(messages, 1);
    let again = retention::prune(&app.pool, Utc::now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(again, 0);
}

#[sqlx::test]
async fn an_admin_dismisses_an_event_that_needs_no_replay(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(vec![text("wamid.x", 1_700_000_000, "Hi")], vec![])
        .replace(PHONE_NUMBER_ID, "9999999999999");
    app.deliver(body).await;
    let event: i64 = app
        .scalar("select id from webhook_events where state = 'unroutable'")
        .await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let page = admin.get("/admin/numbers").await;
    assert!(
        page.body
            .contains(&format!("/admin/events/{event}/dismiss"))
    );
    let dismissed = admin
        .post_form(
            &format!("/admin/events/{event}/dismiss"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::SEE_OTHER);
    let state: String = app
        .scalar(&format!(
            "select state from webhook_events where id = {event}"
        ))
        .await;
    assert_eq!(state, "dismissed");
    let page = admin.get("/admin/numbers").await;
    assert!(
        !page
            .body
            .contains(&format!("/admin/events/{event}/dismiss"))
    );
    let again = admin
        .post_form(
            &format!("/admin/events/{event}/dismiss"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "nothing left to dismiss"
    );
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'webhook.dismiss'")
        .await;
    assert_eq!(audited, 1);
}

/// The log of delivery statuses goes too; each message keeps the status it reached.
#[sqlx::test]
async fn old_delivery_statuses_go_and_their_messages_keep_their_ticks(pool: PgPool) {
    let sending = Sending::new(pool).await;
    let app = &sending.app;
    let conversation = sending.conversation(1).await;
    let queued = sending
        .send_text(conversation, "retention-1", "Your parcel left")
        .await
        .unwrap();
    sending
        .wait_for(queued.message_id, MessageStatus::Sent)
        .await;
    let sent = queued.message_id;
    let wamid: String = app
        .scalar(&format!("select wamid from messages where id = {sent}"))
        .await;
    // The fake Meta reports sent, delivered and read; all of them are in before pruning starts.
    sending.wait_for_all_ticks(&wamid).await;
    sqlx::query(
        "insert into message_statuses (tenant_id, phone_number_id, wamid, status,
                                       meta_timestamp, received_at, raw)
         select tenant_id, id, 'wamid.old' || g, 'delivered', now() - interval '40 days',
                now() - interval '40 days', '{}'
         from phone_numbers, generate_series(1, 1500) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let deleted = retention::prune_statuses(&app.pool, Utc::now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(deleted, 1500);
    assert_eq!(
        app.scalar::<i64>(
            "select count(*) from message_statuses where received_at < now() - interval '1 day'"
        )
        .await,
        0,
        "only the recent ones are left"
    );
    assert!(
        app.scalar::<i64>("select count(*) from message_statuses")
            .await
            > 0
    );
    let status: String = app
        .scalar(&format!("select status from messages where id = {sent}"))
        .await;
    assert_eq!(status, "read");
    // Once they too are past it, the message still says read.
    retention::prune_statuses(&app.pool, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_statuses")
            .await,
        0
    );
    let status: String = app
        .scalar(&format!("select status from messages where id = {sent}"))
        .await;
    assert_eq!(status, "read");
}
