//! The send service every surface calls: the inbox, the admin console, the public API and the CLI.
//! A message goes to a conversation, or to a customer of one of the tenant's numbers (by phone or
//! business-scoped user id), whose conversation is started if the business writes first. What may
//! go out is decided in `checks`; every accepted request becomes a `queued` message row that
//! records who sent it and is keyed by the caller's idempotency key, so a double click or a client
//! retry returns the same message and causes one Meta call. In a known conversation a send needs
//! no transaction (the checks read committed data and the queueing is one statement); starting a
//! conversation takes one, so that a refused first message leaves no empty conversation behind.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use sqlx::{Acquire, PgConnection, PgPool};

pub use super::refused::SendRefused;
use super::{
    CHANNEL,
    checks::{check_template, check_window},
};
use crate::{
    domain::{
        audit, conversations,
        ids::{ApiKeyId, ConversationId, MessageId, NumberId, TemplateId, TenantId, UserId},
        messages::{MessageStatus, SentBy, SentByKind},
        numbers,
    },
    whatsapp::{customer_id::CustomerId, outbound::Outbound},
    window::Clock,
};

/// Checks and queues messages for every surface; cheap to clone.
#[derive(Clone)]
pub struct SendService {
    db: PgPool,
    clock: Arc<dyn Clock>,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendTo {
    /// One of the tenant's conversations, by id.
    Conversation(ConversationId),
    /// A customer of the tenant's number with Meta's `phone_number_id`; their conversation is
    /// found, or started.
    Customer {
        phone_number_id: String,
        customer: CustomerId,
    },
}

/// A request to send `content`.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub to: SendTo,
    pub content: Outbound,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    /// Chosen by the caller; the same key always means the same message.
    pub idempotency_key: String,
    /// Who is sending, recorded with the message.
    pub sent_by: SentBy,
}

/// The queued message and its conversation; `duplicate` when the idempotency key had been used
/// before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
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

impl SendService {
    /// A service on `db` that asks `clock` for the time (`SystemClock`, or a test's).
    pub fn new(db: PgPool, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Checks and queues a message; see the module docs.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, conversation_id = tracing::field::Empty))]
    pub async fn send(
        &self,
        tenant_id: TenantId,
        request: SendRequest,
    ) -> Result<Queued, SendError> {
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let (phone_number_id, customer) = match &request.to {
            SendTo::Conversation(conversation_id) => {
                return self
                    .queue(&mut conn, tenant_id, *conversation_id, &request)
                    .await;
            }
            SendTo::Customer {
                phone_number_id,
                customer,
            } => (phone_number_id, customer),
        };
        let number_id = numbers::id_for_tenant(&mut conn, tenant_id, phone_number_id)
            .await?
            .ok_or_else(|| SendRefused::NumberNotFound {
                phone_number_id: phone_number_id.clone(),
            })?;
        if let Some(id) = conversations::find_for(&mut conn, tenant_id, number_id, customer).await?
        {
            return self.queue(&mut conn, tenant_id, id, &request).await;
        }
        let mut tx = conn.begin().await.context("begin send")?;
        let id = conversations::find_or_create_for(&mut tx, tenant_id, number_id, customer).await?;
        let queued = self.queue(&mut tx, tenant_id, id, &request).await?;
        tx.commit().await.context("commit send")?;
        Ok(queued)
    }

    /// Checks and queues a message in the conversation `conversation_id`.
    async fn queue(
        &self,
        conn: &mut PgConnection,
        tenant_id: TenantId,
        conversation_id: ConversationId,
        request: &SendRequest,
    ) -> Result<Queued, SendError> {
        tracing::Span::current().record("conversation_id", conversation_id.get());
        let existing = find_by_key(conn, tenant_id, &request.idempotency_key).await?;
        let context = conversations::send_context(conn, tenant_id, conversation_id)
            .await?
            .ok_or(SendRefused::NotFound)?;
        let content = request
            .content
            .to_request(&context.recipient, request.reply_to.as_deref());
        if let Some(existing) = existing {
            return existing
                .answer(conversation_id, &content)
                .map_err(Into::into);
        }
        request.content.validate().map_err(SendRefused::Invalid)?;
        let template_id = match &request.content {
            Outbound::Template {
                name,
                language,
                components,
            } => Some(check_template(conn, tenant_id, &context, name, language, components).await?),
            _ => {
                check_window(conn, tenant_id, &context, self.clock.now()).await?;
                None
            }
        };
        let queued = NewMessage {
            context: &context,
            request,
            content: &content,
            template_id,
        };
        match insert_queued(conn, tenant_id, &queued).await? {
            Some(message_id) => Ok(Queued {
                message_id,
                conversation_id,
                duplicate: false,
            }),
            None => {
                // A concurrent request with the same key won the insert: answer with its message.
                let existing = find_by_key(conn, tenant_id, &request.idempotency_key).await?;
                let existing =
                    existing.context("the message with this idempotency key vanished")?;
                existing
                    .answer(conversation_id, &content)
                    .map_err(Into::into)
            }
        }
    }

    /// The message already queued under `idempotency_key` in `conversation_id`, if any: for callers
    /// that must do something costly before sending (an upload) only once per key.
    pub async fn sent_with_key(
        &self,
        tenant_id: TenantId,
        conversation_id: ConversationId,
        idempotency_key: &str,
    ) -> Result<Option<MessageId>, SendError> {
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        match find_by_key(&mut conn, tenant_id, idempotency_key).await? {
            Some(existing) if existing.conversation_id == conversation_id => Ok(Some(existing.id)),
            Some(existing) => Err(SendRefused::IdempotencyConflict {
                message_id: existing.id,
            }
            .into()),
            None => Ok(None),
        }
    }

    /// Queues a failed or unconfirmed message again: an explicit retry by `by` (recorded in the
    /// audit trail), which really sends again. Free-form content is checked against the window
    /// once more.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, message_id = %message_id))]
    pub async fn retry(
        &self,
        tenant_id: TenantId,
        message_id: MessageId,
        by: SentBy,
    ) -> Result<(), SendError> {
        let mut tx = self.db.begin().await.context("begin retry")?;
        let row = sqlx::query!(
            r#"select conversation_id as "conversation_id: ConversationId", type,
                      status as "status: MessageStatus"
               from messages
               where tenant_id = $1 and id = $2 and direction = 'outbound' for update"#,
            tenant_id as TenantId,
            message_id as MessageId
        )
        .fetch_optional(&mut *tx)
        .await
        .context("load message to retry")?
        .ok_or(SendRefused::NotFound)?;
        if !row.status.is_retryable() {
            return Err(SendRefused::NotRetryable.into());
        }
        if row.r#type != "template" {
            let context = conversations::send_context(&mut tx, tenant_id, row.conversation_id)
                .await?
                .ok_or(SendRefused::NotFound)?;
            check_window(&mut tx, tenant_id, &context, self.clock.now()).await?;
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
            tenant_id as TenantId,
            message_id as MessageId
        )
        .execute(&mut *tx)
        .await
        .context("queue message again")?;
        let details = json!({
            "message_id": message_id, "by": by.kind().as_str(), "api_key_id": by.api_key_id()
        });
        audit::record(&mut tx, tenant_id, by.user_id(), "message.retry", details).await?;
        notify_workers(&mut tx).await?;
        tx.commit().await.context("commit retry")?;
        Ok(())
    }
}

