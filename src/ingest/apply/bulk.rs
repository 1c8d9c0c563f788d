//! The common case of a batch, applied set-based: plain customer messages and delivery statuses of
//! many events in a handful of statements (routes, contacts, conversations, messages, unread counts,
//! change events, statuses), instead of several statements per message. The rules are those of the
//! per-message path (`messages`, `statuses`): unique keys make it idempotent, `greatest()` keeps
//! the clocks monotonic, ranks keep statuses moving forward. Inputs are deduplicated and sorted by
//! their keys, so concurrent appliers lock contacts and conversations in the same order.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::{
    changes,
    messages::{MessagesChange, keyword_text},
    statuses::{self, EarlyStatuses},
};
use crate::{
    domain::{
        contacts,
        events::Kind,
        ids::{AppId, ContactId, ConversationId, MessageId, NumberId, TenantId},
        numbers::Route,
    },
    whatsapp::{
        payload::{InboundMessage, Status, WebhookError},
        summary::summarize,
    },
};

/// A `messages` change of a stored event, with the app that signed it.
pub(super) struct Routable<'a> {
    pub app_id: AppId,
    pub change: &'a MessagesChange,
}

/// The numbers these changes are for, by (app, phone number id); a change whose number is not
/// registered under its app is missing from the map.
pub(super) async fn routes(
    conn: &mut PgConnection,
    changes: &[Routable<'_>],
) -> anyhow::Result<HashMap<(AppId, String), Route>> {
    let app_ids: Vec<i64> = changes.iter().map(|c| c.app_id.get()).collect();
    let pnids: Vec<&str> = changes
        .iter()
        .map(|c| c.change.phone_number_id.as_str())
        .collect();
    let rows = sqlx::query!(
        r#"select distinct t.app_id as "app_id!: AppId", t.pnid as "pnid!",
                  n.id as "number_id: NumberId", n.tenant_id as "tenant_id: TenantId"
           from unnest($1::bigint[], $2::text[]) as t (app_id, pnid)
           join phone_numbers n on n.phone_number_id = t.pnid and n.app_id = t.app_id"#,
        &app_ids,
        &pnids as &[&str]
    )
    .fetch_all(conn)
    .await
    .context("route webhooks to phone numbers")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let route = Route {
                number_id: r.number_id,
                tenant_id: r.tenant_id,
            };
            ((r.app_id, r.pnid), route)
        })
        .collect())
}

/// A plain customer message and where it goes.
struct Inbound<'a> {
    route: Route,
    wa_id: &'a str,
    message: &'a InboundMessage,
    raw: &'a Value,
}

/// Applies every message and status of the routed changes (all [`MessagesChange::is_plain`]);
/// statuses of messages not known yet go to `early`.
pub(super) async fn apply(
    conn: &mut PgConnection,
    routed: &[(Route, &MessagesChange)],
    early: &mut EarlyStatuses,
) -> anyhow::Result<()> {
    let mut inbound = Vec::new();
    let mut contacts = BTreeMap::new();
    for &(route, change) in routed {
        change.log_errors(route);
        for (message, raw) in &change.messages {
            let sender = change.sender(message).context("message without a sender")?;
            let wa_id = sender.wa_id.context("plain message without a wa_id")?;
            // Later messages of the batch fill in what earlier ones lacked.
            let known: &mut (Option<&str>, Option<&str>) =
                contacts.entry((route.tenant_id, wa_id)).or_default();
            known.0 = sender.user_id.or(known.0);
            known.1 = sender.profile_name.or(known.1);
            inbound.push(Inbound {
                route,
                wa_id,
                message,
                raw,
            });
        }
    }
    if !inbound.is_empty() {
        let contact_ids = upsert_contacts(conn, &contacts).await?;
        let conversation_ids = upsert_conversations(conn, &inbound, &contact_ids).await?;
        let inserted = insert_messages(conn, &inbound, &contact_ids, &conversation_ids).await?;
        after_insert(conn, &inbound, &contact_ids, &inserted).await?;
    }
    let statuses: Vec<(Route, &Status, &Value)> = routed
        .iter()
        .flat_map(|&(route, change)| change.statuses.iter().map(move |(s, raw)| (route, s, raw)))
        .collect();
    if !statuses.is_empty() {
        statuses::apply_many(conn, &statuses, early).await?;
    }
    Ok(())
}

