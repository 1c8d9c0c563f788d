//! Pacing over real HTTP against the fake Graph API: each number's messages-per-second limit, one
//! number's backlog not holding back another's, and one customer's messages in order.

use chrono::Duration;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

/// `count` customers who wrote an hour ago, one conversation each.
async fn customers(s: &Sending, count: usize) -> Vec<ConversationId> {
    let mut conversations = Vec::new();
    for i in 0..count {
        conversations.push(s.conversation_with(&format!("1555100{i:04}"), 1).await);
    }
    conversations
}

/// Sends one message to each conversation and waits until all are sent; returns the most sends
/// the fake Meta received within any one second.
async fn send_to_all_and_count_the_busiest_second(
    s: &Sending,
    conversations: &[ConversationId],
) -> usize {
    let mut ids = Vec::new();
    for (i, conversation) in conversations.iter().enumerate() {
        let queued = s.send_text(*conversation, &format!("k{i}"), "Sale!").await;
        ids.push(queued.unwrap().message_id);
    }
    for id in ids {
        s.wait_for(id, MessageStatus::Sent).await;
    }
    let mut arrivals: Vec<_> = s
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/messages"))
        .map(|c| c.at)
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), conversations.len());
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|at| **at - arrivals[i] < Duration::seconds(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

async fn limit_every_number_to(s: &Sending, per_second: i32) {
    sqlx::query("update phone_numbers set max_messages_per_second = $1")
        .bind(per_second)
        .execute(&s.app.pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn a_numbers_messages_per_second_limit_is_never_exceeded(pool: PgPool) {
    let s = Sending::new(pool).await;
    limit_every_number_to(&s, 5).await;
    let conversations = customers(&s, 12).await;
    let busiest = send_to_all_and_count_the_busiest_second(&s, &conversations).await;
    assert!(busiest <= 5, "{busiest} sends within one second");
}

#[sqlx::test]
async fn slots_booked_after_waiting_for_another_instance_still_keep_the_limit(pool: PgPool) {
    let s = Sending::new(pool).await;
    limit_every_number_to(&s, 5).await;
    let conversations = customers(&s, 12).await;
    // Another instance holds the number's pacing row for a second, as a slow claim would: the
    // worker's claim waits for it, and must book its slots from when it gets the row, not from
    // when it started (that would put them in the past and send them all at once).
    sqlx::query("insert into send_pacing (phone_number_id, next_slot_at) values ($1, now())")
        .bind(s.number_id)
        .execute(&s.app.pool)
        .await
        .unwrap();
    let mut other_instance = s.app.pool.begin().await.unwrap();
    sqlx::query("select 1 from send_pacing where phone_number_id = $1 for update")
        .bind(s.number_id)
        .execute(&mut *other_instance)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        other_instance.commit().await.unwrap();
    };
    let (busiest, ()) = tokio::join!(
        send_to_all_and_count_the_busiest_second(&s, &conversations),
        release
    );
    assert!(busiest <= 5, "{busiest} sends within one second");
}

#[sqlx::test]
async fn messages_to_one_customer_go_out_in_order(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    s.fail_next(131000).await;
    let first = s
        .send_text(conversation, "k1", "first")
        .await
        .unwrap()
        .message_id;
    let second = s
        .send_text(conversation, "k2", "second")
        .await
        .unwrap()
        .message_id;
    s.wait_for(second, MessageStatus::Sent).await;
    let sent_at: Vec<MessageId> =
        sqlx::query_scalar("select id from messages where direction = 'outbound' order by sent_at")
            .fetch_all(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(
        sent_at,
        [first, second],
        "the retried first message still goes first"
    );
}

#[sqlx::test]
async fn a_busy_numbers_backlog_is_claimed_at_its_pace_and_other_numbers_go_first(pool: PgPool) {
    let s = Sending::new(pool).await;
    sqlx::query("update phone_numbers set max_messages_per_second = 1")
        .execute(&s.app.pool)
        .await
        .unwrap();
    for i in 0..10 {
        let conversation = s.conversation_with(&format!("1555200{i:04}"), 1).await;
        s.send_text(conversation, &format!("campaign-{i}"), "Sale!")
            .await
            .unwrap();
    }
    let other_number = "5566778899001";
    s.app
        .add_number(s.app.tenant_id, s.app.app_id, other_number, WABA_ID, None)
        .await;
    let mut body: Value = serde_json::from_str(&messages_webhook(
        vec![text(
            "wamid.in.other",
            chrono::Utc::now().timestamp() - 60,
            "Hi",
        )],
        vec![],
    ))
    .unwrap();
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!(other_number);
    s.app.deliver(body.to_string()).await;
    let other: ConversationId = sqlx::query_scalar(
        "select c.id from conversations c join phone_numbers n on n.id = c.phone_number_id
         where n.phone_number_id = $1",
    )
    .bind(other_number)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();

    let reply = s.send_text(other, "reply", "Hello!").await.unwrap();
    s.wait_for(reply.message_id, MessageStatus::Sent).await;
    // At 1 message/s, the campaign is taken a slot at a time, not claimed whole ahead of the reply.
    let still_queued: i64 = sqlx::query_scalar(
        "select count(*) from messages where idempotency_key like 'campaign-%' and status = 'queued'",
    )
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert!(
        still_queued >= 5,
        "only {still_queued} of the 10 campaign messages were still queued"
    );
}
