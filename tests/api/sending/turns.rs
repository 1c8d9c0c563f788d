//! A customer's messages go one at a time, in order, and each as soon as the one before it is
//! recorded: the delivery worker is woken by the recording, not left to its next poll.

use std::time::Duration;

use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test]
async fn a_customers_next_message_goes_once_the_one_before_is_recorded(pool: PgPool) {
    // A poll that never comes within the test: only being woken sends the later messages.
    let s = Sending::with_config(pool, |c| c.poll = Duration::from_secs(3600)).await;
    let conversation = s.conversation(1).await;
    let mut ids = Vec::new();
    for part in 1..=4 {
        let queued = s
            .send_text(
                conversation,
                &format!("part-{part}"),
                &format!("Part {part}"),
            )
            .await
            .unwrap();
        ids.push(queued.message_id);
    }

    for id in &ids {
        s.wait_for(*id, MessageStatus::Sent).await;
    }
    assert_eq!(s.sends(), 4);
    let sent_in_order: bool = s
        .app
        .scalar(
            "select bool_and(sent_at >= previous) from (
                 select sent_at, lag(sent_at) over (order by id) as previous from messages
                 where direction = 'outbound') m
             where previous is not null",
        )
        .await;
    assert!(sent_in_order, "sent out of order");
}
