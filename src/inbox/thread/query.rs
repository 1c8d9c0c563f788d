//! The conversation view's SQL, scoped by tenant: the conversation with its contact, a page of its
//! messages (newest first, continued by id), its notes and events in the same span, and marking it
//! read for the agent.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::domain::{
    conversations::ConversationStatus,
    ids::{
        ContactId, ConversationId, LabelId, MessageId, NumberId, TenantId, TimelineEventId, UserId,
    },
    messages::{Direction, MessageStatus},
};

/// Messages per page of the thread.
pub const PAGE: i64 = 50;

/// The conversation and its customer.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConversationId,
    pub number_id: NumberId,
    /// Meta's id of the number.
    pub phone_number_id: String,
    pub number_label: String,
    pub waba_id: String,
    /// The tenant's template language for customers whose language is unknown.
    pub default_language: String,
    pub status: ConversationStatus,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub contact_name: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub language: Option<String>,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    pub window_closed_by_meta_at: Option<DateTime<Utc>>,
    /// An admin paused sending from the number: replies wait in the queue.
    pub number_paused: bool,
    /// An admin removed the number: the conversation is read-only.
    pub number_removed: bool,
    pub contact_id: ContactId,
    /// The customer was erased at their request: read-only, nothing of theirs left.
    pub erased: bool,
}

/// The tenant's conversation `id`; `None` for an unknown id or another tenant's.
pub async fn conversation(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: ConversationId,
) -> anyhow::Result<Option<Conversation>> {
    sqlx::query_as!(
        Conversation,
        r#"select c.id as "id: ConversationId", c.phone_number_id as "number_id: NumberId",
                  n.phone_number_id,
                  coalesce(n.verified_name || ' · ' || n.display_phone_number, n.display_phone_number,
                           n.verified_name, n.phone_number_id) as "number_label!",
                  n.waba_id, t.default_language,
                  c.status as "status: ConversationStatus",
                  c.assignee_id as "assignee_id: UserId", u.name as "assignee_name?",
                  k.profile_name as contact_name, k.wa_id, k.user_id, k.language, k.opted_out_at,
                  c.last_customer_message_at, c.window_closed_by_meta_at,
                  n.paused_at is not null as "number_paused!",
                  n.removed_at is not null as "number_removed!",
                  k.id as "contact_id: ContactId", k.erased_at is not null as "erased!"
           from conversations c
           join contacts k on k.tenant_id = c.tenant_id and k.id = c.contact_id
           join phone_numbers n on n.tenant_id = c.tenant_id and n.id = c.phone_number_id
           join tenants t on t.id = c.tenant_id
           left join users u on u.tenant_id = c.tenant_id and u.id = c.assignee_id
           where c.tenant_id = $1 and c.id = $2"#,
        tenant_id as TenantId,
        id as ConversationId
    )
    .fetch_optional(conn)
    .await
    .context("load conversation")
}

/// A message as the thread shows it, with what its view needs: its template's definition and
/// the message it quotes.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: MessageId,
    pub direction: Direction,
    pub wamid: Option<String>,
    pub kind: String,
    pub content: Value,
    pub status: MessageStatus,
    pub at: DateTime<Utc>,
    pub sender_name: Option<String>,
    pub error_title: Option<String>,
    pub error_message: Option<String>,
    pub edited: bool,
    pub deleted: bool,
    pub template_components: Option<Value>,
    pub template_format: Option<String>,
    pub context_wamid: Option<String>,
    pub quoted_direction: Option<Direction>,
    pub quoted_body: Option<String>,
}

/// Up to [`PAGE`] messages before `before` (the newest without), newest first.
pub async fn messages(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    before: Option<MessageId>,
) -> anyhow::Result<Vec<Message>> {
    sqlx::query_as!(
        Message,
        r#"select m.id as "id: MessageId", m.direction as "direction: Direction", m.wamid,
                  m.type as kind, m.content, m.status as "status: MessageStatus",
                  coalesce(m.meta_timestamp, m.created_at) as "at!",
                  coalesce(u.name, ak.name || ' (API)') as "sender_name?", m.error_title,
                  m.error_message,
                  m.edited_at is not null as "edited!", m.deleted_at is not null as "deleted!",
                  t.components as "template_components?", t.parameter_format as "template_format?",
                  m.context_wamid, q.direction as "quoted_direction?: Direction",
                  q.body as "quoted_body?"
           from messages m
           left join users u on u.tenant_id = m.tenant_id and u.id = m.sent_by
           left join api_keys ak on ak.tenant_id = m.tenant_id and ak.id = m.api_key_id
           left join message_templates t on t.tenant_id = m.tenant_id and t.id = m.template_id
           left join lateral (
               select q.direction, q.body from messages q
               where q.phone_number_id = m.phone_number_id and q.wamid = m.context_wamid
           ) q on m.context_wamid is not null
           where m.conversation_id = $2 and m.tenant_id = $1
             and ($3::bigint is null or m.id < $3)
           order by m.id desc
           limit $4"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        before as Option<MessageId>,
        PAGE
    )
    .fetch_all(conn)
    .await
    .context("load messages")
}

