//! A batch's customer messages, inserted in one statement, and what follows them: unread counts,
//! change events and opt-out keywords.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::{Inbound, parties::contact_of};
use crate::{
    domain::{
        contacts,
        events::Kind,
        ids::{ContactId, ConversationId, MessageId, NumberId, TenantId},
    },
    ingest::apply::{changes, messages::keyword_text},
    whatsapp::{payload::WebhookError, summary::summarize},
};

/// A message the insert stored (not a duplicate).
pub(super) struct Inserted {
    id: MessageId,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    /// Its position in the batch's inbound messages.
    index: usize,
    /// Edits or deletions arrived before it.
    changed: bool,
}

pub(super) async fn insert_messages(
    conn: &mut PgConnection,
    inbound: &[Inbound<'_>],
    contact_ids: &HashMap<(TenantId, String), ContactId>,
    conversation_ids: &HashMap<(NumberId, ContactId), ConversationId>,
) -> anyhow::Result<Vec<Inserted>> {
    let mut conversations = Vec::with_capacity(inbound.len());
    for item in inbound {
        let key = (item.route.number_id, contact_of(contact_ids, item)?);
        let id = conversation_ids
            .get(&key)
            .context("a conversation the upsert did not return")?;
        conversations.push(id.get());
    }
    let indexes: Vec<i32> = (0..inbound.len())
        .map(i32::try_from)
        .collect::<Result<_, _>>()
        .context("batch too large")?;
    let tenants: Vec<i64> = inbound.iter().map(|i| i.route.tenant_id.get()).collect();
    let numbers: Vec<i64> = inbound.iter().map(|i| i.route.number_id.get()).collect();
    let wamids: Vec<&str> = inbound.iter().map(|i| i.message.id.as_str()).collect();
    let kinds: Vec<&str> = inbound.iter().map(|i| i.message.kind.as_str()).collect();
    let bodies: Vec<String> = inbound.iter().map(|i| summarize(i.raw)).collect();
    let contents: Vec<&Value> = inbound.iter().map(|i| i.raw).collect();
    let times: Vec<DateTime<Utc>> = inbound.iter().map(|i| i.message.timestamp).collect();
    let contexts: Vec<Option<&str>> = inbound
        .iter()
        .map(|i| i.message.context.as_ref().and_then(|c| c.id.as_deref()))
        .collect();
    let errors: Vec<Option<&WebhookError>> =
        inbound.iter().map(|i| i.message.errors.first()).collect();
    let codes: Vec<Option<i32>> = errors
        .iter()
        .map(|e| e.and_then(|e| i32::try_from(e.code).ok()))
        .collect();
    let titles: Vec<Option<&str>> = errors
        .iter()
        .map(|e| e.and_then(|e| e.title.as_deref()))
        .collect();
    let texts: Vec<Option<&str>> = errors
        .iter()
        .map(|e| e.and_then(|e| e.message.as_deref()))
        .collect();
    let details: Vec<Option<&str>> = errors.iter().map(|e| e.and_then(|e| e.details())).collect();
    let rows = sqlx::query!(
        r#"insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
               body, content, meta_timestamp, context_wamid, status,
               error_code, error_title, error_message, error_details)
           select t.tenant_id, t.conversation_id, t.number_id, 'inbound', t.wamid, t.kind, t.body,
                  t.content, t.at, t.context, 'received', t.code, t.title, t.text, t.details
           from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                       $6::text[], $7::jsonb[], $8::timestamptz[], $9::text[], $10::integer[],
                       $11::text[], $12::text[], $13::text[])
               as t (tenant_id, conversation_id, number_id, wamid, kind, body, content, at,
                     context, code, title, text, details)
           on conflict (phone_number_id, wamid) do nothing
           returning id as "id: MessageId", tenant_id as "tenant_id: TenantId",
               conversation_id as "conversation_id: ConversationId",
               phone_number_id as "number_id: NumberId", wamid as "wamid!",
               exists (select 1 from message_changes c
                       where c.phone_number_id = messages.phone_number_id
                         and c.target_wamid = messages.wamid) as "changed!""#,
        &tenants,
        &conversations,
        &numbers,
        &wamids as &[&str],
        &kinds as &[&str],
        &bodies,
        &contents as &[&Value],
        &times,
        &contexts as &[Option<&str>],
        &codes as &[Option<i32>],
        &titles as &[Option<&str>],
        &texts as &[Option<&str>],
        &details as &[Option<&str>]
    )
    .fetch_all(conn)
    .await
    .context("store inbound messages")?;
    // Back to the batch's items: wamids are unique per number.
    let position: HashMap<(NumberId, &str), usize> = inbound
        .iter()
        .zip(&indexes)
        .map(|(i, &index)| ((i.route.number_id, i.message.id.as_str()), index as usize))
        .collect();
    rows.into_iter()
        .map(|r| {
            let index = position
                .get(&(r.number_id, r.wamid.as_str()))
                .copied()
                .context("an inserted message that is not in the batch")?;
            Ok(Inserted {
                id: r.id,
                tenant_id: r.tenant_id,
                conversation_id: r.conversation_id,
                index,
                changed: r.changed,
            })
        })
        .collect()
}

