//! The status storm (issue 7): a campaign's delivery statuses at `--rate` webhooks/s (3,000 by
//! default: sent, delivered and read for 1,000 messages a second) for `--seconds`, with customers'
//! messages mixed in at `--inbound-rate` (20/s). The customers' messages must be applied within a
//! second of their 200 whatever the backlog of ticks; every status must be applied exactly once and
//! leave each message at its highest status, whatever order they came in.
//!
//! The campaign's messages are seeded straight into the database as the send pipeline leaves them
//! (`sent`, with their wamids), then `VACUUM ANALYZE`d as autovacuum would.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::Context;
use sqlx::PgPool;
use tokio::time::Instant;

use crate::{
    load::{self, LoadPlan},
    measure,
    payload::{self, Event},
    server::{Binary, Server},
};

/// How often the watcher looks for the customers' messages.
const POLL: Duration = Duration::from_millis(10);
/// Goal: p99 of a customer message's apply delay during the storm.
const GOAL_INBOUND_P99: Duration = Duration::from_secs(1);

/// The storm's shape.
pub struct StormPlan {
    pub status_rate: u32,
    pub inbound_rate: u32,
    pub seconds: u32,
    pub customers: u32,
    pub concurrency: usize,
    pub phase_timeout: Duration,
}

/// Seeds the campaign, runs the storm against a started server and prints the report; fails when
/// the data is wrong.
pub async fn run(binary: &Binary, database_url: &str, plan: &StormPlan) -> anyhow::Result<bool> {
    let messages = (plan.status_rate * plan.seconds / 3) as usize;
    let pool = measure_pool(database_url).await?;
    seed(&pool, messages, plan.customers).await?;
    let (events, inbound) = payload::storm(
        messages,
        plan.customers,
        plan.status_rate,
        plan.inbound_rate,
    );
    println!(
        "Storm: {} statuses for {messages} campaign messages and {} customer messages, {}/s…",
        events.len() - inbound.len(),
        inbound.len(),
        plan.status_rate + plan.inbound_rate
    );
    let server = binary.start(database_url).await?;
    let result = storm(&server, &pool, &events, &inbound, plan).await;
    let shutdown = server.terminate().await;
    let report = result?;
    let shutdown = shutdown?;
    let correct = report.print(plan, &events, &inbound) && shutdown.status.success();
    println!(
        "  SIGTERM: exited with {} after {:?}",
        shutdown.status, shutdown.took
    );
    pool.close().await;
    Ok(correct)
}

async fn measure_pool(database_url: &str) -> anyhow::Result<PgPool> {
    crate::database::connect(database_url, 2).await
}

/// The campaign: `messages` outbound messages in `sent`, spread over `customers` conversations.
async fn seed(pool: &PgPool, messages: usize, customers: u32) -> anyhow::Result<()> {
    let statements = [
        "insert into contacts (tenant_id, wa_id)
         select n.tenant_id, '1555' || lpad(g::text, 7, '0')
         from phone_numbers n, generate_series(0, $1 - 1) g",
        "insert into conversations (tenant_id, phone_number_id, contact_id, last_message_at)
         select c.tenant_id, n.id, c.id, now() from contacts c join phone_numbers n on n.tenant_id = c.tenant_id",
    ];
    for statement in statements {
        sqlx::query(statement)
            .bind(i64::from(customers))
            .execute(pool)
            .await
            .context("seed the campaign's customers")?;
    }
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
             body, content, status, sent_at)
         select v.tenant_id, v.id, v.phone_number_id, 'outbound', 'wamid.storm.' || g, 'template',
             'Spring sale: 20% off', '{}', 'sent', now()
         from generate_series(0, $1 - 1) g
         join (select id, tenant_id, phone_number_id, contact_id from conversations) v
           on v.contact_id = (select id from contacts
                              where wa_id = '1555' || lpad((g % $2)::text, 7, '0'))",
    )
    .bind(messages as i64)
    .bind(i64::from(customers))
    .execute(pool)
    .await
    .context("seed the campaign's messages")?;
    sqlx::query("vacuum analyze")
        .execute(pool)
        .await
        .context("vacuum analyze after seeding")?;
    Ok(())
}

/// What the storm measured.
struct StormReport {
    load: load::LoadRun,
    /// Per customer message: from its 200 until the watcher first saw it stored; sorted.
    inbound_delays: Vec<Duration>,
    all_applied: Duration,
    peak_rss_kb: u64,
    statuses_stored: i64,
    not_read: i64,
    inbound_stored: i64,
    failed_events: i64,
}

