//! The contacts and conversations of a batch's customer messages, found or created in one
//! statement each.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::Inbound;
use crate::domain::ids::{ContactId, ConversationId, NumberId, TenantId};

pub(super) type ContactKey<'a> = (TenantId, &'a str);

pub(super) async fn upsert_contacts<'a>(
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

pub(super) fn contact_of(
    contact_ids: &HashMap<(TenantId, String), ContactId>,
    item: &Inbound<'_>,
) -> anyhow::Result<ContactId> {
    contact_ids
        .get(&(item.route.tenant_id, item.wa_id.to_owned()))
        .copied()
        .context("a contact the upsert did not return")
}

/// Finds or creates each conversation and moves its clocks forward to its newest message.
pub(super) async fn upsert_conversations(
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
