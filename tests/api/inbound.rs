//! Inbound messages: every type, batches, duplicates, the window clocks, reactions, routing, replay.

use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::{
    ingest::{apply::EventState, replay},
    whatsapp::signature,
};

use crate::helpers::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/webhooks");

fn corpus_file(name: &str) -> String {
    std::fs::read_to_string(format!("{CORPUS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[sqlx::test]
async fn a_text_message_creates_the_contact_the_conversation_and_the_message(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![text("wamid.A", 1_700_000_000, "My order is late")],
        vec![],
    ))
    .await;

    let (wa_id, name): (String, String) =
        sqlx::query_as("select wa_id, profile_name from contacts")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((wa_id.as_str(), name.as_str()), (CUSTOMER, "Dana"));
    let (direction, kind, body, status): (String, String, String, String) = sqlx::query_as(
        "select direction, type, body, status from messages where wamid = 'wamid.A'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (
            direction.as_str(),
            kind.as_str(),
            body.as_str(),
            status.as_str()
        ),
        ("inbound", "text", "My order is late", "received")
    );
    let (unread, conv_status, window): (i32, String, i64) = sqlx::query_as(
        "select unread_count, status, extract(epoch from last_customer_message_at)::bigint from conversations",
    )
    .fetch_one(&app.pool).await.unwrap();
    assert_eq!(
        (unread, conv_status.as_str(), window),
        (1, "open", 1_700_000_000)
    );
    assert_eq!(app.last_event().await.0, "applied");
}

/// One real Meta payload per message type (pywa's fixtures, all for number 1122334455667).
#[sqlx::test]
async fn every_message_type_is_kept_whole_with_a_readable_summary(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cases = [
        ("pywa__message__text.json", "text", "Body Text"),
        ("pywa__message__image.json", "image", "[Photo]"),
        ("pywa__message__audio.json", "audio", "[Audio]"),
        ("pywa__message__voice.json", "audio", "[Voice message]"),
        ("pywa__message__video.json", "video", "[Video]"),
        ("pywa__message__document.json", "document", "[Document]"),
        ("pywa__message__static_sticker.json", "sticker", "[Sticker]"),
        (
            "pywa__message__current_location.json",
            "location",
            "[Location]",
        ),
        ("pywa__message__contacts.json", "contacts", "[Contact]"),
        ("pywa__callback_button__button.json", "interactive", ""),
        ("pywa__callback_selection__callback.json", "interactive", ""),
        (
            "pywa__flow_completion__completion.json",
            "interactive",
            "[Form submitted]",
        ),
        ("pywa__callback_button__quick_reply.json", "button", ""),
        ("pywa__message__order.json", "order", "[Order of 3 item(s)]"),
        (
            "pywa__system__phone_number_change.json",
            "system",
            "changed from",
        ),
        ("pywa__message__reply.json", "text", ""),
        ("pywa__message__referral.json", "text", ""),
        (
            "pywa__message__unsupported.json",
            "unsupported",
            "[Unsupported message",
        ),
    ];
    for (file, kind, summary_contains) in cases {
        let payload: Value = serde_json::from_str(&corpus_file(file)).unwrap();
        let message = &payload["entry"][0]["changes"][0]["value"]["messages"][0];
        app.deliver(corpus_file(file)).await;
        assert_eq!(app.last_event().await.0, "applied", "{file}");
        let (stored_kind, body, content): (String, String, Value) =
            sqlx::query_as("select type, body, content from messages where wamid = $1")
                .bind(message["id"].as_str().unwrap())
                .fetch_one(&app.pool)
                .await
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(stored_kind, kind, "{file}");
        assert!(
            body.contains(summary_contains) && !body.is_empty(),
            "{file}: summary {body:?}"
        );
        assert_eq!(&content, message, "{file}: the full JSON is kept");
        // The next case reuses wamids: clear them so that each file is stored afresh.
        sqlx::query("delete from messages")
            .execute(&app.pool)
            .await
            .unwrap();
    }
}

#[sqlx::test]
async fn a_reply_keeps_its_context_and_an_ad_click_keeps_its_referral(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(corpus_file("pywa__message__reply.json")).await;
    let context: Option<String> = app.scalar("select context_wamid from messages").await;
    assert!(context.is_some_and(|c| c.starts_with("wamid.")));
    sqlx::query("delete from messages")
        .execute(&app.pool)
        .await
        .unwrap();
    app.deliver(corpus_file("pywa__message__referral.json"))
        .await;
    let referral: Value = app
        .scalar("select content -> 'referral' from messages")
        .await;
    assert!(referral["source_url"].is_string(), "{referral}");
}

