//! The ceiling: what a synchronous design would sustain on the same PostgreSQL. Each event, in its
//! own transaction, is inserted into `webhook_events`, applied with the crate's own
//! `apply::apply_event`, and marked applied, as the server's appliers mark it; `concurrency`
//! connections do this side by side. No HTTP, no signature check: only the per-event SQL.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use futures::future::try_join_all;
use sqlx::PgPool;
use switchboard::ingest::apply::{self, EarlyStatuses, Outcome, StoredEvent};

use crate::{
    database,
    measure::{self, Check},
    payload::{self, Event},
};

/// What the ceiling came to.
pub struct CeilingRun {
    pub elapsed: Duration,
    pub check: Check,
}

impl CeilingRun {
    pub fn events_per_second(&self) -> f64 {
        self.check.expected as f64 / self.elapsed.as_secs_f64()
    }
}

/// Stores and applies every event once, over `concurrency` connections to `database_url` (which
/// must be provisioned with the benchmark's app and number).
pub async fn run(
    database_url: &str,
    events: &[Event],
    concurrency: usize,
) -> anyhow::Result<CeilingRun> {
    let connections = u32::try_from(concurrency).context("--concurrency is too large")?;
    let pool = database::connect(database_url, connections).await?;
    let app_id = app_id(&pool).await?;
    warm_up(&pool, concurrency).await?;

    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| worker(&pool, app_id, events, &next));
    try_join_all(workers).await?;
    let elapsed = started.elapsed();

    let check = measure::check(&pool, events.len()).await?;
    pool.close().await;
    Ok(CeilingRun { elapsed, check })
}

/// The row id of the benchmark's Meta app.
async fn app_id(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("select id from meta_apps where meta_app_id = $1")
        .bind(payload::META_APP_ID)
        .fetch_one(pool)
        .await
        .context("find the benchmark's Meta app")
}

/// Opens every connection before the clock starts, as a long-running server would have them.
async fn warm_up(pool: &PgPool, connections: usize) -> anyhow::Result<()> {
    let mut held = Vec::with_capacity(connections);
    for _ in 0..connections {
        held.push(pool.acquire().await.context("open a connection")?);
    }
    Ok(())
}

async fn worker(
    pool: &PgPool,
    app_id: i64,
    events: &[Event],
    next: &AtomicUsize,
) -> anyhow::Result<()> {
    while let Some(event) = events.get(next.fetch_add(1, Ordering::Relaxed)) {
        store_and_apply(pool, app_id, &event.body).await?;
    }
    Ok(())
}

/// One event, synchronously: insert, apply, mark applied, commit.
async fn store_and_apply(pool: &PgPool, app_id: i64, body: &[u8]) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("begin")?;
    let id: i64 = sqlx::query_scalar(
        "insert into webhook_events (app_id, body) values ($1, $2) returning id",
    )
    .bind(app_id)
    .bind(body)
    .fetch_one(&mut *tx)
    .await
    .context("store webhook event")?;
    let event = StoredEvent {
        id,
        app_id,
        body: body.to_vec(),
    };
    let mut early = EarlyStatuses::default();
    let outcome = apply::apply_event(&mut tx, &event, &mut early).await?;
    ensure!(
        outcome == Outcome::Applied { unroutable: vec![] },
        "event {id} was not applied: {outcome:?}"
    );
    // The same statement the appliers record an outcome with.
    sqlx::query(
        "update webhook_events
         set state = $2, error = $3, unroutable = $4, attempts = attempts + 1, applied_at = now()
         where id = $1",
    )
    .bind(id)
    .bind("applied")
    .bind(None::<&str>)
    .bind(Vec::<String>::new())
    .execute(&mut *tx)
    .await
    .context("record event outcome")?;
    tx.commit().await.context("commit")?;
    early.sync(pool).await
}
