//! `messages` changes: inbound messages (contacts, conversations, the 24-hour window), reactions,
//! delivery statuses and value-level errors for one business number.

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use super::{
    changes,
    statuses::{self, EarlyStatuses},
};
use crate::{
    domain::{
        contacts, conversations,
        events::{self, Kind},
        ids::{ConversationId, MessageId, NumberId, TenantId},
        numbers::Route,
    },
    whatsapp::{
        payload::{self, Contact, InboundMessage, MessagesValue, Status},
        summary::summarize,
    },
};

/// A parsed `messages` change; each message and status keeps its raw JSON.
pub struct MessagesChange {
    pub phone_number_id: String,
    contacts: Vec<Contact>,
    pub(super) messages: Vec<(InboundMessage, Value)>,
    pub(super) statuses: Vec<(Status, Value)>,
    errors: Vec<Value>,
}

/// Parses a `messages` change value; every message must name its sender.
pub fn parse(value: Value) -> Result<MessagesChange, String> {
    let value: MessagesValue =
        serde_json::from_value(value).map_err(|e| format!("malformed `messages` change: {e}"))?;
    let messages = payload::with_raw(value.messages, "message")?;
    let statuses = payload::with_raw(value.statuses, "status")?;
    let change = MessagesChange {
        phone_number_id: value.metadata.phone_number_id,
        contacts: value.contacts,
        messages,
        statuses,
        errors: value.errors,
    };
    if let Some((message, _)) = change
        .messages
        .iter()
        .find(|(m, _)| change.sender(m).is_none())
    {
        return Err(format!(
            "message {} has no sender (`from`, `from_user_id` or a contact)",
            message.id
        ));
    }
    Ok(change)
}

/// Who sent a message, as far as Meta told us.
pub(super) struct Sender<'a> {
    pub wa_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub profile_name: Option<&'a str>,
}

impl MessagesChange {
    /// The sender of `message`: its `from`/`from_user_id`, completed by the matching contact. A
    /// system notice of a changed id may name only the new id; the customer is known by it.
    pub(super) fn sender<'a>(&'a self, message: &'a InboundMessage) -> Option<Sender<'a>> {
        let contact = self
            .contacts
            .iter()
            .find(|c| {
                (message.from.is_some() && c.wa_id == message.from)
                    || (message.from_user_id.is_some() && c.user_id == message.from_user_id)
            })
            .or_else(|| (self.contacts.len() == 1).then(|| &self.contacts[0]));
        let wa_id = message
            .from
            .as_deref()
            .or_else(|| contact.and_then(|c| c.wa_id.as_deref()));
        let user_id = message
            .from_user_id
            .as_deref()
            .or_else(|| contact.and_then(|c| c.user_id.as_deref()));
        let system = message.system.as_ref();
        let (wa_id, user_id) = match (wa_id, user_id) {
            (None, None) => (
                system.and_then(|s| s.wa_id.as_deref()),
                system.and_then(|s| s.user_id.as_deref()),
            ),
            known => known,
        };
        let profile_name = contact
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.name.as_deref());
        (wa_id.is_some() || user_id.is_some()).then_some(Sender {
            wa_id,
            user_id,
            profile_name,
        })
    }
}

/// Applies every message, status and error of the change to the number's tenant.
pub async fn apply(
    conn: &mut PgConnection,
    route: Route,
    change: MessagesChange,
    early: &mut EarlyStatuses,
) -> anyhow::Result<()> {
    for (message, raw) in &change.messages {
        let sender = change.sender(message).context("message without a sender")?;
        apply_inbound(conn, route, &sender, message, raw).await?;
    }
    for (status, raw) in &change.statuses {
        statuses::apply(conn, route, status, raw, early).await?;
    }
    change.log_errors(route);
    Ok(())
}

impl MessagesChange {
    /// Errors Meta reported for the number rather than for one message (e.g. 130429 throughput).
    pub(super) fn log_errors(&self, route: Route) {
        for error in &self.errors {
            let (code, title) = (error.get("code"), error.get("title"));
            tracing::warn!(
                tenant_id = %route.tenant_id,
                ?code,
                ?title,
                "Meta reported an error for a number"
            );
        }
    }

    /// Whether the set-based path can apply every message of the change: plain messages from a
    /// customer known by phone (reactions, edits, deletions, system notices and customers known only
    /// by a business-scoped id take the per-message path).
    pub(super) fn is_plain(&self) -> bool {
        self.messages.iter().all(|(message, _)| {
            !matches!(
                message.kind.as_str(),
                "reaction" | "edit" | "revoke" | "system"
            ) && message.reaction.is_none()
                && self.sender(message).is_some_and(|s| s.wa_id.is_some())
        })
    }
}

