//! The applier: background tasks that apply stored events as soon as they are appended (woken by the
//! event log), and poll now and then for events left by a crash or another instance, and for
//! statuses a lost race left unapplied to their message.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::apply;

/// Events applied per transaction.
const BATCH: i64 = 200;
/// How often an idle worker looks for events it was not woken for.
const POLL: Duration = Duration::from_millis(500);
/// How often statuses that their message does not show yet are looked for, and how far back.
const RECONCILE_EVERY: Duration = Duration::from_secs(30);
const RECONCILE_RECENT: Duration = Duration::from_secs(3600);

/// Applies pending events until `shutdown` is cancelled; stops between batches.
pub async fn run(pool: PgPool, appended: Arc<Notify>, shutdown: CancellationToken) {
    let mut reconciled: Option<Instant> = None;
    while !shutdown.is_cancelled() {
        if reconciled.is_none_or(|at| at.elapsed() >= RECONCILE_EVERY) {
            match apply::reconcile_statuses(&pool, RECONCILE_RECENT).await {
                Ok(0) => {}
                Ok(count) => tracing::warn!(count, "applied statuses a lost race had left behind"),
                Err(error) => tracing::error!(error = ?error, "reconciling statuses failed"),
            }
            reconciled = Some(Instant::now());
        }
        // Register for wake-ups before looking, so an append in between is not missed.
        let notified = appended.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match apply::apply_pending(&pool, BATCH).await {
            Ok(count) if count as i64 == BATCH => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(error = ?error, "applying webhook events failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => break,
                }
                continue;
            }
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(POLL) => {}
            () = shutdown.cancelled() => break,
        }
    }
}
