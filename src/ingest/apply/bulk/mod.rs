//! The common case of a batch, applied set-based: plain customer messages and delivery statuses of
//! many events in a handful of statements (routes, contacts, conversations, messages, unread counts,
//! change events, statuses), instead of several statements per message. The rules are those of the
//! per-message path (`messages`, `statuses`): unique keys make it idempotent, `greatest()` keeps
//! the clocks monotonic, ranks keep statuses moving forward. Inputs are deduplicated and sorted by
//! their keys, so concurrent appliers lock contacts and conversations in the same order.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use super::{
    messages::MessagesChange,
    statuses::{self, EarlyStatuses},
};
use crate::{
    domain::{
        ids::{AppId, NumberId, TenantId},
        numbers::Route,
    },
    whatsapp::payload::{InboundMessage, Status},
};

mod inserts;
mod parties;

use inserts::{after_insert, insert_messages};
use parties::{upsert_contacts, upsert_conversations};

/// A `messages` change of a stored event, with the app that signed it.
pub(super) struct Routable<'a> {
    pub app_id: AppId,
    pub change: &'a MessagesChange,
}

/// The numbers these changes are for, by (app, phone number id); a change whose number is not
/// registered under its app (or was removed) is missing from the map.
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
           join phone_numbers n on n.phone_number_id = t.pnid and n.app_id = t.app_id
                                   and n.removed_at is null"#,
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
