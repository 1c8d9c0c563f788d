//! What the database shows during and after a load: when each event became visible as applied, the
//! stored apply delays (`applied_at - received_at`), and whether the data is right.
//!
//! Applied events are watched from the client: every `POLL` the watcher records a watermark, the id
//! below which no event is pending any more. An event's observed apply delay runs from its 200 answer
//! to the first watermark above its id, on the client's clock, so it includes the applier's commit.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::{Context, bail};
use sqlx::PgPool;
use tokio::time::Instant;

use crate::payload::Event;

/// How often the watcher looks at the appliers' progress.
const POLL: Duration = Duration::from_millis(10);

/// At `at`, every event with an id below `watermark` had been applied.
pub struct Snapshot {
    pub at: Instant,
    pub watermark: i64,
}

/// Percentiles of `applied_at - received_at`, on the database's clock. Both are `now()` in their
/// transactions, i.e. when the append and the applier's batch *began*, so this misses the time the
/// batch took to commit; the observed delays include it.
pub struct StoredDelays {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The data after a run.
pub struct Check {
    pub expected: usize,
    pub events: i64,
    pub messages: i64,
    pub applied: i64,
    pub failed: i64,
    pub unroutable: i64,
}

impl Check {
    /// One stored event and one message per event sent, every event applied.
    pub fn is_correct(&self) -> bool {
        let expected = self.expected as i64;
        self.events == expected
            && self.messages == expected
            && self.applied == expected
            && self.failed == 0
            && self.unroutable == 0
    }
}

/// Records the appliers' progress until `load_done` is set and then nothing is pending; gives up
/// `timeout` after the load is done. The last snapshot is when everything was applied.
pub async fn watch_applied(
    pool: &PgPool,
    load_done: &AtomicBool,
    timeout: Duration,
) -> anyhow::Result<Vec<Snapshot>> {
    let mut snapshots = Vec::new();
    let mut deadline = None;
    loop {
        // Read before looking, so "done and nothing pending" is never judged on an older look.
        let done = load_done.load(Ordering::Acquire);
        // Both lookups are on indexes, so that the watcher does not take the database time it
        // measures: the first pending event of each priority (0 and 1) from the partial index of
        // pending events, which is ordered by (priority, id); the last event from the primary key.
        // Planned anew each time: a plan kept from the start, made for an empty table, scans it.
        let (first_pending, last_stored): (Option<i64>, Option<i64>) = sqlx::query_as(
            "select (select min(first) from (values (0::smallint), (1::smallint)) as p (priority),
                        lateral (select id as first from webhook_events e
                                 where e.state = 'pending' and e.priority = p.priority
                                 order by e.id limit 1) firsts),
                    (select max(id) from webhook_events)",
        )
        .persistent(false)
        .fetch_one(pool)
        .await
        .context("look at the appliers' progress")?;
        snapshots.push(Snapshot {
            at: Instant::now(),
            watermark: first_pending.unwrap_or(last_stored.unwrap_or(0) + 1),
        });
        if done && first_pending.is_none() {
            return Ok(snapshots);
        }
        if done && *deadline.get_or_insert_with(|| Instant::now() + timeout) <= Instant::now() {
            bail!("events still pending {timeout:?} after the load");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// For every accepted event: from its 200 answer until the watcher first saw it applied. Sorted.
pub async fn observed_apply_delays(
    pool: &PgPool,
    events: &[Event],
    accepted_at: &[Option<Instant>],
    snapshots: &[Snapshot],
) -> anyhow::Result<Vec<Duration>> {
    let index_of: HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .map(|(index, event)| (event.wamid.as_str(), index))
        .collect();
    let mut delays = Vec::with_capacity(events.len());
    for (wamid, id) in stored_wamids(pool).await? {
        let index = wamid.and_then(|wamid| index_of.get(wamid.as_str()).copied());
        let Some(accepted) = index.and_then(|i| accepted_at[i]) else {
            continue;
        };
        // Applied when first seen below the watermark after it was accepted (stored, pending).
        let after = snapshots.partition_point(|s| s.at < accepted);
        if let Some(seen) = snapshots[after..].iter().find(|s| s.watermark > id) {
            delays.push(seen.at - accepted);
        }
    }
    delays.sort_unstable();
    Ok(delays)
}

/// The wamid of the message in each stored event, with the event's id.
async fn stored_wamids(pool: &PgPool) -> anyhow::Result<Vec<(Option<String>, i64)>> {
    sqlx::query_as(
        "select convert_from(body, 'UTF8')::jsonb #>> '{entry,0,changes,0,value,messages,0,id}', id
         from webhook_events",
    )
    .fetch_all(pool)
    .await
    .context("read the stored events' wamids")
}

/// The p50, p99 and max of `applied_at - received_at` over all applied events.
pub async fn stored_apply_delays(pool: &PgPool) -> anyhow::Result<StoredDelays> {
    let (p50, p99, max): (f64, f64, f64) = sqlx::query_as(
        "select coalesce(percentile_cont(0.5) within group (order by delay), 0),
                coalesce(percentile_cont(0.99) within group (order by delay), 0),
                coalesce(max(delay), 0)
         from (select extract(epoch from applied_at - received_at)::float8 as delay
               from webhook_events where applied_at is not null) as delays",
    )
    .fetch_one(pool)
    .await
    .context("read apply delays")?;
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
    Ok(StoredDelays {
        p50: seconds(p50),
        p99: seconds(p99),
        max: seconds(max),
    })
}

/// Counts what `expected` events should have produced.
pub async fn check(pool: &PgPool, expected: usize) -> anyhow::Result<Check> {
    let (events, applied, failed, unroutable): (i64, i64, i64, i64) = sqlx::query_as(
        "select count(*),
                count(*) filter (where state = 'applied'),
                count(*) filter (where state = 'failed'),
                count(*) filter (where state = 'unroutable' or unroutable <> '{}')
         from webhook_events",
    )
    .fetch_one(pool)
    .await
    .context("count events by state")?;
    let messages: i64 = sqlx::query_scalar("select count(*) from messages")
        .fetch_one(pool)
        .await
        .context("count messages")?;
    Ok(Check {
        expected,
        events,
        messages,
        applied,
        failed,
        unroutable,
    })
}
