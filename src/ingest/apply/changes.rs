//! Edits and deletions of a message after it was sent, by the customer (`edit`, `revoke` messages)
//! or by the business from the WhatsApp Business app (their echoes). They change the original
//! message instead of adding a bubble: its content becomes the latest edit, `edited_at` and
//! `deleted_at` mark it, `original_content` keeps what it first said, and `message_changes` keeps
//! every change as its history. A change may arrive before its original (webhooks are not
//! ordered); it is applied when the original is stored. Applying recomputes the message from all
//! its changes, so duplicates and any order give the same result.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages>

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    domain::{
        events::{self, Kind},
        ids::{ConversationId, MessageId, NumberId, TenantId},
        numbers::Route,
    },
    whatsapp::summary::summarize,
};

/// What an agent sees instead of a message its sender deleted.
pub const DELETED: &str = "This message was deleted";

/// What a change does (`message_changes.kind`), named as the message type that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum ChangeKind {
    Edit,
    Revoke,
}

impl ChangeKind {
    /// The change a message of Meta's type `kind` carries, if any.
    fn of_message_type(kind: &str) -> Option<Self> {
        match kind {
            "edit" => Some(Self::Edit),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }
}

/// An edit or a deletion of the message `target`.
pub struct Change<'a> {
    kind: ChangeKind,
    wamid: &'a str,
    target: &'a str,
    /// The edited message (its `type` and content); `None` for a deletion.
    edited: Option<&'a Value>,
    at: DateTime<Utc>,
    raw: &'a Value,
}

/// The change a message (`wamid`, of type `kind`, sent `at`) carries, if it is an edit or a
/// deletion naming its original.
pub fn parse<'a>(
    wamid: &'a str,
    kind: &str,
    at: DateTime<Utc>,
    raw: &'a Value,
) -> Option<Change<'a>> {
    let change_kind = ChangeKind::of_message_type(kind)?;
    let change = raw.get(kind)?;
    Some(Change {
        kind: change_kind,
        wamid,
        target: change.get("original_message_id")?.as_str()?,
        edited: (change_kind == ChangeKind::Edit)
            .then(|| change.get("message"))
            .flatten(),
        at,
        raw,
    })
}

/// Keeps the change in the history and applies it to its original, if that is stored yet.
pub async fn record(
    conn: &mut PgConnection,
    route: Route,
    change: &Change<'_>,
) -> anyhow::Result<()> {
    sqlx::query!(
        "insert into message_changes
             (tenant_id, phone_number_id, wamid, target_wamid, kind, content, meta_timestamp, raw)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (phone_number_id, wamid) do nothing",
        route.tenant_id as TenantId,
        route.number_id as NumberId,
        change.wamid,
        change.target,
        change.kind as ChangeKind,
        change.edited,
        change.at,
        change.raw
    )
    .execute(&mut *conn)
    .await
    .context("store message change")?;
    apply_to(conn, route, change.target).await
}

/// Recomputes the message `wamid` of the number from its original content and all its changes.
pub async fn apply_to(conn: &mut PgConnection, route: Route, wamid: &str) -> anyhow::Result<()> {
    let Some(message) = sqlx::query!(
        r#"select id as "id: MessageId", conversation_id as "conversation_id: ConversationId",
                  coalesce(original_content, content) as "original!"
           from messages
           where tenant_id = $1 and phone_number_id = $2 and wamid = $3 for update"#,
        route.tenant_id as TenantId,
        route.number_id as NumberId,
        wamid
    )
    .fetch_optional(&mut *conn)
    .await
    .context("load the changed message")?
    else {
        return Ok(());
    };
    let changes = sqlx::query!(
        r#"select kind as "kind: ChangeKind", content, meta_timestamp from message_changes
           where tenant_id = $1 and phone_number_id = $2 and target_wamid = $3
           order by meta_timestamp, id"#,
        route.tenant_id as TenantId,
        route.number_id as NumberId,
        wamid
    )
    .fetch_all(&mut *conn)
    .await
    .context("load the message's changes")?;
    let last_edit = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Edit)
        .filter_map(|c| Some((c.content.as_ref()?, c.meta_timestamp)))
        .next_back();
    let deleted_at = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Revoke)
        .map(|c| c.meta_timestamp)
        .next_back();
    let content = match last_edit {
        Some((edited, _)) => edited_content(&message.original, edited),
        None => message.original.clone(),
    };
    let body = match deleted_at {
        Some(_) => DELETED.to_owned(),
        None => summarize(&content),
    };
    sqlx::query!(
        "update messages set original_content = $3, content = $4, body = $5, edited_at = $6,
             deleted_at = $7
         where tenant_id = $1 and id = $2",
        route.tenant_id as TenantId,
        message.id as MessageId,
        message.original,
        content,
        body,
        last_edit.map(|(_, at)| at),
        deleted_at
    )
    .execute(&mut *conn)
    .await
    .context("apply edits and deletions")?;
    let kinds = [Kind::MessageChanged];
    events::announce(
        conn,
        route.tenant_id,
        message.conversation_id,
        Some(message.id),
        &kinds,
    )
    .await
}

/// The original message with its content replaced by the edit's (which may change its type, e.g.
/// a new image caption), keeping its id, sender and time.
fn edited_content(original: &Value, edited: &Value) -> Value {
    let mut content = original.clone();
    let (Some(object), Some(kind)) = (
        content.as_object_mut(),
        edited.get("type").and_then(Value::as_str),
    ) else {
        return content;
    };
    if let Some(old) = object
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        object.remove(&old);
    }
    object.insert("type".into(), Value::from(kind));
    if let Some(part) = edited.get(kind) {
        object.insert(kind.into(), part.clone());
    }
    content
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::edited_content;

    #[test]
    fn an_edit_replaces_the_content_and_keeps_the_envelope() {
        let original =
            json!({ "id": "w1", "from": "1555", "type": "text", "text": { "body": "teh" } });
        let edited = json!({ "type": "text", "text": { "body": "the" } });
        assert_eq!(
            edited_content(&original, &edited),
            json!({ "id": "w1", "from": "1555", "type": "text", "text": { "body": "the" } })
        );
        let image = json!({ "type": "image", "image": { "caption": "new" } });
        let with_image =
            json!({ "id": "w1", "type": "image", "image": { "caption": "old", "id": "m" } });
        assert_eq!(
            edited_content(&with_image, &image)["image"]["caption"],
            "new"
        );
    }
}
