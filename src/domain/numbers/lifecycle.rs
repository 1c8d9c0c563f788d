//! Pausing and removing a number. A paused number sends nothing: the queue skips it and its
//! queued messages wait, with the reason shown to agents. A removed number stops receiving (its
//! webhooks become unroutable and wait in the event log), its queued messages fail with
//! [`REMOVED_MESSAGE`], and its conversations stay, read-only. Both audited.

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;

use crate::domain::{
    audit,
    ids::{NumberId, TenantId, UserId},
};

/// The title of a message that failed because its number was removed.
pub const REMOVED_TITLE: &str = "Number removed";
/// What an agent reads about it.
pub const REMOVED_MESSAGE: &str = "An admin removed this number from Switchboard, so nothing \
                                   more is sent from it; its conversations are kept, read-only.";

/// Pauses the tenant's number (`paused`) or lets it send again; `None` when it is not the
/// tenant's or was removed. Resuming wakes the senders of every instance.
pub async fn set_paused(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: NumberId,
    paused: bool,
) -> anyhow::Result<Option<()>> {
    let changed = sqlx::query_scalar!(
        "update phone_numbers
         set paused_at = case when $3 then coalesce(paused_at, now()) end, updated_at = now()
         where tenant_id = $1 and id = $2 and removed_at is null
         returning phone_number_id",
        tenant_id as TenantId,
        id as NumberId,
        paused
    )
    .fetch_optional(&mut *conn)
    .await
    .context("pause or resume the number")?;
    let Some(phone_number_id) = changed else {
        return Ok(None);
    };
    if !paused {
        sqlx::query!("select pg_notify('outbox', '')")
            .execute(&mut *conn)
            .await
            .context("wake the senders")?;
    }
    let action = if paused {
        "number.pause"
    } else {
        "number.resume"
    };
    let details = json!({ "phone_number_id": phone_number_id });
    audit::record(conn, tenant_id, by, action, details).await?;
    Ok(Some(()))
}

/// Removes the tenant's number and fails its queued messages; returns how many. `None` when it
/// is not the tenant's or was removed already.
pub async fn remove(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: NumberId,
) -> anyhow::Result<Option<u64>> {
    let removed = sqlx::query_scalar!(
        "update phone_numbers set removed_at = now(), updated_at = now()
         where tenant_id = $1 and id = $2 and removed_at is null
         returning phone_number_id",
        tenant_id as TenantId,
        id as NumberId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("remove the number")?;
    let Some(phone_number_id) = removed else {
        return Ok(None);
    };
    // Messages being sent right now finish; the checks before each Graph call refuse the rest.
    let failed = sqlx::query_scalar!(
        r#"with failed as (
               update messages set status = 'failed', error_title = $3, error_message = $4
               where tenant_id = $1 and phone_number_id = $2 and status = 'queued'
               returning id, conversation_id
           )
           select count(*) as "count!"
           from failed, announce($1, failed.conversation_id, failed.id, '{message_status}')"#,
        tenant_id as TenantId,
        id as NumberId,
        REMOVED_TITLE,
        REMOVED_MESSAGE
    )
    .fetch_one(&mut *conn)
    .await
    .context("fail the removed number's queued messages")?;
    let details = json!({ "phone_number_id": phone_number_id, "queued_messages_failed": failed });
    audit::record(conn, tenant_id, by, "number.remove", details).await?;
    Ok(Some(u64::try_from(failed).unwrap_or_default()))
}