/// What a new customer message brings: unread counts (and a resolved conversation reopened), the
/// change events, opt-out keywords, and edits that came before it.
pub(super) async fn after_insert(
    conn: &mut PgConnection,
    inbound: &[Inbound<'_>],
    contact_ids: &HashMap<(TenantId, String), ContactId>,
    inserted: &[Inserted],
) -> anyhow::Result<()> {
    if inserted.is_empty() {
        return Ok(());
    }
    // Keyed by conversation (its id) first, so rows are locked in the same order as before.
    let mut unread: BTreeMap<(ConversationId, TenantId), i32> = BTreeMap::new();
    for message in inserted {
        *unread
            .entry((message.conversation_id, message.tenant_id))
            .or_default() += 1;
    }
    let ids: Vec<i64> = unread.keys().map(|(id, _)| id.get()).collect();
    let tenants: Vec<i64> = unread.keys().map(|(_, tenant)| tenant.get()).collect();
    let counts: Vec<i32> = unread.values().copied().collect();
    sqlx::query!(
        "update conversations c
         set unread_count = c.unread_count + t.n,
             status = case when c.status in ('resolved', 'pending') then 'open' else c.status end,
             updated_at = now()
         from unnest($1::bigint[], $2::bigint[], $3::integer[]) as t (tenant_id, id, n)
         where c.tenant_id = t.tenant_id and c.id = t.id",
        &tenants,
        &ids,
        &counts
    )
    .execute(&mut *conn)
    .await
    .context("count unread messages")?;
    announce_customer_messages(conn, inserted).await?;
    apply_keywords(conn, inbound, contact_ids, inserted).await?;
    for message in inserted.iter().filter(|m| m.changed) {
        let item = &inbound[message.index];
        changes::apply_to(conn, item.route, &item.message.id).await?;
    }
    Ok(())
}

/// A customer's message opens the window, counts unread and may reopen the conversation.
async fn announce_customer_messages(
    conn: &mut PgConnection,
    inserted: &[Inserted],
) -> anyhow::Result<()> {
    let kinds = [
        Kind::MessageAdded,
        Kind::Window,
        Kind::Unread,
        Kind::ConversationStatus,
    ]
    .map(Kind::as_str);
    let tenants: Vec<i64> = inserted.iter().map(|m| m.tenant_id.get()).collect();
    let conversations: Vec<i64> = inserted.iter().map(|m| m.conversation_id.get()).collect();
    let messages: Vec<i64> = inserted.iter().map(|m| m.id.get()).collect();
    sqlx::query!(
        "select from unnest($1::bigint[], $2::bigint[], $3::bigint[]) as t (tenant, conversation, message),
             announce(t.tenant, t.conversation, t.message, $4)",
        &tenants,
        &conversations,
        &messages,
        &kinds as &[&str]
    )
    .execute(conn)
    .await
    .context("announce new messages")?;
    Ok(())
}

/// Opts customers out (or back in) whose new message is exactly one of their tenant's keywords.
async fn apply_keywords(
    conn: &mut PgConnection,
    inbound: &[Inbound<'_>],
    contact_ids: &HashMap<(TenantId, String), ContactId>,
    inserted: &[Inserted],
) -> anyhow::Result<()> {
    let mut tenant_ids: Vec<i64> = inserted.iter().map(|m| m.tenant_id.get()).collect();
    tenant_ids.sort_unstable();
    tenant_ids.dedup();
    let keywords: HashMap<TenantId, (Vec<String>, Vec<String>)> = sqlx::query!(
        r#"select id as "id: TenantId", opt_out_keywords, opt_in_keywords
           from tenants where id = any($1)"#,
        &tenant_ids
    )
    .fetch_all(&mut *conn)
    .await
    .context("load opt-out keywords")?
    .into_iter()
    .map(|t| (t.id, (t.opt_out_keywords, t.opt_in_keywords)))
    .collect();
    for message in inserted {
        let item = &inbound[message.index];
        let (Some(words), Some((out, back_in))) =
            (keyword_text(item.raw), keywords.get(&message.tenant_id))
        else {
            continue;
        };
        let opted_out = match (out.contains(&words), back_in.contains(&words)) {
            (true, _) => true,
            (false, true) => false,
            (false, false) => continue,
        };
        let contact_id = contact_of(contact_ids, item)?;
        let at = item.message.timestamp;
        contacts::record_opt_change(conn, message.tenant_id, contact_id, opted_out, at).await?;
    }
    Ok(())
}
