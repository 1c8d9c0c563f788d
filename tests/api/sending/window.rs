//! Sending within WhatsApp's rules: the 24-hour window and templates, checked when a message is
//! queued and again when Meta answers that the window closed.

use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchboard::{
    domain::templates::TemplateStatus, outbox::send::SendRefused, whatsapp::customer_id::CustomerId,
};

use crate::helpers::*;

#[sqlx::test]
async fn free_text_inside_the_window_is_sent_and_ticks_through_delivered_and_read(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    let queued = s
        .send_text(conversation, "k1", "Your order ships today")
        .await
        .unwrap();
    assert!(!queued.duplicate);
    let (status, _) = s.wait_for(queued.message_id, MessageStatus::Read).await;
    assert_eq!(status, MessageStatus::Read);
    let wamid: Option<String> = s
        .app
        .scalar(&format!(
            "select wamid from messages where id = {}",
            queued.message_id
        ))
        .await;
    assert!(wamid.is_some_and(|w| w.starts_with("wamid.")));
    assert_eq!(s.sends(), 1);
}

#[sqlx::test]
async fn free_text_is_refused_when_the_window_closed_and_approved_templates_are_offered(
    pool: PgPool,
) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    s.template(
        "seguimiento",
        "es",
        "UTILITY",
        json!([{ "type": "BODY", "text": "Hola {{1}}" }]),
    )
    .await;
    s.paused_template("paused_one").await;
    let conversation = s.conversation(25).await;
    sqlx::query("update contacts set language = 'es'")
        .execute(&s.app.pool)
        .await
        .unwrap();

    let refused = refusal(s.send_text(conversation, "k1", "Hello again").await);
    let SendRefused::WindowClosed {
        since, templates, ..
    } = &refused
    else {
        panic!("{refused:?}")
    };
    assert!(
        (Utc::now() - Duration::hours(1) - *since)
            .num_seconds()
            .abs()
            < 60,
        "closed an hour ago"
    );
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["seguimiento", "order_update"],
        "approved only, the contact's language first"
    );
    assert!(
        !templates[1].variables.is_empty(),
        "the form knows the variables"
    );
    assert!(refused.to_string().contains("24-hour window closed"));
    assert_eq!(
        s.app
            .scalar::<i64>("select count(*) from messages where direction = 'outbound'")
            .await,
        0
    );
    assert_eq!(s.sends(), 0);
}

#[sqlx::test]
async fn the_window_closes_at_exactly_24_hours_by_the_send_paths_clock(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(0).await;
    let last: chrono::DateTime<Utc> = s
        .app
        .scalar("select last_customer_message_at from conversations")
        .await;
    s.clock
        .set(last + Duration::hours(24) - Duration::seconds(1));
    assert!(
        s.send_text(conversation, "k1", "just in time")
            .await
            .is_ok()
    );
    s.clock.set(last + Duration::hours(24));
    assert!(matches!(
        refusal(s.send_text(conversation, "k2", "too late").await),
        SendRefused::WindowClosed { .. }
    ));
}

#[sqlx::test]
async fn a_customer_who_never_wrote_gets_templates_only(pool: PgPool) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    let mut conn = s.app.pool.acquire().await.unwrap();
    let customer = CustomerId::WaId("15550002222".into());
    let conversation = switchboard::domain::conversations::find_or_create_for(
        &mut conn,
        s.app.tenant_id,
        s.number_id,
        &customer,
    )
    .await
    .unwrap();
    let refused = refusal(s.send_text(conversation, "k1", "Hi!").await);
    assert!(
        matches!(&refused, SendRefused::WindowNeverOpened { templates } if templates.len() == 1),
        "{refused:?}"
    );

    let queued = s
        .send(
            conversation,
            "k2",
            template("order_update", "en_US", order_update_params()),
        )
        .await
        .unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
}

#[sqlx::test]
async fn template_problems_are_caught_before_calling_meta(pool: PgPool) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    s.paused_template("paused_one").await;
    let conversation = s.conversation(30).await;

    let missing = refusal(
        s.send(conversation, "k1", template("nope", "en_US", json!([])))
            .await,
    );
    assert!(
        matches!(missing, SendRefused::TemplateMissing { .. }),
        "{missing:?}"
    );
    let not_approved = refusal(
        s.send(
            conversation,
            "k2",
            template("paused_one", "en_US", json!([])),
        )
        .await,
    );
    assert!(
        matches!(not_approved, SendRefused::TemplateNotApproved { status, .. } if status == TemplateStatus::Paused)
    );
    let one_param = json!([{ "type": "body", "parameters": [{ "type": "text", "text": "Dana" }] }]);
    let mismatch = refusal(
        s.send(
            conversation,
            "k3",
            template("order_update", "en_US", one_param),
        )
        .await,
    );
    let SendRefused::TemplateMismatch(problem) = &mismatch else {
        panic!("{mismatch:?}")
    };
    assert_eq!(problem.code, 132000);
    assert!(
        mismatch.to_string().contains("body"),
        "names the component: {mismatch}"
    );
    assert_eq!(s.sends(), 0);
    assert_eq!(
        s.app
            .scalar::<i64>("select count(*) from messages where direction = 'outbound'")
            .await,
        0
    );
}

#[sqlx::test]
async fn when_meta_says_the_window_closed_although_our_clock_disagreed_templates_are_offered(
    pool: PgPool,
) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    // The customer wrote 25 hours ago by Meta's (the fake's real) clock, but our clock is 2 hours behind.
    let conversation = s.conversation(25).await;
    s.clock.set(Utc::now() - Duration::hours(2));
    let queued = s
        .send_text(conversation, "k1", "Are you still there?")
        .await
        .unwrap();
    let (status, code) = s.wait_for(queued.message_id, MessageStatus::Failed).await;
    assert_eq!((status.as_str(), code), ("failed", Some(131047)));
    // From now on the composer gets the template path, even with our lagging clock.
    let refused = refusal(s.send_text(conversation, "k2", "Hello?").await);
    assert!(
        matches!(&refused, SendRefused::WindowClosed { templates, .. } if templates.len() == 1),
        "{refused:?}"
    );
}

#[sqlx::test]
async fn a_synchronous_131047_also_closes_the_window(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    s.fail_next(131047).await;
    let queued = s.send_text(conversation, "k1", "Hi").await.unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await,
        (MessageStatus::Failed, Some(131047))
    );
    let (_, _, message) = s.error(queued.message_id).await;
    assert!(
        message.to_lowercase().contains("template"),
        "tells the agent what to do: {message}"
    );
    assert!(matches!(
        refusal(s.send_text(conversation, "k2", "Hi?").await),
        SendRefused::WindowClosed { .. }
    ));
}
