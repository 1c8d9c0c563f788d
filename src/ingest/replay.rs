//! Re-applying stored events on an operator's request (`switchboard webhooks replay`). Applying is
//! idempotent, so replaying an event that was applied before changes nothing it already did.

use std::collections::BTreeMap;

use anyhow::Context;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::apply::{self, EventState};
use crate::domain::{
    audit,
    ids::{TenantId, UserId, WebhookEventId},
};

/// Marks events pending again (all, or only the failed ones) and applies them; returns how many
/// were replayed and how many ended in each state.
pub async fn replay(
    pool: &PgPool,
    failed_only: bool,
) -> anyhow::Result<(usize, BTreeMap<EventState, i64>)> {
    let ids = sqlx::query_scalar!(
        "update webhook_events set state = 'pending', error = null, applied_at = null
         where state = 'failed' or not $1
         returning id",
        failed_only
    )
    .fetch_all(pool)
    .await
    .context("mark events for replay")?;
    while apply::apply_pending(pool, 200).await? > 0 {}
    let states = sqlx::query!(
        r#"select state as "state: EventState", count(*) as "count!"
           from webhook_events where id = any($1) group by state"#,
        &ids
    )
    .fetch_all(pool)
    .await
    .context("count replayed events")?;
    Ok((
        ids.len(),
        states
            .into_iter()
            .map(|row| (row.state, row.count))
            .collect(),
    ))
}

/// A stored event as `webhooks list` prints it.
pub struct EventSummary {
    pub id: WebhookEventId,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub state: EventState,
    pub error: Option<String>,
    pub unroutable: Vec<String>,
}

impl std::fmt::Display for EventSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\t{}\t{}",
            self.id,
            self.received_at.to_rfc3339(),
            self.state
        )?;
        if !self.unroutable.is_empty() {
            write!(f, "\tunroutable: {}", self.unroutable.join(", "))?;
        }
        if let Some(error) = &self.error {
            write!(f, "\t{error}")?;
        }
        Ok(())
    }
}

/// The newest `limit` events, or the newest failed ones.
pub async fn list(
    pool: &PgPool,
    failed_only: bool,
    limit: i64,
) -> anyhow::Result<Vec<EventSummary>> {
    sqlx::query_as!(
        EventSummary,
        r#"select id as "id: WebhookEventId", received_at, state as "state: EventState", error,
                  unroutable
           from webhook_events
           where state = 'failed' or not $1
           order by id desc limit $2"#,
        failed_only,
        limit
    )
    .fetch_all(pool)
    .await
    .context("list webhook events")
}

/// Replays one of the tenant's failed or unroutable events for an admin (after they added the
/// number it names, say), audited; returns the state it ended in, or `None` when it is not the
/// tenant's or needs no replay.
pub async fn replay_one(
    pool: &PgPool,
    tenant_id: TenantId,
    by: UserId,
    id: WebhookEventId,
) -> anyhow::Result<Option<EventState>> {
    let mut tx = pool.begin().await.context("begin replay")?;
    let marked = sqlx::query_scalar!(
        "update webhook_events e set state = 'pending', error = null, applied_at = null
         from meta_apps a
         where e.id = $2 and e.state in ('failed', 'unroutable')
           and a.id = e.app_id and a.tenant_id = $1
         returning e.id",
        tenant_id as TenantId,
        id as WebhookEventId
    )
    .fetch_optional(&mut *tx)
    .await
    .context("mark the event for replay")?;
    if marked.is_none() {
        return Ok(None);
    }
    audit::record(
        &mut tx,
        tenant_id,
        Some(by),
        "webhook.replay",
        json!({ "event_id": id }),
    )
    .await?;
    tx.commit().await.context("commit replay")?;
    apply::apply_pending(pool, 200).await?;
    let state = sqlx::query_scalar!(
        r#"select state as "state: EventState" from webhook_events where id = $1"#,
        id as WebhookEventId
    )
    .fetch_one(pool)
    .await
    .context("read the replayed event's state")?;
    Ok(Some(state))
}

/// Marks one of the tenant's failed or unroutable events dismissed (an admin decided it needs no
/// replay; retention then deletes it in time), audited; `None` when it is not the tenant's or
/// needs nothing.
pub async fn dismiss(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    id: WebhookEventId,
) -> anyhow::Result<Option<()>> {
    let dismissed = sqlx::query_scalar!(
        "update webhook_events e set state = 'dismissed'
         from meta_apps a
         where e.id = $2 and e.state in ('failed', 'unroutable')
           and a.id = e.app_id and a.tenant_id = $1
         returning e.id",
        tenant_id as TenantId,
        id as WebhookEventId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("dismiss the event")?;
    if dismissed.is_none() {
        return Ok(None);
    }
    audit::record(
        conn,
        tenant_id,
        Some(by),
        "webhook.dismiss",
        json!({ "event_id": id }),
    )
    .await?;
    Ok(Some(()))
}