async fn storm(
    server: &Server,
    pool: &PgPool,
    events: &[Event],
    inbound: &[usize],
    plan: &StormPlan,
) -> anyhow::Result<StormReport> {
    let load_plan = LoadPlan {
        url: server.webhook_url(payload::META_APP_ID),
        concurrency: plan.concurrency,
        rate: Some(plan.status_rate + plan.inbound_rate),
    };
    let load_done = AtomicBool::new(false);
    let load = async {
        let run = tokio::time::timeout(plan.phase_timeout, load::run(&load_plan, events)).await;
        load_done.store(true, Ordering::Release);
        run.context("the storm took longer than --phase-timeout")?
    };
    let wamids: Vec<&str> = inbound.iter().map(|&i| events[i].wamid.as_str()).collect();
    let seen = watch_inbound(pool, &wamids, &load_done, plan.phase_timeout);
    let applied = measure::watch_applied(pool, &load_done, plan.phase_timeout);
    let (load, seen, snapshots) = tokio::try_join!(load, seen, applied)?;
    let mut inbound_delays: Vec<Duration> = inbound
        .iter()
        .zip(&wamids)
        .filter_map(|(&index, wamid)| Some(*seen.get(wamid)? - load.accepted_at[index]?))
        .collect();
    inbound_delays.sort_unstable();
    let (statuses_stored, not_read, inbound_stored, failed_events): (i64, i64, i64, i64) =
        sqlx::query_as(
            "select (select count(*) from message_statuses),
                    (select count(*) from messages where direction = 'outbound' and status <> 'read'),
                    (select count(*) from messages where direction = 'inbound'),
                    (select count(*) from webhook_events where state <> 'applied')",
        )
        .fetch_one(pool)
        .await
        .context("check the storm's data")?;
    Ok(StormReport {
        all_applied: snapshots
            .last()
            .map_or(Duration::ZERO, |s| s.at - load.started),
        peak_rss_kb: server.peak_rss_kb()?,
        load,
        inbound_delays,
        statuses_stored,
        not_read,
        inbound_stored,
        failed_events,
    })
}

/// When each of `wamids` was first seen stored, until all were or the load is done plus `timeout`.
async fn watch_inbound<'a>(
    pool: &PgPool,
    wamids: &[&'a str],
    load_done: &AtomicBool,
    timeout: Duration,
) -> anyhow::Result<HashMap<&'a str, Instant>> {
    let mut seen = HashMap::new();
    let mut deadline = None;
    loop {
        let done = load_done.load(Ordering::Acquire);
        let unseen: Vec<&str> = wamids
            .iter()
            .copied()
            .filter(|w| !seen.contains_key(w))
            .collect();
        if unseen.is_empty() {
            return Ok(seen);
        }
        // By (number, wamid), the unique index: repeated all through the storm, this lookup must
        // not take the database time it measures.
        let stored: Vec<String> = sqlx::query_scalar(
            "select wamid from messages
             where (phone_number_id, wamid) in (select n.id, w from phone_numbers n, unnest($1::text[]) w)",
        )
        .bind(&unseen)
        .fetch_all(pool)
        .await
        .context("look for the customers' messages")?;
        let now = Instant::now();
        for wamid in unseen.into_iter().filter(|w| stored.iter().any(|s| s == w)) {
            seen.insert(wamid, now);
        }
        if done && *deadline.get_or_insert_with(|| now + timeout) <= now {
            return Ok(seen);
        }
        tokio::time::sleep(POLL).await;
    }
}

impl StormReport {
    /// Prints the figures and goals; whether the data is right.
    fn print(&self, plan: &StormPlan, events: &[Event], inbound: &[usize]) -> bool {
        let statuses = (events.len() - inbound.len()) as i64;
        let accepted = &self.load.accepted;
        println!(
            "\n== Status storm: {statuses} statuses at {}/s + {} customer messages at {}/s ==",
            plan.status_rate,
            inbound.len(),
            plan.inbound_rate
        );
        println!(
            "  accepted          {} of {} ({} non-200, {} without answer)",
            accepted.len(),
            events.len(),
            self.load.rejected.len(),
            self.load.transport_errors
        );
        println!(
            "  accept latency    {}",
            crate::report::percentiles(accepted)
        );
        println!(
            "  all applied       {:.2} s after the first request ({:.2} s after the last answer)",
            self.all_applied.as_secs_f64(),
            self.all_applied
                .saturating_sub(self.load.elapsed)
                .as_secs_f64()
        );
        println!(
            "  customer messages {}  (200 answer → seen stored)",
            crate::report::percentiles(&self.inbound_delays)
        );
        println!(
            "  server peak RSS   {:.1} MB",
            (self.peak_rss_kb * 1024) as f64 / 1e6
        );
        let data_ok = self.statuses_stored == statuses
            && self.not_read == 0
            && self.inbound_stored == inbound.len() as i64
            && self.failed_events == 0
            && self.inbound_delays.len() == inbound.len();
        println!(
            "  data              {}: {} statuses stored (want {statuses}), {} campaign messages \
             not at `read`, {} of {} customer messages stored, {} events not applied",
            if data_ok { "ok" } else { "WRONG" },
            self.statuses_stored,
            self.not_read,
            self.inbound_stored,
            inbound.len(),
            self.failed_events
        );
        println!("\nGoals");
        let p99 = crate::report::percentile(&self.inbound_delays, 0.99);
        crate::report::goal(
            "customer messages applied ≤ 1 s p99 during the storm",
            crate::report::ms(p99),
            p99 <= GOAL_INBOUND_P99,
        );
        crate::report::goal(
            "every status applied once; each message at its highest status",
            (if data_ok { "yes" } else { "no" }).into(),
            data_ok,
        );
        data_ok
    }
}
