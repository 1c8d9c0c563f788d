//! Delivery statuses. Each is kept in `message_statuses` (the history); a message's own status is
//! the highest-ranked one recorded for its wamid (sent < delivered < read < played < failed), so
//! statuses only move forward whatever order they arrive in, and one that arrives before its message
//! is applied when the message gets its wamid.
//!
//! That last case is a race between two writers: the applier recording a status for a wamid no
//! message has yet, and the send pipeline giving a message that wamid. Each syncs after its own
//! commit (the applier for the statuses it found no message for, in [`EarlyStatuses`]), so whichever
//! commits last sees the other's write.
//!
//! Failures are explained for agents when they are recorded, with the same table the send path
//! uses for Meta's direct answers, and those that outlive the message (the window closed, the
//! customer opted out) are applied to the conversation by the one rule in `domain::conversations`.

use std::time::Duration;

use anyhow::Context;
use backon::Retryable;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::{
    domain::{
        conversations,
        ids::{ConversationId, NumberId, TenantId},
        numbers::Route,
    },
    retry,
    whatsapp::{errors, payload::Status},
};

/// Records a status and applies it to its message, if that message is known; if not, notes it in
/// `early`, to be synced again once the transaction has committed. A failure's first error is
/// explained for agents here, as the send path explains Meta's direct answers.
pub async fn apply(
    conn: &mut PgConnection,
    route: Route,
    status: &Status,
    raw: &Value,
    early: &mut EarlyStatuses,
) -> anyhow::Result<()> {
    let errors = (!status.errors.is_empty())
        .then(|| raw.get("errors").cloned())
        .flatten();
    let error = status.errors.first();
    let explained = error.map(|e| errors::explain(e.code, e.title.as_deref(), e.details(), false));
    let message_known = sqlx::query_scalar!(
        r#"insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
             recipient_id, errors, pricing, conversation, raw, error_code, error_title,
             error_message, error_details)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         on conflict (phone_number_id, wamid, status) do nothing
         returning exists (select 1 from messages where phone_number_id = $2 and wamid = $3)
             as "known!""#,
        route.tenant_id as TenantId,
        route.number_id as NumberId,
        status.id,
        status.status,
        status.timestamp,
        status.recipient_id,
        errors,
        status.pricing,
        status.conversation,
        raw,
        error.and_then(|e| i32::try_from(e.code).ok()),
        explained.as_ref().map(|e| e.title.clone()),
        explained.as_ref().map(errors::Explanation::message),
        error.and_then(|e| e.details()),
    )
    .fetch_optional(&mut *conn)
    .await
    .context("record delivery status")?;
    // `None`: recorded before; sync anyway, as a replay should.
    if message_known == Some(false) {
        early.push(route.number_id, &status.id);
    } else {
        sync_message_statuses(conn, &[route.number_id], std::slice::from_ref(&status.id)).await?;
    }
    Ok(())
}

/// Statuses recorded for wamids that no message had (yet), to sync after the commit.
#[derive(Debug, Default)]
pub struct EarlyStatuses {
    number_ids: Vec<NumberId>,
    wamids: Vec<String>,
}

impl EarlyStatuses {
    pub(super) fn push(&mut self, number_id: NumberId, wamid: &str) {
        self.number_ids.push(number_id);
        self.wamids.push(wamid.to_owned());
    }

    /// Applies them to their messages, if these now exist; call it after committing. Retried
    /// ([`retry::quick`]): a status lost here would only be applied by a later one for the same
    /// message.
    pub async fn sync(&self, db: &PgPool) -> anyhow::Result<()> {
        if self.wamids.is_empty() {
            return Ok(());
        }
        (|| async {
            let mut conn = db.acquire().await.context("acquire connection")?;
            sync_message_statuses(&mut conn, &self.number_ids, &self.wamids).await
        })
        .retry(retry::quick())
        .notify(retry::warn("syncing early statuses"))
        .await
    }
}

