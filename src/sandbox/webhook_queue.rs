//! The `sandbox_webhooks` table: the fake's webhooks to Switchboard from when they are scheduled
//! until they are posted or given up. Scheduling wakes the dispatchers of every instance
//! (`pg_notify` in the same statement); a claim takes due webhooks with `FOR UPDATE SKIP LOCKED`, so
//! several dispatchers share them and each is posted once; only the oldest pending webhook of a
//! series can be claimed, so a message's statuses arrive in order. A claim leases the webhook: if
//! its dispatcher stops before recording the attempt, the webhook is due again when the lease ends.

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::domain::ids::NumberId;

/// The channel that wakes dispatchers when webhooks are scheduled.
pub(super) const CHANNEL: &str = "sandbox_webhooks";

/// Whom scheduled webhooks are for.
pub(super) struct Recipient<'a> {
    /// The number's row id.
    pub number_id: NumberId,
    /// The app whose endpoint receives them and whose secret signs them.
    pub meta_app_id: &'a str,
    /// Webhooks of one series are posted in the order they were scheduled, one at a time.
    pub series: Option<&'a str>,
}

/// A webhook body and how long after now it is due.
pub(super) struct Scheduled {
    pub delay: Duration,
    pub body: Value,
}

/// A claimed webhook, to post now.
pub(super) struct Claimed {
    pub id: i64,
    pub meta_app_id: String,
    pub body: Value,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// Schedules `webhooks` (in this order) and wakes the dispatchers, in one statement.
pub(super) async fn schedule(
    conn: &mut PgConnection,
    recipient: Recipient<'_>,
    webhooks: Vec<Scheduled>,
) -> anyhow::Result<()> {
    let (delays, bodies): (Vec<f64>, Vec<Value>) = webhooks
        .into_iter()
        .map(|webhook| (webhook.delay.as_secs_f64(), webhook.body))
        .unzip();
    sqlx::query!(
        r#"with scheduled as (
               insert into sandbox_webhooks (phone_number_id, meta_app_id, series, body, due_at)
               select $1, $2, $3, w.body, now() + make_interval(secs => w.delay)
               from unnest($4::jsonb[], $5::float8[]) with ordinality as w (body, delay, n)
               order by w.n
               returning id
           )
           select count(*) as "scheduled!" from scheduled, pg_notify($6, '')"#,
        recipient.number_id as NumberId,
        recipient.meta_app_id,
        recipient.series,
        &bodies,
        &delays,
        CHANNEL
    )
    .fetch_one(conn)
    .await
    .context("schedule sandbox webhooks")?;
    Ok(())
}

/// Claims up to `limit` due webhooks, each the oldest pending one of its series, and leases them
/// for `lease`.
pub(super) async fn claim(
    db: &PgPool,
    limit: usize,
    lease: Duration,
) -> anyhow::Result<Vec<Claimed>> {
    let limit = i64::try_from(limit).context("claim limit")?;
    sqlx::query_as!(
        Claimed,
        "update sandbox_webhooks w
         set attempts = w.attempts + 1, due_at = now() + make_interval(secs => $2)
         from (select p.id from sandbox_webhooks p
               where p.state = 'pending' and p.due_at <= now()
                 and not exists (select 1 from sandbox_webhooks e
                                 where e.series = p.series and e.state = 'pending' and e.id < p.id)
               order by p.due_at, p.id
               limit $1
               for update skip locked) due
         where w.id = due.id
         returning w.id, w.meta_app_id, w.body, w.attempts",
        limit,
        lease.as_secs_f64()
    )
    .fetch_all(db)
    .await
    .context("claim due sandbox webhooks")
}

/// How long until the next pending webhook that a claim could take is due (zero if one is due
/// now); `None` when there is none. (Not `greatest(0, …)` in SQL: it takes an empty queue's null
/// for zero, and the dispatcher would claim nothing in a loop.)
pub async fn next_due(db: &PgPool) -> anyhow::Result<Option<Duration>> {
    let seconds = sqlx::query_scalar!(
        "select extract(epoch from min(p.due_at) - clock_timestamp())::float8
         from sandbox_webhooks p
         where p.state = 'pending'
           and not exists (select 1 from sandbox_webhooks e
                           where e.series = p.series and e.state = 'pending' and e.id < p.id)"
    )
    .fetch_one(db)
    .await
    .context("find the next due sandbox webhook")?;
    Ok(seconds.map(|seconds| Duration::from_secs_f64(seconds.max(0.0))))
}

/// Records that the webhook was posted and accepted.
pub(super) async fn mark_sent(db: &PgPool, id: i64) -> anyhow::Result<()> {
    sqlx::query!(
        "update sandbox_webhooks set state = 'sent', sent_at = now(), last_error = null
         where id = $1",
        id
    )
    .execute(db)
    .await
    .context("mark sandbox webhook sent")?;
    Ok(())
}

/// Records a failed attempt; the webhook is due again after `wait`.
pub(super) async fn retry_later(
    db: &PgPool,
    id: i64,
    error: &str,
    wait: Duration,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update sandbox_webhooks set last_error = $2, due_at = now() + make_interval(secs => $3)
         where id = $1 and state = 'pending'",
        id,
        error,
        wait.as_secs_f64()
    )
    .execute(db)
    .await
    .context("reschedule sandbox webhook")?;
    Ok(())
}

/// Records the last failed attempt: the webhook is kept, given up, with the error.
pub(super) async fn give_up(db: &PgPool, id: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query!(
        "update sandbox_webhooks set state = 'given_up', last_error = $2
         where id = $1 and state = 'pending'",
        id,
        error
    )
    .execute(db)
    .await
    .context("give up on sandbox webhook")?;
    Ok(())
}