async fn apply_inbound(
    conn: &mut PgConnection,
    route: Route,
    sender: &Sender<'_>,
    message: &InboundMessage,
    raw: &Value,
) -> anyhow::Result<()> {
    let who = contacts::Identity {
        wa_id: sender.wa_id,
        user_id: sender.user_id,
        profile_name: sender.profile_name,
    };
    let contact_id = contacts::upsert(conn, route.tenant_id, who).await?;
    if let Some(change) = changes::parse(&message.id, &message.kind, message.timestamp, raw) {
        return changes::record(conn, route, &change).await;
    }
    // A system notice (e.g. "changed their number") is not the customer writing to us.
    let from_customer = message.kind != "system";
    let conversation_id = conversations::upsert(
        conn,
        route.tenant_id,
        route.number_id,
        contact_id,
        from_customer.then_some(message.timestamp),
        Some(message.timestamp),
    )
    .await?;
    if let Some(reaction) = &message.reaction {
        let emoji = reaction.emoji.as_deref().filter(|e| !e.is_empty());
        let changed =
            upsert_reaction(conn, route, &reaction.message_id, emoji, message, raw).await?;
        if changed {
            let kinds = [Kind::Reaction];
            events::announce(conn, route.tenant_id, conversation_id, None, &kinds).await?;
        }
        return Ok(());
    }
    let error = message.errors.first();
    let inserted = sqlx::query!(
        r#"insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
             body, content, meta_timestamp, context_wamid, status,
             error_code, error_title, error_message, error_details)
         values ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, 'received', $10, $11, $12, $13)
         on conflict (phone_number_id, wamid) do nothing
         returning id as "id: MessageId",
             exists (select 1 from message_changes c
                     where c.phone_number_id = $3 and c.target_wamid = $4) as "changed!""#,
        route.tenant_id as TenantId,
        conversation_id as ConversationId,
        route.number_id as NumberId,
        message.id,
        message.kind,
        summarize(raw),
        raw,
        message.timestamp,
        message.context.as_ref().and_then(|c| c.id.as_deref()),
        error.and_then(|e| i32::try_from(e.code).ok()),
        error.and_then(|e| e.title.as_deref()),
        error.and_then(|e| e.message.as_deref()),
        error.and_then(|e| e.details()),
    )
    .fetch_optional(&mut *conn)
    .await
    .context("store inbound message")?;
    let Some(inserted) = inserted else {
        return Ok(());
    };
    if inserted.changed {
        // Edited or deleted before it reached us.
        changes::apply_to(conn, route, &message.id).await?;
    }
    if let Some(words) = keyword_text(raw) {
        contacts::apply_opt_keyword(conn, route.tenant_id, contact_id, &words, message.timestamp)
            .await?;
    }
    if from_customer {
        sqlx::query!(
            "update conversations
             set unread_count = unread_count + 1,
                 status = case when status in ('resolved', 'pending') then 'open' else status end,
                 updated_at = now()
             where tenant_id = $1 and id = $2",
            route.tenant_id as TenantId,
            conversation_id as ConversationId
        )
        .execute(&mut *conn)
        .await
        .context("count unread message")?;
    }
    // A customer's message opens the window, counts unread and may reopen the conversation.
    let kinds: &[Kind] = if from_customer {
        &[
            Kind::MessageAdded,
            Kind::Window,
            Kind::Unread,
            Kind::ConversationStatus,
        ]
    } else {
        &[Kind::MessageAdded]
    };
    events::announce(
        conn,
        route.tenant_id,
        conversation_id,
        Some(inserted.id),
        kinds,
    )
    .await
}

/// The text a STOP/START keyword is looked for in: a text message, or a quick-reply button.
pub(super) fn keyword_text(raw: &Value) -> Option<String> {
    let text = raw
        .pointer("/text/body")
        .or_else(|| raw.pointer("/button/text"))?
        .as_str()?;
    Some(text.trim().to_uppercase())
}

/// A reaction attaches to the message it reacts to; the newest one (by Meta's time) wins. Returns
/// whether it changed anything.
async fn upsert_reaction(
    conn: &mut PgConnection,
    route: Route,
    target_wamid: &str,
    emoji: Option<&str>,
    message: &InboundMessage,
    raw: &Value,
) -> anyhow::Result<bool> {
    let stored = sqlx::query!(
        "insert into message_reactions
             (tenant_id, phone_number_id, target_wamid, direction, emoji, reaction_wamid, meta_timestamp, raw)
         values ($1, $2, $3, 'inbound', $4, $5, $6, $7)
         on conflict (phone_number_id, target_wamid, direction) do update set
             emoji = excluded.emoji, reaction_wamid = excluded.reaction_wamid,
             meta_timestamp = excluded.meta_timestamp, raw = excluded.raw
         where excluded.meta_timestamp >= message_reactions.meta_timestamp",
        route.tenant_id as TenantId,
        route.number_id as NumberId,
        target_wamid,
        emoji,
        message.id,
        message.timestamp,
        raw
    )
    .execute(conn)
    .await
    .context("store reaction")?;
    Ok(stored.rows_affected() > 0)
}