#[sqlx::test]
async fn a_batch_applies_every_entry_change_message_and_status(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    let change = |messages: Vec<Value>, statuses: Vec<Value>| {
        let body: Value = serde_json::from_str(&messages_webhook(messages, statuses)).unwrap();
        body["entry"][0]["changes"][0].clone()
    };
    let entry = |changes: Vec<Value>| json!({ "id": WABA_ID, "changes": changes });
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [
            entry(vec![
                change(vec![text("wamid.B1", 1_700_000_101, "one"), text("wamid.B2", 1_700_000_102, "two")], vec![]),
                change(vec![], vec![status("wamid.OUT", "delivered", 1_700_000_103)]),
            ]),
            entry(vec![change(vec![text("wamid.B3", 1_700_000_104, "three")], vec![status("wamid.OUT", "read", 1_700_000_105)])]),
        ]
    });
    app.deliver(body.to_string()).await;
    let stored: i64 = app
        .scalar("select count(*) from messages where wamid in ('wamid.B1','wamid.B2','wamid.B3')")
        .await;
    assert_eq!(stored, 3);
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_statuses")
            .await,
        2
    );
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Read);
    assert_eq!(
        app.scalar::<i32>("select unread_count from conversations")
            .await,
        4
    );
}

#[sqlx::test]
async fn a_duplicate_delivery_stores_the_message_once_and_counts_it_unread_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = messages_webhook(
        vec![text("wamid.D", 1_700_000_000, "Are you there?")],
        vec![],
    );
    app.deliver(body.clone()).await;
    app.deliver(body.clone()).await;
    // Meta retrying in parallel: all accepted, one message.
    let posts = (0..8).map(|_| app.post_signed(body.clone()));
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, axum::http::StatusCode::OK);
    }
    app.apply().await;
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 1);
    assert_eq!(
        app.scalar::<i32>("select unread_count from conversations")
            .await,
        1
    );
    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events where state = 'applied'")
            .await,
        10
    );
}

#[sqlx::test]
async fn the_window_follows_metas_timestamps_and_never_moves_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let window = || {
        app.scalar::<i64>(
            "select extract(epoch from last_customer_message_at)::bigint from conversations",
        )
    };
    app.deliver(messages_webhook(
        vec![text("wamid.new", 1_700_050_000, "newer")],
        vec![],
    ))
    .await;
    assert_eq!(
        window().await,
        1_700_050_000,
        "Meta's timestamp, not the arrival time"
    );
    // An older message delivered late is stored, but leaves both clocks where they were.
    app.deliver(messages_webhook(
        vec![text("wamid.old", 1_700_000_000, "older")],
        vec![],
    ))
    .await;
    assert_eq!(window().await, 1_700_050_000);
    assert_eq!(
        app.scalar::<i64>("select extract(epoch from last_message_at)::bigint from conversations")
            .await,
        1_700_050_000
    );
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 2);
    // A system notice is shown but is not the customer writing: the window stays.
    let mut notice: Value =
        serde_json::from_str(&corpus_file("pywa__system__phone_number_change.json")).unwrap();
    notice["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = json!(CUSTOMER);
    notice["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!("1700090000");
    app.deliver(notice.to_string()).await;
    assert_eq!(window().await, 1_700_050_000);
    assert_eq!(
        app.scalar::<i64>("select extract(epoch from last_message_at)::bigint from conversations")
            .await,
        1_700_090_000
    );
}

#[sqlx::test]
async fn a_resolved_conversation_reopens_when_the_customer_writes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "hi")],
        vec![],
    ))
    .await;
    sqlx::query("update conversations set status = 'resolved', unread_count = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    app.deliver(messages_webhook(
        vec![text("wamid.2", 1_700_000_100, "one more thing")],
        vec![],
    ))
    .await;
    let (status, unread): (String, i32) =
        sqlx::query_as("select status, unread_count from conversations")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), unread), ("open", 1));
}