/// Applies statuses received within `recent` that their message does not show yet: those whose
/// post-commit syncs both failed (a deadlock retried out, a crash between commit and sync), so
/// that no status stays only in `message_statuses`. Returns how many messages it moved.
pub async fn reconcile(db: &PgPool, recent: Duration) -> anyhow::Result<usize> {
    let behind = sqlx::query!(
        r#"select s.phone_number_id as "number_id!: NumberId", s.wamid as "wamid!"
           from message_statuses s
           join messages m on m.phone_number_id = s.phone_number_id and m.wamid = s.wamid
           where s.received_at > now() - make_interval(secs => $1)
             and message_status_rank(s.status) > message_status_rank(m.status)"#,
        recent.as_secs_f64()
    )
    .fetch_all(db)
    .await
    .context("find statuses not applied to their message")?;
    if behind.is_empty() {
        return Ok(0);
    }
    let (number_ids, wamids): (Vec<NumberId>, Vec<String>) =
        behind.into_iter().map(|r| (r.number_id, r.wamid)).unzip();
    let mut conn = db.acquire().await.context("acquire connection")?;
    sync_message_statuses(&mut conn, &number_ids, &wamids).await?;
    Ok(wamids.len())
}

/// Raises each message with one of these (number, wamid) pairs to the highest-ranked status
/// recorded for it, with the explained error of a `failed` status; a failure that outlives its
/// message (131047, 131050) is applied to the conversation once, when the message first fails. Call
/// it after storing a status, and after giving a message its wamid (statuses may have come first),
/// so the rule holds whichever of the two commits last. Across tenants: a (number, wamid) pair
/// names one message, and each moved message announces its change to its own tenant.
pub async fn sync_message_statuses(
    conn: &mut PgConnection,
    number_ids: &[NumberId],
    wamids: &[String],
) -> anyhow::Result<()> {
    let number_ids: Vec<i64> = number_ids.iter().map(|id| id.get()).collect();
    let moved = sqlx::query!(
        r#"with moved as (
           update messages m set
             status = best.status,
             error_code = coalesce(best.error_code, m.error_code),
             error_title = coalesce(best.error_title, m.error_title),
             error_message = coalesce(best.error_message, m.error_message),
             error_details = coalesce(best.error_details, m.error_details)
         -- Each pair's statuses looked up by the unique index: as a join, a plan made while
         -- `message_statuses` was small hashes the pairs and scans the whole table for them.
         from (select distinct number_id, wamid
               from unnest($1::bigint[], $2::text[]) as t (number_id, wamid)) t
         cross join lateral (
               select s.status, s.meta_timestamp, s.error_code, s.error_title, s.error_message,
                      s.error_details
               from message_statuses s
               where s.phone_number_id = t.number_id and s.wamid = t.wamid
               order by message_status_rank(s.status) desc
               limit 1) best
         where m.phone_number_id = t.number_id and m.wamid = t.wamid
           and message_status_rank(best.status) > message_status_rank(m.status)
         returning m.id, m.tenant_id, m.conversation_id, best.error_code, best.meta_timestamp
         )
         select moved.tenant_id as "tenant_id: TenantId",
                moved.conversation_id as "conversation_id: ConversationId",
                moved.error_code as "error_code?",
                moved.meta_timestamp
         from moved, announce(moved.tenant_id, moved.conversation_id, moved.id, '{message_status}')"#,
        &number_ids,
        wamids
    )
    .fetch_all(&mut *conn)
    .await
    .context("apply delivery statuses to messages")?;
    for row in moved {
        if let Some(code) = row.error_code {
            conversations::apply_meta_refusal(
                conn,
                row.tenant_id,
                row.conversation_id,
                code.into(),
                row.meta_timestamp,
            )
            .await?;
        }
    }
    Ok(())
}

