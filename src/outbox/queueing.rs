//! Storing accepted messages as `queued` rows, many in one transaction. Each queued message is
//! announced with `pg_notify` in the transaction that stores it (`domain::events`), and
//! PostgreSQL serialises the commits of notifying transactions: one lock, held across each
//! commit's WAL flush. At a campaign's rate, one transaction per message made every send wait in
//! line for that lock (a `send()` p99 of 150–250 ms at 1,000 messages/s, against 30–50 ms with
//! no notification; docs/benchmarks.md). So the messages of requests that arrive while earlier
//! ones are being stored are stored together, by one statement: the group commit PostgreSQL
//! cannot do for them. A lone request waits for nothing.
//!
//! One batch is stored at a time: the statement's fixed cost (planning, the conversations' lock
//! and update, the commit) is most of a small batch's, and notifying commits are serialised
//! anyway. With four batches at once, batches at 1,000 requests a second held five messages; with
//! one, the Graph endpoint's p50 at that rate fell from 32–103 ms to 12–39 ms (docs/benchmarks.md,
//! "Integrators"). A batch that fails is stored again message by message, so that one bad row
//! fails only its own request.

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use sqlx::{PgConnection, PgPool};

use super::CHANNEL;
use crate::{
    batch::Batcher,
    domain::{
        ids::{ApiKeyId, ConversationId, MessageId, NumberId, TemplateId, TenantId, UserId},
        messages::SentByKind,
    },
};

/// The most messages one statement stores.
const MAX_BATCH: usize = 100;

/// A checked message, ready to be queued.
#[derive(Debug)]
pub(super) struct NewMessage {
    pub tenant_id: TenantId,
    pub conversation_id: ConversationId,
    pub number_id: NumberId,
    /// The message type (`text`, `template`, …).
    pub kind: &'static str,
    /// What the inbox shows and search finds.
    pub body: String,
    /// The Graph request body.
    pub content: serde_json::Value,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    pub idempotency_key: String,
    pub sent_by_kind: SentByKind,
    pub sent_by: Option<UserId>,
    pub api_key_id: Option<ApiKeyId>,
    pub template_id: Option<TemplateId>,
}

/// The queued message's id, or `None` when its idempotency key was taken first.
type Stored = anyhow::Result<Option<MessageId>>;

/// Hands messages to the writer; cheap to clone. The writer stops when every clone is gone.
#[derive(Clone)]
pub(super) struct Queueing {
    /// Each message comes back with what became of it.
    writer: Batcher<NewMessage, (NewMessage, Stored)>,
}

impl Queueing {
    /// Starts the writer on `db` (on the current Tokio runtime): what is waiting, up to
    /// [`MAX_BATCH`], is stored as soon as the batch before is stored.
    pub fn start(db: PgPool) -> Self {
        let writer = Batcher::start(
            MAX_BATCH,
            Duration::ZERO,
            move |messages: Vec<NewMessage>| {
                let db = db.clone();
                async move {
                    let results = store_batch(&db, &messages).await;
                    messages.into_iter().zip(results).collect()
                }
            },
        );
        Self { writer }
    }

    /// Queues `message` with whatever else is waiting, and wakes the delivery workers; hands the
    /// message back with what became of it. (A caller that has gone finds its message queued
    /// all the same.)
    pub async fn store(
        &self,
        message: NewMessage,
    ) -> anyhow::Result<(NewMessage, Option<MessageId>)> {
        let (message, stored) = self.writer.call(message).await?;
        Ok((message, stored?))
    }
}

/// Stores `messages` in one transaction, or one by one if that fails.
async fn store_batch(db: &PgPool, messages: &[NewMessage]) -> Vec<Stored> {
    match insert_on(db, messages).await {
        Ok(ids) => ids.into_iter().map(Ok).collect(),
        Err(error) if messages.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), messages = messages.len(),
                "a batch of messages failed to queue; queueing them one by one");
            let mut results = Vec::with_capacity(messages.len());
            for message in messages {
                let alone = insert_on(db, std::slice::from_ref(message)).await;
                results.push(alone.map(|ids| ids.into_iter().next().flatten()));
            }
            results
        }
    }
}

/// [`insert`] on a connection of its own.
async fn insert_on(db: &PgPool, messages: &[NewMessage]) -> anyhow::Result<Vec<Option<MessageId>>> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    insert(&mut conn, messages).await
}

