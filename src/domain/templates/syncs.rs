//! Template syncs as jobs: an admin's "Sync now" and the schedule each queue one (one waiting or
//! running per tenant: asking again joins it), and whichever instance claims it first runs it
//! (`FOR UPDATE SKIP LOCKED`), recording its progress for the console to show. A sync whose
//! instance stopped mid-way is claimed again after [`ABANDONED_AFTER`].

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::sync;
use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{TenantId, UserId},
    },
    whatsapp::graph::{GraphClient, GraphUrls},
};

/// A running sync not heard of for this long was left by a stopped instance: run it again.
const ABANDONED_AFTER: Duration = Duration::from_secs(600);
/// How often each instance looks for syncs queued elsewhere or due by the schedule.
const POLL: Duration = Duration::from_secs(30);
/// How often each tenant's templates are synced without being asked: a safety net, since Meta's
/// webhooks bring status, quality and category changes at once; templates created in Meta's own
/// tools arrive with the next sync.
pub const SCHEDULE: Duration = Duration::from_secs(6 * 3600);

/// A sync, as the console shows it.
#[derive(Debug, Clone)]
pub struct SyncState {
    pub requested_at: DateTime<Utc>,
    /// Who asked for it; `None` for the schedule.
    pub requested_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Templates stored so far.
    pub templates: i32,
    /// Why it stopped short.
    pub error: Option<String>,
}

/// Queues a sync of the tenant's templates for `by` (audited), unless one is waiting or running
/// already.
pub async fn request(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
) -> anyhow::Result<()> {
    let queued = sqlx::query_scalar!(
        r#"insert into template_syncs (tenant_id, requested_by) values ($1, $2)
           on conflict (tenant_id) where finished_at is null do nothing
           returning id"#,
        tenant_id as TenantId,
        by as UserId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("queue a template sync")?;
    if queued.is_some() {
        audit::record(
            conn,
            tenant_id,
            Some(by),
            "templates.sync",
            serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}

/// The tenant's latest sync, if any.
pub async fn latest(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Option<SyncState>> {
    sqlx::query_as!(
        SyncState,
        r#"select s.requested_at, u.name as "requested_by?", s.started_at, s.finished_at,
                  s.templates, s.error
           from template_syncs s
           left join users u on u.tenant_id = s.tenant_id and u.id = s.requested_by
           where s.tenant_id = $1
           order by s.id desc
           limit 1"#,
        tenant_id as TenantId
    )
    .fetch_optional(conn)
    .await
    .context("read the latest template sync")
}

/// Queues a sync for every tenant with numbers whose last one was asked for more than `every`
/// ago (or never); returns how many were queued. Safe on several instances at once.
pub async fn schedule(db: &PgPool, every: Duration) -> anyhow::Result<u64> {
    let queued = sqlx::query!(
        r#"insert into template_syncs (tenant_id)
           select t.id from tenants t
           where exists (select 1 from phone_numbers n
                         where n.tenant_id = t.id and n.removed_at is null)
             and not exists (select 1 from template_syncs s
                             where s.tenant_id = t.id
                               and (s.finished_at is null
                                    or s.requested_at > now() - make_interval(secs => $1)))
           on conflict (tenant_id) where finished_at is null do nothing"#,
        every.as_secs_f64()
    )
    .execute(db)
    .await
    .context("schedule template syncs")?;
    Ok(queued.rows_affected())
}

/// Where syncs call Meta from.
#[derive(Clone)]
pub struct Syncer {
    pub db: PgPool,
    pub cipher: Cipher,
    pub graph: GraphClient,
    pub urls: GraphUrls,
}

impl Syncer {
    /// Claims the oldest waiting (or abandoned) sync and runs it; `false` when there was none.
    pub async fn run_next(&self) -> anyhow::Result<bool> {
        let claimed = sqlx::query!(
            r#"update template_syncs set started_at = now(), templates = 0, error = null
               where id = (select id from template_syncs
                           where finished_at is null
                             and (started_at is null
                                  or started_at < now() - make_interval(secs => $1))
                           order by id
                           limit 1
                           for update skip locked)
               returning id, tenant_id"#,
            ABANDONED_AFTER.as_secs_f64()
        )
        .fetch_optional(&self.db)
        .await
        .context("claim a template sync")?;
        let Some(claimed) = claimed else {
            return Ok(false);
        };
        let tenant_id = TenantId::new(claimed.tenant_id);
        let progress = |templates: usize| {
            let db = self.db.clone();
            async move {
                sqlx::query!(
                    "update template_syncs set templates = $2 where id = $1",
                    claimed.id,
                    i32::try_from(templates).unwrap_or(i32::MAX)
                )
                .execute(&db)
                .await
                .context("record a template sync's progress")
                .map(drop)
            }
        };
        let outcome = sync(
            &self.db,
            &self.cipher,
            &self.graph,
            &self.urls,
            tenant_id,
            progress,
        )
        .await;
        let error = outcome.as_ref().err().map(|error| format!("{error:#}"));
        if let Some(error) = &error {
            tracing::warn!(tenant_id = %tenant_id, error = %error, "template sync failed");
        }
        sqlx::query!(
            "update template_syncs set finished_at = now(), error = $2 where id = $1",
            claimed.id,
            error
        )
        .execute(&self.db)
        .await
        .context("finish a template sync")?;
        Ok(true)
    }

    /// Runs queued syncs as they come (`wake` is notified when one is queued here) and queues the
    /// [`SCHEDULE`]'s, until `shutdown`.
    pub async fn run(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        loop {
            if let Err(error) = schedule(&self.db, SCHEDULE).await {
                tracing::warn!(error = ?error, "template sync schedule failed");
            }
            loop {
                match self.run_next().await {
                    Ok(true) if !shutdown.is_cancelled() => {}
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(error = ?error, "template sync failed");
                        break;
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