type ContactKey<'a> = (TenantId, &'a str);

async fn upsert_contacts<'a>(
    conn: &mut PgConnection,
    contacts: &BTreeMap<ContactKey<'a>, (Option<&'a str>, Option<&'a str>)>,
) -> anyhow::Result<HashMap<(TenantId, String), ContactId>> {
    let tenants: Vec<i64> = contacts.keys().map(|k| k.0.get()).collect();
    let wa_ids: Vec<&str> = contacts.keys().map(|k| k.1).collect();
    let user_ids: Vec<Option<&str>> = contacts.values().map(|v| v.0).collect();
    let names: Vec<Option<&str>> = contacts.values().map(|v| v.1).collect();
    let rows = sqlx::query!(
        r#"insert into contacts (tenant_id, wa_id, user_id, profile_name)
           select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
           on conflict (tenant_id, wa_id) where wa_id is not null do update set
               user_id = coalesce(excluded.user_id, contacts.user_id),
               profile_name = coalesce(excluded.profile_name, contacts.profile_name),
               updated_at = now()
           returning id as "id: ContactId", tenant_id as "tenant_id: TenantId", wa_id as "wa_id!""#,
        &tenants,
        &wa_ids as &[&str],
        &user_ids as &[Option<&str>],
        &names as &[Option<&str>]
    )
    .fetch_all(conn)
    .await
    .context("upsert contacts")?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.tenant_id, r.wa_id), r.id))
        .collect())
}

fn contact_of(
    contact_ids: &HashMap<(TenantId, String), ContactId>,
    item: &Inbound<'_>,
) -> anyhow::Result<ContactId> {
    contact_ids
        .get(&(item.route.tenant_id, item.wa_id.to_owned()))
        .copied()
        .context("a contact the upsert did not return")
}

/// Finds or creates each conversation and moves its clocks forward to its newest message.
async fn upsert_conversations(
    conn: &mut PgConnection,
    inbound: &[Inbound<'_>],
    contact_ids: &HashMap<(TenantId, String), ContactId>,
) -> anyhow::Result<HashMap<(NumberId, ContactId), ConversationId>> {
    let mut latest: BTreeMap<(NumberId, ContactId), (TenantId, DateTime<Utc>)> = BTreeMap::new();
    for item in inbound {
        let key = (item.route.number_id, contact_of(contact_ids, item)?);
        let at = item.message.timestamp;
        latest
            .entry(key)
            .and_modify(|(_, newest)| *newest = (*newest).max(at))
            .or_insert((item.route.tenant_id, at));
    }
    let numbers: Vec<i64> = latest.keys().map(|k| k.0.get()).collect();
    let contacts: Vec<i64> = latest.keys().map(|k| k.1.get()).collect();
    let tenants: Vec<i64> = latest.values().map(|v| v.0.get()).collect();
    let times: Vec<DateTime<Utc>> = latest.values().map(|v| v.1).collect();
    let rows = sqlx::query!(
        r#"insert into conversations
             (tenant_id, phone_number_id, contact_id, last_customer_message_at, last_message_at)
         select t.tenant_id, t.number_id, t.contact_id, t.at, t.at
         from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[])
             as t (tenant_id, number_id, contact_id, at)
         on conflict (phone_number_id, contact_id) do update set
             last_customer_message_at = greatest(conversations.last_customer_message_at,
                                                 excluded.last_customer_message_at),
             last_message_at = greatest(conversations.last_message_at, excluded.last_message_at)
         returning id as "id: ConversationId", phone_number_id as "number_id: NumberId",
             contact_id as "contact_id: ContactId""#,
        &tenants,
        &numbers,
        &contacts,
        &times
    )
    .fetch_all(conn)
    .await
    .context("upsert conversations")?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.number_id, r.contact_id), r.id))
        .collect())
}

/// A message the insert stored (not a duplicate).
struct Inserted {
    id: MessageId,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    /// Its position in the batch's inbound messages.
    index: usize,
    /// Edits or deletions arrived before it.
    changed: bool,
}

async fn insert_messages(
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
async fn after_insert(
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
             status = case when c.status = 'resolved' then 'open' else c.status end,
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
