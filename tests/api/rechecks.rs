//! The last checks before a Graph call: a message queued while it was allowed is not sent once the
//! window has closed, its template was paused or its customer opted out meanwhile.

use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchboard::whatsapp::outbound::Outbound;

use crate::helpers::*;

#[sqlx::test]
async fn a_text_queued_inside_the_window_is_not_sent_once_it_has_closed(pool: PgPool) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    let conversation = s.conversation(1).await;
    s.hold(conversation, 1_000).await;
    let queued = s
        .send_text(conversation, "k1", "Still there?")
        .await
        .unwrap();

    // While it waits, the 24 hours run out.
    s.clock
        .set(Utc::now() + Duration::hours(23) + Duration::minutes(1));

    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await.1,
        Some(131047)
    );
    let (_, title, message) = s.error(queued.message_id).await;
    assert_eq!(title, "Outside the 24-hour window");
    assert!(message.contains("24-hour window closed"), "{message}");
    assert!(
        message.contains("approved templates"),
        "the template path is offered: {message}"
    );
    assert_eq!(s.sends(), 0, "never reached Meta");
}

#[sqlx::test]
async fn a_text_whose_window_closes_within_the_margin_is_not_sent(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(0).await;
    let last: chrono::DateTime<Utc> = s
        .app
        .scalar("select last_customer_message_at from conversations")
        .await;
    s.hold(conversation, 300).await;
    s.clock
        .set(last + Duration::hours(24) - Duration::seconds(30));
    let queued = s.send_text(conversation, "k1", "Quick!").await.unwrap();
    // Two seconds before the end: Meta would receive it too late to be sure.
    s.clock
        .set(last + Duration::hours(24) - Duration::seconds(2));
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await.1,
        Some(131047)
    );
    assert_eq!(s.sends(), 0);
}

#[sqlx::test]
async fn a_second_text_queued_while_meta_refused_the_first_is_not_sent(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    s.hold(conversation, 300).await;
    s.fail_next(131047).await;
    let first = s.send_text(conversation, "k1", "First").await.unwrap();
    let second = s.send_text(conversation, "k2", "Second").await.unwrap();

    assert_eq!(
        s.wait_for(first.message_id, MessageStatus::Failed).await.1,
        Some(131047)
    );
    assert_eq!(
        s.wait_for(second.message_id, MessageStatus::Failed).await.1,
        Some(131047)
    );
    let (_, _, message) = s.error(second.message_id).await;
    assert!(message.contains("WhatsApp refused"), "{message}");
    assert_eq!(s.sends(), 1, "only the first reached Meta");
}

#[sqlx::test]
async fn a_template_paused_while_its_message_waited_is_not_sent(pool: PgPool) {
    let s = Sending::new(pool).await;
    let template_id = s
        .template("order_update", "en_US", "UTILITY", order_update())
        .await;
    let conversation = s.conversation(30).await;
    s.hold(conversation, 500).await;
    let queued = s
        .send(
            conversation,
            "k1",
            template("order_update", "en_US", order_update_params()),
        )
        .await
        .unwrap();
    sqlx::query("update message_templates set status = 'PAUSED' where id = $1")
        .bind(template_id)
        .execute(&s.app.pool)
        .await
        .unwrap();

    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await.1,
        Some(132015)
    );
    assert!(s.error(queued.message_id).await.2.contains("PAUSED"));
    assert_eq!(s.sends(), 0);
}

#[sqlx::test]
async fn a_marketing_template_is_not_sent_to_a_customer_who_opted_out_while_it_waited(
    pool: PgPool,
) {
    let s = Sending::new(pool).await;
    s.template(
        "spring_sale",
        "en_US",
        "MARKETING",
        json!([{ "type": "BODY", "text": "Hi {{1}}, 20% off!" }]),
    )
    .await;
    let conversation = s.conversation(1).await;
    s.hold(conversation, 500).await;
    let sale = Outbound::Template {
        name: "spring_sale".into(),
        language: "en_US".into(),
        components: json!([{ "type": "body", "parameters": [{ "type": "text", "text": "Dana" }] }]),
    };
    let queued = s.send(conversation, "k1", sale).await.unwrap();
    let now = Utc::now().timestamp();
    s.app
        .deliver(messages_webhook(
            vec![text("wamid.stop", now, "STOP")],
            vec![],
        ))
        .await;

    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Failed).await.1,
        Some(131050)
    );
    assert_eq!(s.sends(), 0);
}