/// Records many statuses at once (the set-based path of a batch), explained when failed, then
/// applies them to their messages in one statement.
pub(super) async fn apply_many(
    conn: &mut PgConnection,
    statuses: &[(Route, &Status, &Value)],
    early: &mut EarlyStatuses,
) -> anyhow::Result<()> {
    let explained: Vec<Option<errors::Explanation>> = statuses
        .iter()
        .map(|(_, s, _)| {
            let e = s.errors.first()?;
            Some(errors::explain(
                e.code,
                e.title.as_deref(),
                e.details(),
                false,
            ))
        })
        .collect();
    let tenants: Vec<i64> = statuses.iter().map(|(r, _, _)| r.tenant_id.get()).collect();
    let numbers: Vec<NumberId> = statuses.iter().map(|(r, _, _)| r.number_id).collect();
    let number_ids: Vec<i64> = numbers.iter().map(|id| id.get()).collect();
    let wamids: Vec<&str> = statuses.iter().map(|(_, s, _)| s.id.as_str()).collect();
    let kinds: Vec<&str> = statuses.iter().map(|(_, s, _)| s.status.as_str()).collect();
    let times: Vec<DateTime<Utc>> = statuses.iter().map(|(_, s, _)| s.timestamp).collect();
    let recipients: Vec<Option<&str>> = statuses
        .iter()
        .map(|(_, s, _)| s.recipient_id.as_deref())
        .collect();
    let errors: Vec<Option<&Value>> = statuses
        .iter()
        .map(|(_, s, raw)| (!s.errors.is_empty()).then(|| raw.get("errors")).flatten())
        .collect();
    let pricing: Vec<Option<&Value>> = statuses
        .iter()
        .map(|(_, s, _)| s.pricing.as_ref())
        .collect();
    let billing: Vec<Option<&Value>> = statuses
        .iter()
        .map(|(_, s, _)| s.conversation.as_ref())
        .collect();
    let raws: Vec<&Value> = statuses.iter().map(|(_, _, raw)| *raw).collect();
    let codes: Vec<Option<i32>> = statuses
        .iter()
        .map(|(_, s, _)| s.errors.first().and_then(|e| i32::try_from(e.code).ok()))
        .collect();
    let titles: Vec<Option<&str>> = explained
        .iter()
        .map(|e| e.as_ref().map(|e| e.title.as_str()))
        .collect();
    let messages: Vec<Option<String>> = explained
        .iter()
        .map(|e| e.as_ref().map(errors::Explanation::message))
        .collect();
    let details: Vec<Option<&str>> = statuses
        .iter()
        .map(|(_, s, _)| s.errors.first().and_then(|e| e.details()))
        .collect();
    let unknown = sqlx::query!(
        r#"insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
               recipient_id, errors, pricing, conversation, raw, error_code, error_title,
               error_message, error_details)
           select * from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],
                                $5::timestamptz[], $6::text[], $7::jsonb[], $8::jsonb[], $9::jsonb[],
                                $10::jsonb[], $11::integer[], $12::text[], $13::text[], $14::text[])
           on conflict (phone_number_id, wamid, status) do nothing
           returning phone_number_id as "number_id: NumberId", wamid, exists (
               select 1 from messages m
               where m.phone_number_id = message_statuses.phone_number_id
                 and m.wamid = message_statuses.wamid) as "known!""#,
        &tenants,
        &number_ids,
        &wamids as &[&str],
        &kinds as &[&str],
        &times,
        &recipients as &[Option<&str>],
        &errors as &[Option<&Value>],
        &pricing as &[Option<&Value>],
        &billing as &[Option<&Value>],
        &raws as &[&Value],
        &codes as &[Option<i32>],
        &titles as &[Option<&str>],
        &messages as &[Option<String>],
        &details as &[Option<&str>]
    )
    .fetch_all(&mut *conn)
    .await
    .context("record delivery statuses")?;
    for row in unknown.iter().filter(|r| !r.known) {
        early.push(row.number_id, &row.wamid);
    }
    // Every status, new or a replay, is synced: the ranks keep it idempotent.
    let wamids: Vec<String> = wamids.into_iter().map(str::to_owned).collect();
    sync_message_statuses(conn, &numbers, &wamids).await
}