#[sqlx::test]
async fn a_reaction_attaches_to_its_message_and_an_empty_emoji_removes_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    let reaction = |id: &str, ts: i64, emoji: Option<&str>| {
        let mut reaction = json!({ "message_id": "wamid.OUT" });
        if let Some(emoji) = emoji {
            reaction["emoji"] = json!(emoji);
        }
        json!({ "from": CUSTOMER, "id": id, "timestamp": ts.to_string(), "type": "reaction", "reaction": reaction })
    };
    let emoji = || {
        app.scalar::<Option<String>>(
            "select emoji from message_reactions where target_wamid = 'wamid.OUT'",
        )
    };
    app.deliver(messages_webhook(
        vec![reaction("wamid.R1", 1_700_000_500, Some("👍"))],
        vec![],
    ))
    .await;
    assert_eq!(emoji().await.as_deref(), Some("👍"));
    assert_eq!(
        app.scalar::<i64>("select count(*) from messages where type = 'reaction'")
            .await,
        0,
        "not a new bubble"
    );
    // An older reaction arriving late does not override the newer one.
    app.deliver(messages_webhook(
        vec![reaction("wamid.R0", 1_700_000_400, Some("😡"))],
        vec![],
    ))
    .await;
    assert_eq!(emoji().await.as_deref(), Some("👍"));
    app.deliver(messages_webhook(
        vec![reaction("wamid.R2", 1_700_000_600, Some(""))],
        vec![],
    ))
    .await;
    assert_eq!(emoji().await, None);
    app.deliver(messages_webhook(
        vec![reaction("wamid.R3", 1_700_000_700, Some("❤️"))],
        vec![],
    ))
    .await;
    app.deliver(messages_webhook(
        vec![reaction("wamid.R4", 1_700_000_800, None)],
        vec![],
    ))
    .await;
    assert_eq!(emoji().await, None);
}

#[sqlx::test]
async fn a_customer_known_only_by_business_scoped_id_gets_a_contact(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = corpus_file("netflie__a_notification_with_bsuid_only_and_no_from.json");
    app.add_number(app.tenant_id, app.app_id, "PHONE_NUMBER_ID", WABA_ID, None)
        .await;
    app.deliver(body).await;
    let (wa_id, user_id): (Option<String>, Option<String>) =
        sqlx::query_as("select wa_id, user_id from contacts")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((wa_id, user_id.as_deref()), (None, Some("BSUID_123")));
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 1);
}

#[sqlx::test]
async fn another_tenants_app_cannot_write_into_this_tenants_inbox(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, _) = app.add_tenant("Globex", "777", "globex-secret").await;
    // Globex's app signs a webhook naming Acme's number: accepted (validly signed), never applied.
    let body = messages_webhook(vec![text("wamid.X", 1_700_000_000, "injected")], vec![]);
    let signature = signature::sign(b"globex-secret", body.as_bytes());
    assert_eq!(
        app.post_webhook("777", body, Some(signature)).await,
        axum::http::StatusCode::OK
    );
    app.apply().await;
    let (state, _, unroutable) = app.last_event().await;
    assert_eq!(state, "unroutable");
    assert_eq!(unroutable, vec![PHONE_NUMBER_ID.to_owned()]);
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 0);
    assert_eq!(app.scalar::<i64>("select count(*) from contacts").await, 0);
}

#[sqlx::test]
async fn replay_reapplies_stored_events_without_duplicating_anything(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "hi")],
        vec![],
    ))
    .await;
    app.deliver("{broken").await;
    // An event that failed for a reason since fixed (simulated): replay --failed applies it.
    assert_eq!(
        app.post_signed(messages_webhook(
            vec![text("wamid.2", 1_700_000_100, "again")],
            vec![]
        ))
        .await,
        axum::http::StatusCode::OK
    );
    sqlx::query(
        "update webhook_events set state = 'failed', error = 'bug' where state = 'pending'",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let (count, states) = replay::replay(&app.pool, true).await.unwrap();
    assert_eq!(count, 2);
    assert_eq!(
        (
            states.get(&EventState::Applied),
            states.get(&EventState::Failed)
        ),
        (Some(&1), Some(&1))
    );
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 2);

    let (count, _) = replay::replay(&app.pool, false).await.unwrap();
    assert_eq!(count, 3);
    assert_eq!(app.scalar::<i64>("select count(*) from messages").await, 2);
    assert_eq!(
        app.scalar::<i32>("select unread_count from conversations")
            .await,
        2
    );
}
