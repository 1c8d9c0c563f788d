//! The send service every surface calls: the inbox, the admin console, the public API and the CLI.
//! A message goes to a conversation, or to a customer of one of the tenant's numbers (by phone or
//! business-scoped user id), whose conversation is started if the business writes first. What may
//! go out is decided in `checks`; every accepted request becomes a `queued` message row that
//! records who sent it and is keyed by the caller's idempotency key, so a double click or a client
//! retry returns the same message and causes one Meta call. In a known conversation the checks read
//! committed data and the message is handed to `queueing`, which stores it with the others that
//! arrive meanwhile; starting a conversation takes a transaction of its own, so that a refused
//! first message leaves no empty conversation behind.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use sqlx::{Acquire, PgConnection, PgPool, Postgres, pool::PoolConnection};

pub use super::refused::SendRefused;
use super::{
    CHANNEL,
    checks::{check_template, check_window, window_open},
    lookup::{self, Lookup, Lookups},
    queueing::{self, NewMessage, Queueing},
};
use crate::{
    domain::{
        audit, conversations,
        ids::{ConversationId, MessageId, NumberId, TenantId},
        messages::{MessageStatus, SentBy},
    },
    whatsapp::{customer_id::CustomerId, outbound::Outbound},
    window::Clock,
};

/// Checks and queues messages for every surface; cheap to clone.
#[derive(Clone)]
pub struct SendService {
    db: PgPool,
    clock: Arc<dyn Clock>,
    lookups: Lookups,
    queueing: Queueing,
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
        /// The numbers the sender may use (an API key's); `None` for all of the tenant's. Another
        /// is refused as if the tenant had no such number.
        numbers: Option<Vec<NumberId>>,
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

/// What checking a request found.
enum Checked {
    /// The idempotency key's message, as first queued.
    Answered(Queued),
    /// A message that may go out.
    Accepted(NewMessage),
}

/// Where the checks read templates, when they need to: the connection of the caller's
/// transaction, or one taken from the pool only then.
enum Reader<'a> {
    Held(&'a mut PgConnection),
    Pool(&'a PgPool),
}

impl Reader<'_> {
    async fn connection<'b>(
        &'b mut self,
        pooled: &'b mut Option<PoolConnection<Postgres>>,
    ) -> anyhow::Result<&'b mut PgConnection> {
        Ok(match self {
            Self::Held(conn) => conn,
            Self::Pool(db) => pooled.insert(db.acquire().await.context("acquire connection")?),
        })
    }
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
    /// A service on `db` that asks `clock` for the time (`SystemClock`, or a test's). Starts the
    /// tasks that read and store messages for many requests at once, so it is made on a Tokio
    /// runtime.
    pub fn new(db: PgPool, clock: Arc<dyn Clock>) -> Self {
        let lookups = Lookups::start(&db);
        let queueing = Queueing::start(db.clone());
        Self {
            db,
            clock,
            lookups,
            queueing,
        }
    }

    /// Checks and queues a message; see the module docs.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, conversation_id = tracing::field::Empty))]
    pub async fn send(
        &self,
        tenant_id: TenantId,
        request: SendRequest,
    ) -> Result<Queued, SendError> {
        let key = &request.idempotency_key;
        let lookup = match &request.to {
            SendTo::Conversation(id) => self.lookups.by_conversation(tenant_id, *id, key).await?,
            SendTo::Customer {
                phone_number_id,
                customer,
                numbers,
            } => {
                let found = self
                    .lookups
                    .by_customer(tenant_id, phone_number_id, customer, key)
                    .await?
                    .filter(|(number_id, _)| {
                        numbers.as_ref().is_none_or(|ids| ids.contains(number_id))
                    });
                let Some((number_id, lookup)) = found else {
                    return Err(SendRefused::NumberNotFound {
                        phone_number_id: phone_number_id.clone(),
                    }
                    .into());
                };
                if lookup.context.is_none() {
                    let mut conn = self.db.acquire().await.context("acquire connection")?;
                    return self
                        .start_conversation(&mut conn, tenant_id, number_id, customer, &request)
                        .await;
                }
                lookup
            }
        };
        let message = match self
            .check(tenant_id, lookup, &request, Reader::Pool(&self.db))
            .await?
        {
            Checked::Answered(queued) => return Ok(queued),
            Checked::Accepted(message) => message,
        };
        let (message, stored) = self.queueing.store(message).await?;
        self.queued(tenant_id, &message, stored).await
    }

    /// Starts the conversation with `customer` and queues its first message, in one transaction,
    /// so that a refused first message leaves no empty conversation behind.
    async fn start_conversation(
        &self,
        conn: &mut PgConnection,
        tenant_id: TenantId,
        number_id: NumberId,
        customer: &CustomerId,
        request: &SendRequest,
    ) -> Result<Queued, SendError> {
        let mut tx = conn.begin().await.context("begin send")?;
        let id = conversations::find_or_create_for(&mut tx, tenant_id, number_id, customer).await?;
        let key = &request.idempotency_key;
        let lookup = lookup::by_conversation(&mut tx, tenant_id, id, key).await?;
        let message = match self
            .check(tenant_id, lookup, request, Reader::Held(&mut tx))
            .await?
        {
            Checked::Answered(queued) => return Ok(queued),
            Checked::Accepted(message) => message,
        };
        let stored = queueing::insert(&mut tx, std::slice::from_ref(&message)).await?;
        tx.commit().await.context("commit send")?;
        self.queued(tenant_id, &message, stored.into_iter().next().flatten())
            .await
    }

    /// Checks a message for the conversation of `lookup`: the answer already given to its
    /// idempotency key, a refusal, or the message to queue. `db` reads the templates, when a
    /// check needs them.
    async fn check(
        &self,
        tenant_id: TenantId,
        lookup: Lookup,
        request: &SendRequest,
        mut db: Reader<'_>,
    ) -> Result<Checked, SendError> {
        let context = lookup.context.ok_or(SendRefused::NotFound)?;
        let conversation_id = context.conversation_id;
        tracing::Span::current().record("conversation_id", conversation_id.get());
        if context.number_removed {
            return Err(SendRefused::NumberRemoved.into());
        }
        let content = request
            .content
            .to_request(&context.recipient, request.reply_to.as_deref());
        if let Some(existing) = lookup.keyed {
            return Ok(Checked::Answered(
                existing.answer(conversation_id, &content)?,
            ));
        }
        request.content.validate().map_err(SendRefused::Invalid)?;
        let template_id = match &request.content {
            Outbound::Template {
                name,
                language,
                components,
            } => {
                let mut pooled = None;
                let conn = db.connection(&mut pooled).await?;
                Some(check_template(conn, tenant_id, &context, name, language, components).await?)
            }
            _ => {
                let now = self.clock.now();
                if !window_open(&context, now) {
                    let mut pooled = None;
                    let conn = db.connection(&mut pooled).await?;
                    check_window(conn, tenant_id, &context, now).await?;
                }
                None
            }
        };
        Ok(Checked::Accepted(NewMessage {
            tenant_id,
            conversation_id,
            number_id: context.number_id,
            kind: request.content.kind(),
            body: request.content.summary(),
            content,
            reply_to: request.reply_to.clone(),
            idempotency_key: request.idempotency_key.clone(),
            sent_by_kind: request.sent_by.kind(),
            sent_by: request.sent_by.user_id(),
            api_key_id: request.sent_by.api_key_id(),
            template_id,
        }))
    }

    /// The answer to a request whose `message` was stored as `stored`.
    async fn queued(
        &self,
        tenant_id: TenantId,
        message: &NewMessage,
        stored: Option<MessageId>,
    ) -> Result<Queued, SendError> {
        if let Some(message_id) = stored {
            return Ok(Queued {
                message_id,
                conversation_id: message.conversation_id,
                duplicate: false,
            });
        }
        // A concurrent request with the same key won the insert: answer with its message.
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let existing = lookup::keyed_message(&mut conn, tenant_id, &message.idempotency_key)
            .await?
            .context("the message with this idempotency key vanished")?;
        Ok(existing.answer(message.conversation_id, &message.content)?)
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
        match lookup::keyed_message(&mut conn, tenant_id, idempotency_key).await? {
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
        let context = conversations::send_context(&mut tx, tenant_id, row.conversation_id)
            .await?
            .ok_or(SendRefused::NotFound)?;
        if context.number_removed {
            return Err(SendRefused::NumberRemoved.into());
        }
        if row.r#type != "template" {
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

/// Wakes the delivery workers of every instance when the transaction commits.
async fn notify_workers(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query!("select pg_notify($1, '')", CHANNEL)
        .execute(conn)
        .await
        .context("notify delivery workers")?;
    Ok(())
}
