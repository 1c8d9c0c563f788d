//! Erasing a customer on request (data-protection laws), in one transaction: the contact loses its
//! number, username, name and language; every message of its conversations loses its text and
//! content (shown as "Erased at the customer's request"), with the reactions, edits and delivery
//! statuses that carried them; the tenant's raw webhook events that name the customer are
//! replaced by a note and never applied; each conversation stays, resolved, with an "erased" event
//! in its timeline; and the erasure is audited (by ids and counts, never by what was erased).
//! Media is fetched from Meta through a message's content, so once that is gone the media route
//! has nothing to fetch: cached copies are unreachable and age out.

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    events::{self, Kind},
    ids::{ContactId, ConversationId, TenantId, UserId},
};
use crate::whatsapp::customer_id::CustomerId;

/// What an erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub conversations: i64,
    pub messages: i64,
    pub webhook_events: i64,
}

/// The tenant's contact who is `customer`, if any.
pub async fn find(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    customer: &CustomerId,
) -> anyhow::Result<Option<ContactId>> {
    sqlx::query_scalar!(
        r#"select id as "id: ContactId" from contacts
           where tenant_id = $1 and (wa_id = $2 or (wa_id is null and user_id = $3))
           limit 1"#,
        tenant_id as TenantId,
        customer.wa_id(),
        customer.user_id()
    )
    .fetch_optional(conn)
    .await
    .context("find the contact")
}

/// Erases the tenant's contact `contact_id` for `by` (an admin; `None` for the operator's command
/// line). `None` when the tenant has no such contact; erasing again erases nothing more.
pub async fn erase(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    contact_id: ContactId,
) -> anyhow::Result<Option<Erased>> {
    let Some(contact) = sqlx::query!(
        r#"select wa_id, user_id from contacts where tenant_id = $1 and id = $2 for update"#,
        tenant_id as TenantId,
        contact_id as ContactId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("lock the contact")?
    else {
        return Ok(None);
    };
    let identifiers: Vec<String> = [contact.wa_id, contact.user_id]
        .into_iter()
        .flatten()
        .collect();
    let conversations = sqlx::query_scalar!(
        r#"update conversations set status = 'resolved', assignee_id = null, unread_count = 0,
                                    updated_at = now()
           where tenant_id = $1 and contact_id = $2
           returning id as "id: ConversationId""#,
        tenant_id as TenantId,
        contact_id as ContactId
    )
    .fetch_all(&mut *conn)
    .await
    .context("resolve the customer's conversations")?;
    let ids: Vec<i64> = conversations.iter().map(|id| id.get()).collect();
    let wamids = sqlx::query_scalar!(
        r#"select wamid as "wamid!" from messages
           where tenant_id = $1 and conversation_id = any($2) and wamid is not null"#,
        tenant_id as TenantId,
        &ids
    )
    .fetch_all(&mut *conn)
    .await
    .context("list the customer's messages")?;
    for statement in [
        "delete from message_reactions where tenant_id = $1 and target_wamid = any($2)",
        "delete from message_changes where tenant_id = $1 and target_wamid = any($2)",
        "delete from message_statuses where tenant_id = $1 and wamid = any($2)",
    ] {
        sqlx::query(statement)
            .bind(tenant_id.get())
            .bind(&wamids)
            .execute(&mut *conn)
            .await
            .with_context(|| format!("erase: {statement}"))?;
    }
    let messages = sqlx::query!(
        r#"update messages set body = '', content = '{"type": "erased"}', type = 'erased',
                               original_content = null, context_wamid = null,
                               error_message = null, error_details = null
           where tenant_id = $1 and conversation_id = any($2)"#,
        tenant_id as TenantId,
        &ids
    )
    .execute(&mut *conn)
    .await
    .context("erase the customer's messages")?
    .rows_affected();
    sqlx::query!(
        "delete from message_texts t using messages m
         where m.tenant_id = $1 and m.conversation_id = any($2) and t.message_id = m.id",
        tenant_id as TenantId,
        &ids
    )
    .execute(&mut *conn)
    .await
    .context("forget the customer's messages' text")?;
    let webhook_events = sqlx::query!(
        r#"update webhook_events e
           set body = convert_to('{"erased": "this event named a customer erased on request"}',
                                 'UTF8'),
               state = case when e.state = 'applied' then 'applied' else 'dismissed' end
           from meta_apps a
           where a.id = e.app_id and a.tenant_id = $1 and cardinality($2::text[]) > 0
             and exists (select 1 from unnest($2::text[]) as i (identifier)
                         where position(convert_to(i.identifier, 'UTF8') in e.body) > 0)"#,
        tenant_id as TenantId,
        &identifiers
    )
    .execute(&mut *conn)
    .await
    .context("erase the customer from raw webhook events")?
    .rows_affected();
    sqlx::query!(
        "update contacts set wa_id = null, user_id = null, profile_name = null, language = null,
                             erased_at = coalesce(erased_at, now()), updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        contact_id as ContactId
    )
    .execute(&mut *conn)
    .await
    .context("erase the contact")?;
    for conversation in &conversations {
        sqlx::query!(
            "insert into conversation_events (tenant_id, conversation_id, kind, user_id, body)
             values ($1, $2, 'erased', $3,
                     case when $3::bigint is null then 'The customer was erased at their request'
                          else 'erased the customer at their request' end)",
            tenant_id as TenantId,
            *conversation as ConversationId,
            by as Option<UserId>
        )
        .execute(&mut *conn)
        .await
        .context("record the erasure in the timeline")?;
        let kinds = [
            Kind::Contact,
            Kind::MessageChanged,
            Kind::ConversationStatus,
            Kind::Timeline,
        ];
        events::announce(conn, tenant_id, *conversation, None, &kinds).await?;
    }
    let erased = Erased {
        conversations: i64::try_from(conversations.len()).unwrap_or(i64::MAX),
        messages: i64::try_from(messages).unwrap_or(i64::MAX),
        webhook_events: i64::try_from(webhook_events).unwrap_or(i64::MAX),
    };
    let details = json!({
        "contact_id": contact_id,
        "conversations": erased.conversations,
        "messages": erased.messages,
        "webhook_events": erased.webhook_events,
    });
    audit::record(conn, tenant_id, by, "contact.erase", details).await?;
    Ok(Some(erased))
}
