//! Pacing over real HTTP against the fake Graph API: each number's messages-per-second limit, one
//! number's backlog not holding back another's, and one customer's messages in order.

use chrono::Duration;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test]
async fn a_numbers_messages_per_second_limit_is_never_exceeded(pool: PgPool) {
    let s = Sending::new(pool).await;
    sqlx::query("update phone_numbers set max_messages_per_second = 5")
        .execute(&s.app.pool)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let conversation = s.conversation_with(&format!("1555100{i:04}"), 1).await;
        ids.push(
            s.send_text(conversation, &format!("k{i}"), "Sale!")
                .await
                .unwrap()
                .message_id,
        );
    }
    for id in ids {
        s.wait_for(id, "sent").await;
    }
    let mut arrivals: Vec<_> = s
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/messages"))
        .map(|c| c.at)
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), 12);
    for (i, start) in arrivals.iter().enumerate() {
        let within_a_second = arrivals[i..]
            .iter()
            .take_while(|at| **at - *start < Duration::seconds(1))
            .count();
        assert!(
            within_a_second <= 5,
            "{within_a_second} sends within one second"
        );
    }
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
    s.wait_for(second, "sent").await;
    let sent_at: Vec<i64> =
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
    let other: i64 = sqlx::query_scalar(
        "select c.id from conversations c join phone_numbers n on n.id = c.phone_number_id
         where n.phone_number_id = $1",
    )
    .bind(other_number)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();

    let reply = s.send_text(other, "reply", "Hello!").await.unwrap();
    s.wait_for(reply.message_id, "sent").await;
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
