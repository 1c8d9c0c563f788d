//! The send service every caller uses (the inbox, the CLI, later the public API). Free-form content
//! goes out only while the window is open; templates only when approved, with parameters that fit
//! their definition, and marketing ones never to opted-out customers (`checks`). Every accepted
//! request becomes a `queued` message row keyed by the caller's idempotency key, so a double click
//! or a client retry returns the same message and causes one Meta call. The checks read committed
//! data and the queueing is one statement, so a send needs no transaction of its own.

use anyhow::Context;
use sqlx::{PgConnection, PgPool};

pub use super::refused::SendRefused;
use super::{
    CHANNEL,
    checks::{check_template, check_window},
};
use crate::{
    domain::conversations::{self, SendContext},
    whatsapp::outbound::Outbound,
    window::Clock,
};

/// A request to send `content` in a conversation.
pub struct SendRequest {
    pub conversation_id: i64,
    pub content: Outbound,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    /// Chosen by the caller; the same key always means the same message.
    pub idempotency_key: String,
    /// The agent sending, if any.
    pub sent_by: Option<i64>,
}

/// The queued message; `duplicate` when the idempotency key had been used before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub message_id: i64,
    pub duplicate: bool,
}

/// A refusal, or a failure of ours.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Refused(#[from] SendRefused),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Checks and queues a message; see the module docs.
#[tracing::instrument(skip_all, fields(tenant_id, conversation_id = request.conversation_id))]
pub async fn send(
    db: &PgPool,
    clock: &dyn Clock,
    tenant_id: i64,
    request: SendRequest,
) -> Result<Queued, SendError> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let existing = find_by_key(&mut conn, tenant_id, &request.idempotency_key).await?;
    let context = conversations::send_context(&mut conn, tenant_id, request.conversation_id)
        .await?
        .ok_or(SendRefused::NotFound)?;
    let content = request
        .content
        .to_request(&context.recipient, request.reply_to.as_deref());
    if let Some(existing) = existing {
        return existing.answer(&request, &content).map_err(Into::into);
    }
    request.content.validate().map_err(SendRefused::Invalid)?;
    let template_id = match &request.content {
        Outbound::Template {
            name,
            language,
            components,
        } => {
            Some(check_template(&mut conn, tenant_id, &context, name, language, components).await?)
        }
        _ => {
            check_window(&mut conn, tenant_id, &context, clock.now()).await?;
            None
        }
    };
    match insert_queued(
        &mut conn,
        tenant_id,
        &context,
        &request,
        &content,
        template_id,
    )
    .await?
    {
        Some(message_id) => Ok(Queued {
            message_id,
            duplicate: false,
        }),
        None => {
            // A concurrent request with the same key won the insert: answer with its message.
            let existing = find_by_key(&mut conn, tenant_id, &request.idempotency_key).await?;
            let existing = existing.context("the message with this idempotency key vanished")?;
            existing.answer(&request, &content).map_err(Into::into)
        }
    }
}

/// Queues a failed or unconfirmed message again: an agent's explicit retry, which really sends
/// again. Free-form content is checked against the window once more.
pub async fn retry(
    db: &PgPool,
    clock: &dyn Clock,
    tenant_id: i64,
    message_id: i64,
) -> Result<(), SendError> {
    let mut tx = db.begin().await.context("begin retry")?;
    let row = sqlx::query!(
        "select conversation_id, type, status from messages
         where tenant_id = $1 and id = $2 and direction = 'outbound' for update",
        tenant_id,
        message_id
    )
    .fetch_optional(&mut *tx)
    .await
    .context("load message to retry")?
    .ok_or(SendRefused::NotFound)?;
    if !matches!(row.status.as_str(), "failed" | "unknown") {
        return Err(SendRefused::NotRetryable.into());
    }
    if row.r#type != "template" {
        let context = conversations::send_context(&mut tx, tenant_id, row.conversation_id)
            .await?
            .ok_or(SendRefused::NotFound)?;
        check_window(&mut tx, tenant_id, &context, clock.now()).await?;
    }
    sqlx::query!(
        "with queued as (
             update messages set status = 'queued', wamid = null, attempts = 0,
                 next_attempt_at = now(), sending_started_at = null, error_code = null,
                 error_title = null, error_message = null, error_details = null
             where tenant_id = $1 and id = $2
             returning conversation_id
         )
         select from queued, announce($1, queued.conversation_id, $2, '{message_status}')",
        tenant_id,
        message_id
    )
    .execute(&mut *tx)
    .await
    .context("queue message again")?;
    notify_workers(&mut tx).await?;
    tx.commit().await.context("commit retry")?;
    Ok(())
}

/// The message an idempotency key was first used for.
struct KeyedMessage {
    id: i64,
    conversation_id: i64,
    content: serde_json::Value,
}

impl KeyedMessage {
    /// The same request again gets the same message; another request with the key is a conflict,
    /// as payment APIs answer it.
    fn answer(
        self,
        request: &SendRequest,
        content: &serde_json::Value,
    ) -> Result<Queued, SendRefused> {
        if self.conversation_id != request.conversation_id || &self.content != content {
            return Err(SendRefused::IdempotencyConflict {
                message_id: self.id,
            });
        }
        Ok(Queued {
            message_id: self.id,
            duplicate: true,
        })
    }
}

async fn find_by_key(
    conn: &mut PgConnection,
    tenant_id: i64,
    key: &str,
) -> anyhow::Result<Option<KeyedMessage>> {
    sqlx::query_as!(
        KeyedMessage,
        "select id, conversation_id, content from messages
         where tenant_id = $1 and idempotency_key = $2",
        tenant_id,
        key
    )
    .fetch_optional(conn)
    .await
    .context("look up idempotency key")
}

/// Queues the message, brings the conversation to the top and wakes the delivery workers, in one
/// statement; `None` when the idempotency key is taken.
async fn insert_queued(
    conn: &mut PgConnection,
    tenant_id: i64,
    context: &SendContext,
    request: &SendRequest,
    content: &serde_json::Value,
    template_id: Option<i64>,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"with queued as (
               insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body,
                   content, context_wamid, status, idempotency_key, sent_by, template_id,
                   next_attempt_at)
               values ($1, $2, $3, 'outbound', $4, $5, $6, $7, 'queued', $8, $9, $10, now())
               on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
               returning id, conversation_id
           ),
           touched as (
               update conversations c
               set last_message_at = greatest(c.last_message_at, now()), updated_at = now()
               from queued where c.id = queued.conversation_id
           )
           select queued.id as "id!"
           from queued, pg_notify($11, ''),
                announce($1, queued.conversation_id, queued.id, '{message_added}')"#,
        tenant_id,
        context.conversation_id,
        context.number_id,
        request.content.kind(),
        request.content.summary(),
        content,
        request.reply_to,
        request.idempotency_key,
        request.sent_by,
        template_id,
        CHANNEL
    )
    .fetch_optional(conn)
    .await
    .context("queue message")
}

/// Wakes the delivery workers of every instance when the transaction commits.
async fn notify_workers(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query!("select pg_notify($1, '')", CHANNEL)
        .execute(conn)
        .await
        .context("notify delivery workers")?;
    Ok(())
}