/// A message of the conversation that can be replied or reacted to: its wamid and one-line
/// summary; `None` if it is not this tenant's conversation's, or Meta never gave it a wamid.
pub async fn quotable(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    message_id: MessageId,
) -> anyhow::Result<Option<(String, String)>> {
    let row = sqlx::query!(
        r#"select wamid as "wamid!", body from messages
           where tenant_id = $1 and conversation_id = $2 and id = $3 and wamid is not null"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        message_id as MessageId
    )
    .fetch_optional(conn)
    .await
    .context("look up the quoted message")?;
    Ok(row.map(|r| (r.wamid, r.body)))
}

/// The conversation's labels, by name.
pub async fn labels(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
) -> anyhow::Result<Vec<(LabelId, String)>> {
    let rows = sqlx::query!(
        r#"select l.id as "id: LabelId", l.name
           from conversation_labels cl join labels l on l.tenant_id = cl.tenant_id and l.id = cl.label_id
           where cl.tenant_id = $1 and cl.conversation_id = $2
           order by lower(l.name)"#,
        tenant_id as TenantId,
        conversation_id as ConversationId
    )
    .fetch_all(conn)
    .await
    .context("load the conversation's labels")?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Another conversation of the same customer, with another of the tenant's numbers.
pub struct OtherThread {
    pub id: ConversationId,
    pub number_label: String,
    pub status: ConversationStatus,
    pub last_message_at: DateTime<Utc>,
}

/// The customer's other conversations with the tenant (one per number), most recent first.
pub async fn other_threads(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
) -> anyhow::Result<Vec<OtherThread>> {
    sqlx::query_as!(
        OtherThread,
        r#"select o.id as "id: ConversationId",
                  coalesce(n.verified_name || ' · ' || n.display_phone_number, n.display_phone_number,
                           n.verified_name, n.phone_number_id) as "number_label!",
                  o.status as "status: ConversationStatus", o.last_message_at
           from conversations c
           join conversations o on o.tenant_id = c.tenant_id and o.contact_id = c.contact_id
                               and o.id <> c.id
           join phone_numbers n on n.tenant_id = o.tenant_id and n.id = o.phone_number_id
           where c.tenant_id = $1 and c.id = $2
           order by o.last_message_at desc
           limit 20"#,
        tenant_id as TenantId,
        conversation_id as ConversationId
    )
    .fetch_all(conn)
    .await
    .context("load the customer's other conversations")
}

/// A customer's reaction to one of `wamids` (the latest per message; no emoji: taken back).
pub struct CustomerReaction {
    pub target_wamid: String,
    pub emoji: Option<String>,
}

/// The customer's reactions to these messages of the conversation's number.
pub async fn reactions(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    wamids: &[String],
) -> anyhow::Result<Vec<CustomerReaction>> {
    sqlx::query_as!(
        CustomerReaction,
        r#"select r.target_wamid, r.emoji
           from message_reactions r
           join conversations c on c.tenant_id = r.tenant_id and c.phone_number_id = r.phone_number_id
           where c.tenant_id = $1 and c.id = $2 and r.direction = 'inbound'
             and r.target_wamid = any($3)
           order by r.meta_timestamp, r.id"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        wamids
    )
    .fetch_all(conn)
    .await
    .context("load reactions")
}

/// A note or event of the timeline.
#[derive(Debug, Clone)]
pub struct TimelineEvent {
    pub id: TimelineEventId,
    pub kind: String,
    pub body: String,
    pub user_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// The notes and events since `since` (all of them when `None`), oldest first.
pub async fn events(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<TimelineEvent>> {
    sqlx::query_as!(
        TimelineEvent,
        r#"select e.id as "id: TimelineEventId", e.kind, e.body,
                  coalesce(u.name, ak.name || ' (API)') as "user_name?", e.created_at as at
           from conversation_events e
           left join users u on u.tenant_id = e.tenant_id and u.id = e.user_id
           left join api_keys ak on ak.tenant_id = e.tenant_id and ak.id = e.api_key_id
           where e.tenant_id = $1 and e.conversation_id = $2
             and ($3::timestamptz is null or e.created_at >= $3)
             and ($4::timestamptz is null or e.created_at < $4)
           order by e.created_at, e.id"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        since,
        until
    )
    .fetch_all(conn)
    .await
    .context("load the timeline")
}

/// Marks the conversation read by `user` up to its newest message; whether that changed anything.
pub async fn mark_read(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    user: UserId,
) -> anyhow::Result<bool> {
    let changed = sqlx::query!(
        r#"insert into conversation_reads (tenant_id, conversation_id, user_id, last_read_message_id)
           select $1, $2, $3, m.id from messages m
           where m.conversation_id = $2 and m.tenant_id = $1
           order by m.id desc limit 1
           on conflict (conversation_id, user_id) do update
               set last_read_message_id = excluded.last_read_message_id, read_at = now()
               where conversation_reads.last_read_message_id < excluded.last_read_message_id"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        user as UserId
    )
    .execute(conn)
    .await
    .context("mark the conversation read")?;
    Ok(changed.rows_affected() > 0)
}
