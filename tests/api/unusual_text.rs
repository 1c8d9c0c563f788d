//! Inbound text PostgreSQL cannot store as it is: U+0000 reaches the inbox as U+FFFD.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test]
async fn a_text_and_profile_name_with_nul_reach_the_inbox_with_the_character_replaced(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let mut body: Value = serde_json::from_str(&messages_webhook(
        vec![text("wamid.NUL", 1_700_000_000, "where\u{0}is my order")],
        vec![],
    ))
    .unwrap();
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = json!("Da\u{0}na");
    let raw = body.to_string();
    assert!(
        raw.contains("\\u0000"),
        "sent as JSON escapes, as Meta would"
    );

    app.deliver(raw.clone()).await;

    assert_eq!(app.last_event().await.0, "applied");
    let (text, content): (String, Value) =
        sqlx::query_as("select body, content from messages where wamid = 'wamid.NUL'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(text, "where\u{FFFD}is my order");
    assert!(content["switchboard_note"].is_string(), "{content}");
    let name: String = app.scalar("select profile_name from contacts").await;
    assert_eq!(name, "Da\u{FFFD}na");
    let stored: Vec<u8> = app.scalar("select body from webhook_events").await;
    assert_eq!(
        stored,
        raw.into_bytes(),
        "the raw bytes are kept as received"
    );

    // A replay applies it again to the same result, not a failure.
    let (count, states) = switchboard::ingest::replay::replay(&app.pool, false)
        .await
        .unwrap();
    assert_eq!(
        (
            count,
            states.get(&switchboard::ingest::apply::EventState::Applied)
        ),
        (1, Some(&1))
    );
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 1);
}