/// The message an idempotency key was first used for.
struct KeyedMessage {
    id: MessageId,
    conversation_id: ConversationId,
    content: serde_json::Value,
}

impl KeyedMessage {
    /// The same request again gets the same message; another request with the key is a conflict,
    /// as payment APIs answer it.
    fn answer(
        self,
        conversation_id: ConversationId,
        content: &serde_json::Value,
    ) -> Result<Queued, SendRefused> {
        if self.conversation_id != conversation_id || &self.content != content {
            return Err(SendRefused::IdempotencyConflict {
                message_id: self.id,
            });
        }
        Ok(Queued {
            message_id: self.id,
            conversation_id,
            duplicate: true,
        })
    }
}

async fn find_by_key(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    key: &str,
) -> anyhow::Result<Option<KeyedMessage>> {
    sqlx::query_as!(
        KeyedMessage,
        r#"select id as "id: MessageId", conversation_id as "conversation_id: ConversationId", content
           from messages where tenant_id = $1 and idempotency_key = $2"#,
        tenant_id as TenantId,
        key
    )
    .fetch_optional(conn)
    .await
    .context("look up idempotency key")
}

/// A checked message, ready to queue.
struct NewMessage<'a> {
    context: &'a conversations::SendContext,
    request: &'a SendRequest,
    /// The Graph request body.
    content: &'a serde_json::Value,
    template_id: Option<TemplateId>,
}

/// Queues the message, brings the conversation to the top and wakes the delivery workers, in one
/// statement; `None` when the idempotency key is taken.
async fn insert_queued(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    message: &NewMessage<'_>,
) -> anyhow::Result<Option<MessageId>> {
    let NewMessage {
        context,
        request,
        content,
        template_id,
    } = message;
    sqlx::query_scalar!(
        r#"with queued as (
               insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body,
                   content, context_wamid, status, idempotency_key, sent_by_kind, sent_by, api_key_id,
                   template_id, next_attempt_at)
               values ($1, $2, $3, 'outbound', $4, $5, $6, $7, 'queued', $8, $9, $10, $11, $12, now())
               on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
               returning id, conversation_id
           ),
           touched as (
               update conversations c
               set last_message_at = greatest(c.last_message_at, now()),
                   last_reply_at = greatest(c.last_reply_at, now()), updated_at = now()
               from queued where c.tenant_id = $1 and c.id = queued.conversation_id
           )
           select queued.id as "id!: MessageId"
           from queued, pg_notify($13, ''),
                announce($1, queued.conversation_id, queued.id, '{message_added}')"#,
        tenant_id as TenantId,
        context.conversation_id as ConversationId,
        context.number_id as NumberId,
        request.content.kind(),
        request.content.summary(),
        content,
        request.reply_to,
        request.idempotency_key,
        request.sent_by.kind() as SentByKind,
        request.sent_by.user_id() as Option<UserId>,
        request.sent_by.api_key_id() as Option<ApiKeyId>,
        *template_id as Option<TemplateId>,
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
