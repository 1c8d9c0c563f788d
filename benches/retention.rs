//! Retention over simulated months of traffic (issue 9, §5): how big the logs that grow with
//! traffic stay when `WEBHOOK_RETENTION_DAYS` prunes them, and whether pruning holds up the hot
//! path.
//!
//!     cargo bench --bench retention                      # 60 days, 80,000 events a day
//!     cargo bench --bench retention -- --days 45 --events-per-day 20000
//!
//! A database of its own (`switchboard_bench_retention`, recreated) gets one tenant, provisioned
//! with the release binary. Then, day by simulated day: a day of raw webhook events (real message
//! webhook bodies; one customer message for every three status webhooks, as when each reply gets
//! sent, delivered and read) and of delivery statuses, received at that day's times; the hourly
//! retention (`ingest::retention`), run with that day as "now"; and `VACUUM`, as autovacuum would
//! (this machine runs with autovacuum off), so that freed space is reused. The tables' sizes are
//! printed as the days go by. On the last day, single-event inserts (the hot path's append) are
//! timed while nothing else runs and while the retention deletes its day.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use sqlx::PgPool;
use switchboard::ingest::retention;

// Shared with the other benchmarks; this one uses a part of each.
#[path = "support/database.rs"]
mod database;
#[path = "webhooks/payload.rs"]
#[allow(dead_code)]
mod payload;
#[path = "support/server.rs"]
#[allow(dead_code)]
mod server;

#[derive(Parser)]
#[command(name = "retention")]
struct Args {
    /// Days of traffic to simulate.
    #[arg(long, default_value_t = 60)]
    days: i64,
    /// Raw webhook events a day.
    #[arg(long, default_value_t = 80_000)]
    events_per_day: i64,
    /// How long events and statuses are kept (`WEBHOOK_RETENTION_DAYS`).
    #[arg(long, default_value_t = 30)]
    retention_days: i64,
    /// Single-event inserts timed on the last day, with and without the retention running.
    #[arg(long, default_value_t = 2_000)]
    inserts: usize,
    /// PostgreSQL server, without a database name; must be on the loopback interface.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
}

const DATABASE: &str = "switchboard_bench_retention";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `cargo bench` passes `--bench` to every bench binary; this one has no use for it.
    let args = Args::parse_from(std::env::args().filter(|arg| arg != "--bench"));
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let postgres = database::Postgres::new(&args.postgres)?;
    let url = postgres.recreate(DATABASE).await?;
    let binary = server::Binary::locate(None)?;
    binary.provision(&url).await?;
    let db = database::connect(&url, 4).await?;
    let app_id: i64 = sqlx::query_scalar("select id from meta_apps limit 1")
        .fetch_one(&db)
        .await
        .context("find the provisioned app")?;
    let bodies: Vec<Vec<u8>> = payload::generate(200, 1_000, 7)
        .into_iter()
        .map(|event| event.body.to_vec())
        .collect();
    let start = Utc::now() - TimeDelta::days(args.days);
    let retention = TimeDelta::days(args.retention_days);
    println!(
        "{} days of {} webhook events and {} delivery statuses a day, kept {} days",
        args.days,
        args.events_per_day,
        statuses_per_day(args),
        args.retention_days
    );
    println!();
    println!(
        "| day | webhook_events rows | size | message_statuses rows | size | pruned that day | prune took |"
    );
    println!("|---|---|---|---|---|---|---|");
    for day in 1..=args.days {
        let day_start = start + TimeDelta::days(day - 1);
        traffic(&db, args, app_id, &bodies, day_start).await?;
        let now = day_start + TimeDelta::days(1);
        let began = Instant::now();
        let pruned = prune(&db, now - retention).await?;
        let took = began.elapsed();
        sqlx::raw_sql("vacuum webhook_events, message_statuses")
            .execute(&db)
            .await
            .context("vacuum")?;
        if day % 5 == 0 || day == 1 || day == args.days {
            let sizes = sizes(&db).await?;
            println!(
                "| {day} | {} | {} | {} | {} | {pruned} | {:.1} s |",
                sizes.0,
                mb(sizes.1),
                sizes.2,
                mb(sizes.3),
                took.as_secs_f64()
            );
        }
    }
    hot_path(
        &db,
        args,
        app_id,
        &bodies,
        start + TimeDelta::days(args.days),
    )
    .await
}

fn statuses_per_day(args: &Args) -> i64 {
    args.events_per_day * 3 / 4
}

