//! What Meta's errors do to a send (retried with backoff, given up, failed at once with an
//! explanation, the recipient paused), an agent's retry, and idempotency keys.

use chrono::Utc;
use sqlx::PgPool;
use switchboard::outbox::send::{SendError, SendRefused};

use crate::helpers::*;

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
    let (_, _, message) = s.error(queued.message_id).await;
    assert!(
        !message.contains("retried automatically") && message.contains("tried 3 times"),
        "a message that is no longer retried says so: {message}"
    );
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
