//! The send path over real HTTP against the fake Graph API: the window, templates, errors and
//! retries, idempotency, the crash-in-`sending` rule.

use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchboard::{
    domain::templates::TemplateStatus,
    outbox::send::{SendError, SendRefused},
    whatsapp::customer_id::CustomerId,
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
    let message: String = s
        .app
        .scalar(&format!(
            "select error_message from messages where id = {}",
            queued.message_id
        ))
        .await;
    assert!(
        message.to_lowercase().contains("template"),
        "tells the agent what to do: {message}"
    );
    assert!(matches!(
        refusal(s.send_text(conversation, "k2", "Hi?").await),
        SendRefused::WindowClosed { .. }
    ));
}

#[sqlx::test]
async fn transient_errors_are_retried_until_the_message_goes_out(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    for code in [131000, 130429, 80007, 131016] {
        s.fail_next(code).await;
    }
    let queued = s.send_text(conversation, "k1", "Hello").await.unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    let attempts: i32 = s
        .app
        .scalar(&format!(
            "select attempts from messages where id = {}",
            queued.message_id
        ))
        .await;
    assert_eq!(attempts, 5);
    assert_eq!(s.sends(), 5);
}

#[sqlx::test]
async fn transient_errors_give_up_after_the_attempt_limit(pool: PgPool) {
    let s = Sending::with_config(pool, |c| c.max_attempts = 3).await;
    let conversation = s.conversation(1).await;
    for _ in 0..5 {
        s.fail_next(131000).await;
    }
    let queued = s.send_text(conversation, "k1", "Hello").await.unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await,
        (MessageStatus::Failed, Some(131000))
    );
    assert_eq!(s.sends(), 3);
}

#[sqlx::test]
async fn permanent_errors_fail_at_once_with_an_explanation(pool: PgPool) {
    let s = Sending::new(pool).await;
    for (i, code) in [131026, 190, 131048, 368, 131031].into_iter().enumerate() {
        let conversation = s.conversation_with(&format!("1555000{i:04}"), 1).await;
        s.fail_next(code).await;
        let queued = s
            .send_text(conversation, &format!("k{code}"), "Hello")
            .await
            .unwrap();
        assert_eq!(
            s.wait_for(queued.message_id, MessageStatus::Failed).await,
            (MessageStatus::Failed, Some(code as i32))
        );
        let (title, message): (String, String) =
            sqlx::query_as("select error_title, error_message from messages where id = $1")
                .bind(queued.message_id)
                .fetch_one(&s.app.pool)
                .await
                .unwrap();
        assert!(
            !title.is_empty() && message.len() > 20,
            "{code}: an explanation, not a bare code"
        );
    }
    assert_eq!(s.sends(), 5, "no retries");
}

#[sqlx::test]
async fn the_pair_rate_limit_backs_off_for_that_recipient_only(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    s.fail_next(131056).await;
    let queued = s.send_text(conversation, "k1", "one").await.unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    let paused: Option<chrono::DateTime<Utc>> = s
        .app
        .scalar("select send_paused_until from conversations")
        .await;
    assert!(paused.is_some(), "the recipient was paused");
    assert_eq!(s.sends(), 2);
}

#[sqlx::test]
async fn a_repeated_request_returns_the_same_message_and_calls_meta_once(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    let attempts = (0..10).map(|_| s.send_text(conversation, "double-click", "Thanks!"));
    let results: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ids: std::collections::HashSet<MessageId> = results.iter().map(|q| q.message_id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|q| !q.duplicate).count(), 1);
    let id = results[0].message_id;
    s.wait_for(id, MessageStatus::Read).await;
    // A client retry much later still gets the same message.
    assert_eq!(
        s.send_text(conversation, "double-click", "Thanks!")
            .await
            .unwrap()
            .message_id,
        id
    );
    assert_eq!(s.sends(), 1);
    assert_eq!(
        s.app
            .scalar::<i64>("select count(*) from messages where direction = 'outbound'")
            .await,
        1
    );
}

/// A [`Sending`] whose instances beat every 100 ms and count as gone after 500 ms of silence.
async fn settling_fast(pool: PgPool) -> Sending {
    Sending::with_config(pool, |c| {
        c.instance_stale = std::time::Duration::from_millis(500);
        c.heartbeat = std::time::Duration::from_millis(100);
    })
    .await
}

/// A message a crashed instance left `sending` (claimed by it as attempt 1), its Graph call
/// started or not.
async fn left_sending(s: &Sending, conversation: ConversationId, call_started: bool) -> MessageId {
    let dead: i64 = s
        .app
        .scalar("insert into outbox_instances (heartbeat_at) values (now() - interval '1 hour') returning id")
        .await;
    sqlx::query_scalar(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body, content,
             status, attempts, sending_started_at, claimed_by, call_started_at)
         select tenant_id, id, phone_number_id, 'outbound', 'text', 'Hi', $2, 'sending', 1, now(), $3,
             case when $4 then now() end
         from conversations where id = $1 returning id",
    )
    .bind(conversation)
    .bind(json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": { "body": "Hi" } }))
    .bind(dead)
    .bind(call_started)
    .fetch_one(&s.app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_message_whose_call_started_before_a_crash_becomes_unknown_and_is_not_resent(
    pool: PgPool,
) {
    // Settled because its instance is gone, long before a call could time out.
    let s = settling_fast(pool).await;
    let conversation = s.conversation(1).await;
    let id = left_sending(&s, conversation, true).await;
    assert_eq!(
        s.wait_for(id, MessageStatus::Unknown).await.0,
        MessageStatus::Unknown
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.sends(), 0, "never resent automatically");

    // The agent checked and retries: that really sends again.
    s.retry(id).await.unwrap();
    assert_eq!(
        s.wait_for(id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    assert_eq!(s.sends(), 1);
}

#[sqlx::test]
async fn a_message_claimed_but_never_called_before_a_crash_is_sent_once(pool: PgPool) {
    let s = settling_fast(pool).await;
    let conversation = s.conversation(1).await;
    let id = left_sending(&s, conversation, false).await;
    assert_eq!(
        s.wait_for(id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    assert_eq!(s.sends(), 1);
}

#[sqlx::test]
async fn a_live_instances_claims_are_left_alone(pool: PgPool) {
    let s = settling_fast(pool).await;
    let conversation = s.conversation(1).await;
    let id = left_sending(&s, conversation, true).await;
    sqlx::query("update outbox_instances set heartbeat_at = now() + interval '1 hour'")
        .execute(&s.app.pool)
        .await
        .unwrap();
    sqlx::query(
        "update messages set claimed_by = (select max(id) from outbox_instances) where id = $1",
    )
    .bind(id)
    .execute(&s.app.pool)
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        s.wait_for(id, MessageStatus::Sending).await.0,
        MessageStatus::Sending
    );
}

#[sqlx::test]
async fn an_agent_can_retry_a_failed_message(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    s.fail_next(131026).await;
    let queued = s.send_text(conversation, "k1", "Hello").await.unwrap();
    s.wait_for(queued.message_id, MessageStatus::Failed).await;
    s.retry(queued.message_id).await.unwrap();
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    assert_eq!(s.sends(), 2);
    let again = s.retry(queued.message_id).await;
    assert!(matches!(
        again,
        Err(SendError::Refused(SendRefused::NotRetryable))
    ));
}
