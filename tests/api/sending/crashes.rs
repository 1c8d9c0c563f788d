//! The crash-in-`sending` rule: what a stopped delivery instance left claimed is settled within
//! seconds, queued again if its Graph call never started and `unknown` (never resent
//! automatically) if it did; a live instance's claims are left alone.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

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
async fn a_claim_a_sweep_took_back_is_never_called_by_the_instance_that_lost_it(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    // The number's next slot is 1.5 s away, so the claimed message waits before its call.
    sqlx::query(
        "insert into send_pacing (phone_number_id, next_slot_at)
         values ($1, now() + interval '1.5 seconds')",
    )
    .bind(s.number_id)
    .execute(&s.app.pool)
    .await
    .unwrap();
    let id = s
        .send_text(conversation, "k1", "Hi")
        .await
        .unwrap()
        .message_id;
    s.wait_for(id, MessageStatus::Sending).await;
    // While it waits, a sweep queues it again (as it does when it takes the instance for gone), and
    // the conversation is held back so that nobody claims it again before its slot has passed.
    s.hold(conversation, 3_000).await;
    sqlx::query("update messages set status = 'queued', claimed_by = null where id = $1")
        .bind(id)
        .execute(&s.app.pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    assert_eq!(s.sends(), 0, "the lost claim was called at its slot");
    assert_eq!(
        s.app
            .scalar::<MessageStatus>(&format!("select status from messages where id = {id}"))
            .await,
        MessageStatus::Queued
    );
    // Once the hold ends it is claimed again and sent, once.
    s.wait_for(id, MessageStatus::Sent).await;
    assert_eq!(s.sends(), 1);
}
