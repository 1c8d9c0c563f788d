//! Sends that arrive together are stored together, in one statement (`outbox::queueing`): each
//! request still gets its own message, a key used twice still means one message, and every
//! message goes out once.

use futures::future::join_all;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test]
async fn sends_stored_together_each_get_their_own_message_and_a_shared_key_one(pool: PgPool) {
    let s = Sending::new(pool).await;
    let mut conversations = Vec::new();
    for customer in ["15550001111", "15550002222", "15550003333"] {
        conversations.push(s.conversation_with(customer, 1).await);
    }
    // Conversations locked elsewhere hold the writers back, so the requests pile up meanwhile.
    let mut holder = s.app.pool.begin().await.unwrap();
    sqlx::query("select from conversations for update")
        .execute(&mut *holder)
        .await
        .unwrap();

    let distinct = (0..60).map(|i| {
        let (s, conversation) = (&s, conversations[i % 3]);
        async move {
            s.send_text(conversation, &format!("k{i}"), &format!("Message {i}"))
                .await
                .unwrap()
        }
    });
    let shared = (0..5).map(|_| async {
        s.send_text(conversations[0], "shared", "Once")
            .await
            .unwrap()
    });
    let release = async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        holder.rollback().await.unwrap();
    };
    let (queued, shared, ()) = tokio::join!(join_all(distinct), join_all(shared), release);

    for (i, queued) in queued.iter().enumerate() {
        assert_eq!(queued.conversation_id, conversations[i % 3]);
        assert!(!queued.duplicate);
        let body: String = sqlx::query_scalar("select body from messages where id = $1")
            .bind(queued.message_id)
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
        assert_eq!(body, format!("Message {i}"));
    }
    assert!(shared.iter().all(|q| q.message_id == shared[0].message_id));
    assert_eq!(shared.iter().filter(|q| !q.duplicate).count(), 1);
    // Rows stored by one statement share their transaction's `created_at`.
    let statements: i64 = s
        .app
        .scalar("select count(distinct created_at) from messages where direction = 'outbound'")
        .await;
    assert!(statements < 61, "{statements} statements for 61 messages");

    for queued in queued.iter().chain(&shared[..1]) {
        s.wait_for(queued.message_id, MessageStatus::Sent).await;
    }
    assert_eq!(s.sends(), 61);
}
