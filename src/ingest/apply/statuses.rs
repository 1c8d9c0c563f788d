//! Delivery statuses. Each is kept in `message_statuses` (the history); a message's own status is
//! the highest-ranked one recorded for its wamid (sent < delivered < read < played < failed), so
//! statuses only move forward whatever order they arrive in, and one that arrives before its message
//! is applied when the message gets its wamid.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::{domain::numbers::Route, whatsapp::payload::Status};

/// Records a status and applies it to its message, if that message is known.
pub async fn apply(
    conn: &mut PgConnection,
    route: Route,
    status: &Status,
    raw: &Value,
) -> anyhow::Result<()> {
    let errors = (!status.errors.is_empty())
        .then(|| raw.get("errors").cloned())
        .flatten();
    sqlx::query!(
        "insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
             recipient_id, errors, pricing, conversation, raw)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (phone_number_id, wamid, status) do nothing",
        route.tenant_id,
        route.number_id,
        status.id,
        status.status,
        status.timestamp,
        status.recipient_id,
        errors,
        status.pricing,
        status.conversation,
        raw
    )
    .execute(&mut *conn)
    .await
    .context("record delivery status")?;
    sync_message_status(conn, route.number_id, &status.id).await?;
    if status.errors.iter().any(|e| e.code == WINDOW_CLOSED) {
        close_window(conn, route.number_id, &status.id, status.timestamp).await?;
    }
    Ok(())
}

/// Meta's "Re-engagement message": more than 24 hours since the customer last wrote.
const WINDOW_CLOSED: i64 = 131047;

/// Meta refused a message because the window had closed: record it on the conversation, so that the
/// composer offers templates even if our clock thought the window open.
async fn close_window(
    conn: &mut PgConnection,
    number_id: i64,
    wamid: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update conversations c set window_closed_by_meta_at = greatest(c.window_closed_by_meta_at, $3)
         from messages m
         where m.phone_number_id = $1 and m.wamid = $2 and c.id = m.conversation_id",
        number_id,
        wamid,
        at
    )
    .execute(conn)
    .await
    .context("record window closed by Meta")?;
    Ok(())
}

/// Raises the message with this wamid to the highest-ranked status recorded for it, copying the
/// first error of a `failed` status. Call it after storing a status, and after giving a message its
/// wamid (statuses may have come first).
pub async fn sync_message_status(
    conn: &mut PgConnection,
    number_id: i64,
    wamid: &str,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update messages m set
             status = best.status,
             error_code = coalesce((best.errors -> 0 ->> 'code')::integer, m.error_code),
             error_title = coalesce(best.errors -> 0 ->> 'title', m.error_title),
             error_message = coalesce(best.errors -> 0 ->> 'message', m.error_message),
             error_details = coalesce(best.errors -> 0 -> 'error_data' ->> 'details',
                                      best.errors -> 0 ->> 'details', m.error_details)
         from (select status, errors from message_statuses
               where phone_number_id = $1 and wamid = $2
               order by message_status_rank(status) desc limit 1) best
         where m.phone_number_id = $1 and m.wamid = $2
           and message_status_rank(best.status) > message_status_rank(m.status)",
        number_id,
        wamid
    )
    .execute(conn)
    .await
    .context("apply delivery status to message")?;
    Ok(())
}