/// Queues `messages` in one statement: the rows, their conversations brought to the top (locked
/// in id order, so concurrent batches cannot deadlock), the delivery workers woken and each
/// message announced. Per message, in order: its id, or `None` when its idempotency key is taken.
pub(super) async fn insert(
    conn: &mut PgConnection,
    messages: &[NewMessage],
) -> anyhow::Result<Vec<Option<MessageId>>> {
    let column = |f: fn(&NewMessage) -> Option<i64>| messages.iter().map(f).collect::<Vec<_>>();
    let tenants = column(|m| Some(m.tenant_id.get()));
    let conversations = column(|m| Some(m.conversation_id.get()));
    let numbers = column(|m| Some(m.number_id.get()));
    let users = column(|m| m.sent_by.map(UserId::get));
    let api_keys = column(|m| m.api_key_id.map(ApiKeyId::get));
    let templates = column(|m| m.template_id.map(TemplateId::get));
    let kinds: Vec<&str> = messages.iter().map(|m| m.kind).collect();
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    let contents: Vec<serde_json::Value> = messages.iter().map(|m| m.content.clone()).collect();
    let replies: Vec<Option<&str>> = messages.iter().map(|m| m.reply_to.as_deref()).collect();
    let keys: Vec<&str> = messages
        .iter()
        .map(|m| m.idempotency_key.as_str())
        .collect();
    let senders: Vec<&str> = messages.iter().map(|m| m.sent_by_kind.as_str()).collect();
    let rows = sqlx::query!(
        r#"with input as materialized (
               select * from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                   $5::text[], $6::jsonb[], $7::text[], $8::text[], $9::text[], $10::bigint[],
                   $11::bigint[], $12::bigint[])
               with ordinality as t (tenant_id, conversation_id, phone_number_id, type, body,
                   content, context_wamid, idempotency_key, sent_by_kind, sent_by, api_key_id,
                   template_id, position)
           ),
           -- The conversations by primary key: a plan made for "some rows of `input`" (a
           -- hundred, to the planner) otherwise hashes them and reads the whole table.
           locked as materialized (
               select c.id from conversations c
               where c.id = any($2::bigint[])
                 and exists (select from input where input.tenant_id = c.tenant_id
                                                  and input.conversation_id = c.id)
               order by c.id
               for no key update
           ),
           queued as (
               insert into messages (tenant_id, conversation_id, phone_number_id, direction, type,
                   body, content, context_wamid, status, idempotency_key, sent_by_kind, sent_by,
                   api_key_id, template_id, next_attempt_at)
               select tenant_id, conversation_id, phone_number_id, 'outbound', type, body, content,
                      context_wamid, 'queued', idempotency_key, sent_by_kind, sent_by, api_key_id,
                      template_id, now()
               from input order by position
               on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
               returning id, tenant_id, conversation_id, idempotency_key
           ),
           touched as (
               update conversations c
               set last_message_at = greatest(c.last_message_at, now()),
                   last_reply_at = greatest(c.last_reply_at, now()), updated_at = now()
               where c.id = any(array(select locked.id from locked
                                      where locked.id in (select conversation_id from queued)))
           )
           select queued.id as "id!: MessageId", queued.tenant_id as "tenant_id!: TenantId",
                  queued.idempotency_key as "idempotency_key!"
           from queued, pg_notify($13, ''),
                announce(queued.tenant_id, queued.conversation_id, queued.id, '{message_added}')"#,
        &tenants as &[Option<i64>],
        &conversations as &[Option<i64>],
        &numbers as &[Option<i64>],
        &kinds as &[&str],
        &bodies as &[&str],
        &contents,
        &replies as &[Option<&str>],
        &keys as &[&str],
        &senders as &[&str],
        &users as &[Option<i64>],
        &api_keys as &[Option<i64>],
        &templates as &[Option<i64>],
        CHANNEL
    )
    .fetch_all(conn)
    .await
    .context("queue messages")?;
    let mut ids: HashMap<(TenantId, String), MessageId> = rows
        .into_iter()
        .map(|r| ((r.tenant_id, r.idempotency_key), r.id))
        .collect();
    Ok(messages
        .iter()
        .map(|m| ids.remove(&(m.tenant_id, m.idempotency_key.clone())))
        .collect())
}
