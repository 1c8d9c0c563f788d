//! Retention: raw webhook events are deleted once they are older than `WEBHOOK_RETENTION_DAYS`
//! (default 30) and were applied or dismissed; failed and unroutable ones wait for an admin. So is
//! the log of delivery statuses (`message_statuses`, one row per tick with Meta's raw payload):
//! each message keeps the status they moved it to. The messages and conversations are kept. Deleted in small batches by
//! primary key, each its own short transaction, so the hot path (appends at the other end of the
//! table) never waits. Any instance may run it; two at once skip each other's rows.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::ids::WebhookEventId;

/// Events deleted per statement.
const BATCH: i64 = 1_000;
/// How often the retention runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Deletes the applied or dismissed events received before `cutoff`; returns how many.
pub async fn prune(db: &PgPool, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    // Events are appended in id order, so everything below the first event received since the
    // cutoff is older than it (the scan from the oldest passes only the events kept for an admin).
    let boundary = sqlx::query_scalar!(
        r#"select id as "id: WebhookEventId" from webhook_events
           where received_at >= $1 order by id limit 1"#,
        cutoff
    )
    .fetch_optional(db)
    .await
    .context("find the first event to keep")?;
    let boundary = boundary.map_or(i64::MAX, WebhookEventId::get);
    let mut deleted = 0;
    loop {
        let batch = sqlx::query!(
            "delete from webhook_events where id in (
                 select id from webhook_events
                 where id < $1 and state in ('applied', 'dismissed')
                 order by id limit $2
                 for update skip locked
             )",
            boundary,
            BATCH
        )
        .execute(db)
        .await
        .context("delete old webhook events")?
        .rows_affected();
        deleted += batch;
        if batch < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(deleted);
        }
    }
}

/// Deletes the delivery statuses received before `cutoff`, in batches like [`prune`]; returns how
/// many. Their messages already show them (a status is applied when it is recorded, and
/// reconciled within minutes if that failed).
pub async fn prune_statuses(db: &PgPool, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut deleted = 0;
    loop {
        let batch = sqlx::query!(
            "delete from message_statuses where id in (
                 select id from message_statuses
                 where received_at < $1
                 order by received_at limit $2
                 for update skip locked
             )",
            cutoff,
            BATCH
        )
        .execute(db)
        .await
        .context("delete old delivery statuses")?
        .rows_affected();
        deleted += batch;
        if batch < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(deleted);
        }
    }
}

/// Runs [`prune`] and [`prune_statuses`] every [`EVERY`] with `retention`, until `shutdown`.
pub async fn prune_until(db: PgPool, retention: Duration, shutdown: CancellationToken) {
    loop {
        let cutoff = Utc::now() - retention;
        match prune(&db, cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted webhook events past their retention"),
            Err(error) => tracing::warn!(error = ?error, "webhook event retention failed"),
        }
        match prune_statuses(&db, cutoff).await {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(deleted, "deleted delivery statuses past their retention")
            }
            Err(error) => tracing::warn!(error = ?error, "delivery status retention failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