/// One day of traffic received from `day_start`: raw events (a quarter customer messages, the rest
/// status webhooks) and the statuses they carried.
async fn traffic(
    db: &PgPool,
    args: &Args,
    app_id: i64,
    bodies: &[Vec<u8>],
    day_start: DateTime<Utc>,
) -> anyhow::Result<()> {
    let per_second = args.events_per_day as f64 / 86_400.0;
    sqlx::query(
        "insert into webhook_events (app_id, body, received_at, state)
         select $1, ($2::bytea[])[1 + g % cardinality($2::bytea[])],
                $3 + make_interval(secs => g / $4), 'applied'
         from generate_series(0, $5 - 1) g",
    )
    .bind(app_id)
    .bind(bodies)
    .bind(day_start)
    .bind(per_second)
    .bind(args.events_per_day)
    .execute(db)
    .await
    .context("a day of webhook events")?;
    let statuses = statuses_per_day(args);
    sqlx::query(
        "insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
                                       received_at, raw, recipient_id)
         select n.tenant_id, n.id, 'wamid.HBgLMTU1NTAwMDEyMzQVAgARGBI' || md5(g::text || $1::text),
                (array['sent', 'delivered', 'read'])[1 + g % 3],
                $1 + make_interval(secs => g / $2), $1 + make_interval(secs => g / $2),
                jsonb_build_object(
                    'id', 'wamid.HBgLMTU1NTAwMDEyMzQVAgARGBI' || md5(g::text || $1::text),
                    'status', (array['sent', 'delivered', 'read'])[1 + g % 3],
                    'timestamp', extract(epoch from $1)::bigint + g,
                    'recipient_id', '15550001234',
                    'conversation', jsonb_build_object(
                        'id', md5(g::text), 'origin', jsonb_build_object('type', 'service')),
                    'pricing', jsonb_build_object(
                        'billable', true, 'pricing_model', 'PMP', 'category', 'service')),
                '15550001234'
         from phone_numbers n, generate_series(0, $3 - 1) g",
    )
    .bind(day_start)
    .bind(statuses as f64 / 86_400.0)
    .bind(statuses)
    .execute(db)
    .await
    .context("a day of delivery statuses")?;
    Ok(())
}

async fn prune(db: &PgPool, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    Ok(retention::prune(db, cutoff).await? + retention::prune_statuses(db, cutoff).await?)
}

/// (events, their bytes, statuses, their bytes), indexes and TOAST included.
async fn sizes(db: &PgPool) -> anyhow::Result<(i64, i64, i64, i64)> {
    sqlx::query_as(
        "select (select count(*) from webhook_events),
                pg_total_relation_size('webhook_events'),
                (select count(*) from message_statuses),
                pg_total_relation_size('message_statuses')",
    )
    .fetch_one(db)
    .await
    .context("measure the tables")
}

fn mb(bytes: i64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_048_576.0)
}

/// Times single-event appends, alone and while the retention deletes a day's worth.
async fn hot_path(
    db: &PgPool,
    args: &Args,
    app_id: i64,
    bodies: &[Vec<u8>],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let alone = appends(db, app_id, bodies, args.inserts, now).await?;
    // A day past the last: the retention has a day of events and statuses to delete.
    let cutoff = now - TimeDelta::days(args.retention_days) + TimeDelta::days(1);
    let pruning = tokio::spawn({
        let db = db.clone();
        async move { prune(&db, cutoff).await }
    });
    let during = appends(db, app_id, bodies, args.inserts, now).await?;
    let pruned = pruning.await.context("the retention task")??;
    println!();
    println!("| single-event append | p50 | p99 | max |");
    println!("|---|---|---|---|");
    for (name, mut took) in [
        ("alone".to_owned(), alone),
        (format!("while the retention deletes {pruned} rows"), during),
    ] {
        took.sort();
        let at = |p: f64| took[((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1];
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        );
    }
    Ok(())
}

async fn appends(
    db: &PgPool,
    app_id: i64,
    bodies: &[Vec<u8>],
    count: usize,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<Duration>> {
    let mut took = Vec::with_capacity(count);
    for index in 0..count {
        let began = Instant::now();
        sqlx::query("insert into webhook_events (app_id, body, received_at) values ($1, $2, $3)")
            .bind(app_id)
            .bind(&bodies[index % bodies.len()])
            .bind(at)
            .execute(db)
            .await
            .context("append an event")?;
        took.push(began.elapsed());
    }
    Ok(took)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
