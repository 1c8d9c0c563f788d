//! Change events: every writer announces what an agent's screen must show, after its data commits.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use switchboard::domain::events::{Change, Hub, Kind, Signal};
use tokio::sync::broadcast;

use crate::helpers::*;

/// The next change, failing the test after 10 s.
async fn next(changes: &mut broadcast::Receiver<Signal>) -> Change {
    let signal = tokio::time::timeout(Duration::from_secs(10), changes.recv())
        .await
        .expect("no change event within 10 s")
        .expect("the hub stopped");
    match signal {
        Signal::Change(change) => change,
        Signal::Missed => panic!("the listener missed changes"),
    }
}

/// Changes until one has `kind`; fails the test if none comes.
async fn until(changes: &mut broadcast::Receiver<Signal>, kind: Kind) -> Change {
    loop {
        let change = next(changes).await;
        if change.kinds.contains(&kind) {
            return change;
        }
    }
}

/// Changes until one of `kind` about `message`; fails the test if none comes.
async fn until_message(
    changes: &mut broadcast::Receiver<Signal>,
    kind: Kind,
    message: MessageId,
) -> Change {
    loop {
        let change = until(changes, kind).await;
        if change.message_id == Some(message) {
            return change;
        }
    }
}

#[sqlx::test]
async fn each_inbound_change_is_announced_with_its_tenant_and_conversation(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let hub = Hub::start(app.pool.clone(), app.shutdown()).await.unwrap();
    let mut changes = hub.subscribe();

    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "Hi")],
        vec![],
    ))
    .await;
    let added = next(&mut changes).await;
    let (conversation, message): (ConversationId, MessageId) =
        sqlx::query_as("select conversation_id, id from messages where wamid = 'wamid.1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        added,
        Change {
            tenant_id: app.tenant_id,
            conversation_id: conversation,
            message_id: Some(message),
            kinds: vec![
                Kind::MessageAdded,
                Kind::Window,
                Kind::Unread,
                Kind::ConversationStatus
            ],
        }
    );
    // The data is there when the event is.
    assert_eq!(
        app.scalar::<i32>("select unread_count from conversations")
            .await,
        1
    );

    let reaction = json!({ "from": CUSTOMER, "id": "wamid.r", "timestamp": "1700000010",
        "type": "reaction", "reaction": { "message_id": "wamid.1", "emoji": "👍" } });
    app.deliver(messages_webhook(vec![reaction], vec![])).await;
    assert_eq!(next(&mut changes).await.kinds, [Kind::Reaction]);

    let edit = json!({ "from": CUSTOMER, "id": "wamid.e", "timestamp": "1700000020", "type": "edit",
        "edit": { "original_message_id": "wamid.1", "message": { "type": "text", "text": { "body": "Hello" } } } });
    app.deliver(messages_webhook(vec![edit], vec![])).await;
    let changed = next(&mut changes).await;
    assert_eq!(
        (changed.kinds, changed.message_id),
        (vec![Kind::MessageChanged], Some(message))
    );

    app.outbound_message("wamid.OUT").await;
    let mut failed = status("wamid.OUT", "failed", 1_700_000_040);
    failed["errors"] = json!([{ "code": 131047, "title": "Re-engagement message" }]);
    app.deliver(messages_webhook(vec![], vec![failed])).await;
    let moved = until(&mut changes, Kind::MessageStatus).await;
    assert_eq!(moved.conversation_id, conversation);
    assert_eq!(until(&mut changes, Kind::Window).await.message_id, None);

    app.outbound_message("wamid.OUT2").await;
    let mut failed = status("wamid.OUT2", "failed", 1_700_000_050);
    failed["errors"] = json!([{ "code": 131050, "title": "User stopped marketing messages" }]);
    app.deliver(messages_webhook(vec![], vec![failed])).await;
    assert_eq!(
        until(&mut changes, Kind::Contact).await.conversation_id,
        conversation
    );

    let echo = json!({ "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "97212345678", "phone_number_id": PHONE_NUMBER_ID },
        "message_echoes": [{ "from": "97212345678", "to": CUSTOMER, "id": "wamid.echo",
            "timestamp": "1700000600", "type": "text", "text": { "body": "From the app" } }] });
    app.deliver(envelope(
        WABA_ID,
        None,
        vec![json!({ "field": "smb_message_echoes", "value": echo })],
    ))
    .await;
    let echoed = until(&mut changes, Kind::MessageAdded).await;
    assert_eq!(echoed.conversation_id, conversation);
}

#[sqlx::test]
async fn the_send_path_announces_queued_sent_and_delivered(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    let hub = Hub::start(s.app.pool.clone(), s.app.shutdown())
        .await
        .unwrap();
    let mut changes = hub.subscribe();

    let queued = s.send_text(conversation, "k1", "On its way").await.unwrap();
    let added = until(&mut changes, Kind::MessageAdded).await;
    assert_eq!(
        (added.conversation_id, added.message_id),
        (conversation, Some(queued.message_id))
    );
    // Each move is announced (sent by the recorder, delivered and read by webhooks; ticks that
    // overtake Meta's answer are applied together with it), until the message is read.
    loop {
        let moved = until(&mut changes, Kind::MessageStatus).await;
        assert_eq!(moved.message_id, Some(queued.message_id));
        let status: MessageStatus = s
            .app
            .scalar(&format!(
                "select status from messages where id = {}",
                queued.message_id
            ))
            .await;
        if status == MessageStatus::Read {
            break;
        }
    }

    // A failure, and an agent's retry.
    s.fail_next(131026).await;
    let failing = s.send_text(conversation, "k2", "Again").await.unwrap();
    assert_eq!(
        s.wait_for(failing.message_id, MessageStatus::Failed)
            .await
            .0,
        MessageStatus::Failed
    );
    // (The first message's last ticks may still be on their way: wait for this message's.)
    let failed = until_message(&mut changes, Kind::MessageStatus, failing.message_id).await;
    assert_eq!(failed.conversation_id, conversation);
    s.retry(failing.message_id).await.unwrap();
    let retried = until_message(&mut changes, Kind::MessageStatus, failing.message_id).await;
    assert_eq!(retried.conversation_id, conversation);
}

#[sqlx::test]
async fn another_tenants_changes_carry_their_own_tenant(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let hub = Hub::start(app.pool.clone(), app.shutdown()).await.unwrap();
    let mut changes = hub.subscribe();
    let (other_tenant, other_app) = app.add_tenant("Globex", "999000111", "globex-secret").await;
    app.add_number(other_tenant, other_app, "5550009999", "9990001", None)
        .await;
    let body = messages_webhook(vec![text("wamid.g", 1_700_000_000, "Hi")], vec![])
        .replace(PHONE_NUMBER_ID, "5550009999")
        .replace(WABA_ID, "9990001");
    let signature = switchboard::whatsapp::signature::sign(b"globex-secret", body.as_bytes());
    assert_eq!(
        app.post_webhook("999000111", body, Some(signature)).await,
        axum::http::StatusCode::OK
    );
    app.apply().await;
    assert_eq!(next(&mut changes).await.tenant_id, other_tenant);
}
