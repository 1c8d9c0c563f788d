//! The agent inbox at scale: a load tool, not a test. It seeds a tenant with `switchboard dev seed`
//! (or reuses one seeded earlier), starts the real `switchboard serve`, signs agents in and times
//! the pages they load (each view of the list, filtered lists, a deep page, threads, searches) and
//! the replies they send, then holds hundreds of live-update streams open and times how soon a
//! signed webhook reaches all of them, and the server's memory meanwhile. With `--reports` it
//! works out the reports' days instead (timed) and times the admin's report pages.
//!
//! ```text
//! cargo bench --bench inbox -- --conversations 100000              # 1 M messages
//! cargo bench --bench inbox -- --conversations 1000000 --reuse     # 10 M messages, seeded once
//! cargo bench --bench inbox -- --conversations 1000000 --reuse --reports
//! cargo bench --bench inbox -- --conversations 1000000 --reuse --against 100000
//! ```
//!
//! With `--against` it times the pages of two sizes turn about, each on its own server, and
//! compares their p99s (the goal: cost grows with the page, not the table).
//!
//! Each size has its own database (`switchboard_bench_inbox_<conversations>`), kept between runs
//! so that `--reuse` measures again without seeding again. See docs/benchmarks.md.

#[path = "inbox/agent.rs"]
mod agent;
#[path = "support/database.rs"]
mod database;
#[path = "inbox/fixture.rs"]
mod fixture;
#[path = "inbox/live.rs"]
mod live;
#[allow(
    dead_code,
    reason = "shared with the webhooks benchmark; only messages are posted here"
)]
#[path = "webhooks/payload.rs"]
mod payload;
#[path = "inbox/scenarios.rs"]
mod scenarios;
#[allow(
    dead_code,
    reason = "shared with the webhooks benchmark, which uses more of it"
)]
#[path = "support/server.rs"]
mod server;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use sqlx::PgPool;

use crate::{
    agent::Agent,
    fixture::Fixture,
    live::Streams,
    scenarios::{Span, Timings},
    server::Binary,
};

/// The seeded agents' password.
const PASSWORD: &str = "switchboard bench agents";

/// Load test for the agent inbox (see the module documentation).
#[derive(Parser)]
#[command(name = "inbox")]
struct Args {
    /// Conversations to seed.
    #[arg(long, default_value_t = 100_000)]
    conversations: u64,
    /// Messages to seed [default: ten per conversation].
    #[arg(long)]
    messages: Option<u64>,
    /// Measure the database seeded by an earlier run of this size, if there is one.
    #[arg(long)]
    reuse: bool,
    /// Measure the admin's reports only (after working out the days they add up).
    #[arg(long)]
    reports: bool,
    /// Time the pages of this size too (seeded first if it is not yet), turn about with the main
    /// size in blocks of a hundred requests, each on its own server, so that both sizes are timed
    /// on the same machine in the same moments; prints both and the ratio of their p99s.
    #[arg(long)]
    against: Option<u64>,
    /// Measured requests per scenario.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Unmeasured requests before each scenario's.
    #[arg(long, default_value_t = 30)]
    warmup: usize,
    /// Agents loading pages at once (one request in flight each).
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Live-update streams open while webhooks arrive.
    #[arg(long, default_value_t = 500)]
    streams: usize,
    /// Streams open when the server's memory is read.
    #[arg(long, default_value_t = 1000)]
    memory_streams: usize,
    /// Webhooks whose delivery to every stream is timed.
    #[arg(long, default_value_t = 30)]
    webhooks: usize,
    /// The `switchboard` binary [default: $SWITCHBOARD_BIN, else the release binary cargo built].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL server, without a database name; must be on the loopback interface.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // `cargo bench` passes `--bench` to every bench binary; this one has no use for it.
    let args = Args::parse_from(std::env::args().filter(|arg| arg != "--bench"));
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<()> {
    raise_open_files_limit();
    let postgres = database::Postgres::new(&args.postgres)?;
    let binary = Binary::locate(args.server_bin.clone())?;
    let messages = args.messages.unwrap_or(args.conversations * 10);
    let main =
        Seeded::prepare(&postgres, &binary, args.conversations, messages, args.reuse).await?;
    if args.reports {
        return measure_reports(&binary, &main.url, &main.db, &main.fixture, args).await;
    }
    if let Some(other) = args.against {
        let other = Seeded::prepare(&postgres, &binary, other, other * 10, true).await?;
        let mut sizes = [other, main];
        sizes.sort_by_key(|s| s.conversations);
        return compare(&binary, args, sizes).await;
    }
    main.catch_up_reports().await?;
    let Seeded {
        url: database_url,
        fixture,
        ..
    } = main;
    let server = binary.start(&database_url).await?;
    let mut agents = sign_in(&server, args.concurrency).await?;
    let run_tag = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let (pages, replies): (Vec<_>, Vec<_>) = scenarios::all()
        .into_iter()
        .partition(|s| !s.name.starts_with("send"));
    run_table(&pages, &mut agents, &fixture, args, run_tag).await?;

    // Live updates: the streams of one signed-in agent (a session may have many tabs).
    let mut streams = Streams::new(server.base_url(), &agents[0].cookie_header())?;
    streams.grow_to(args.streams).await?;
    let seed = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(1);
    let webhooks = payload::generate(args.webhooks, 1_000_000, seed);
    let delays = streams
        .deliver(
            &server.webhook_url(payload::META_APP_ID),
            &webhooks,
            Duration::from_millis(200),
        )
        .await?;
    print_row(&Timings {
        name: "live: webhook's 200 → every stream",
        goal_ms: 200,
        took: delays,
    });
    streams.grow_to(args.memory_streams).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "\nserver memory with {} streams open: RSS {} MB (peak so far {} MB)",
        streams.count,
        server.rss_kb()? / 1024,
        server.peak_rss_kb()? / 1024
    );
    streams.close();

    println!();
    run_table(&replies, &mut agents, &fixture, args, run_tag).await?;
    let shutdown = server.terminate().await?;
    println!(
        "\nserver stopped with {} in {:.1?}",
        shutdown.status, shutdown.took
    );
    Ok(())
}

/// A seeded database, ready to be measured.
struct Seeded {
    conversations: u64,
    url: String,
    db: PgPool,
    fixture: Fixture,
}

impl Seeded {
    /// The database of this size, seeded now unless `reuse` finds it seeded earlier; an earlier
    /// run's replies removed, vacuumed and analyzed (as autovacuum would have), and its reports'
    /// history worked out (as a running install has it).
    async fn prepare(
        postgres: &database::Postgres,
        binary: &Binary,
        conversations: u64,
        messages: u64,
        reuse: bool,
    ) -> anyhow::Result<Self> {
        let name = format!("switchboard_bench_inbox_{conversations}");
        let url = postgres.url(&name);
        if !(reuse && seeded(&url).await) {
            postgres.recreate(&name).await?;
            binary.provision(&url).await?;
            let started = Instant::now();
            eprintln!("seeding {conversations} conversations, {messages} messages …");
            let printed = binary.seed(&url, conversations, messages, PASSWORD).await?;
            eprint!("{printed}");
            println!("seeded in {:.0?}", started.elapsed());
        }
        let db = database::connect(&url, 2).await?;
        // An earlier run's replies are the newest messages, where searches read first: measured
        // again, the database is the one seeded, not one topped with thousands of "Reply n from
        // the benchmark".
        let removed = sqlx::query("delete from messages where idempotency_key like 'bench-%'")
            .execute(&db)
            .await
            .context("remove earlier runs' replies")?
            .rows_affected();
        if removed > 0 {
            println!("removed {removed} replies sent by earlier runs");
        }
        // What autovacuum (off on this machine) would have done since the seeding and earlier
        // runs: visibility maps for index-only scans and fresh statistics.
        sqlx::raw_sql("vacuum analyze")
            .execute(&db)
            .await
            .context("vacuum the database")?;
        prewarm(&db).await?;
        let fixture = Fixture::read(&db).await?;
        println!("{}", sizes(&db).await?);
        Ok(Self {
            conversations,
            url,
            db,
            fixture,
        })
    }

    /// Works out the reports' history, as a running install has it: a fresh seed has months of
    /// it to do, seconds of SQL a day, which the server's job would do while the pages are timed.
    async fn catch_up_reports(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut days = 0;
        loop {
            let done = switchboard::domain::reports::rollup::catch_up(&self.db, chrono::Utc::now())
                .await?;
            if done == 0 {
                break;
            }
            days += done;
        }
        if days > 0 {
            println!(
                "reports' history of {} conversations: {days} days worked out first in {:.0?}",
                self.conversations,
                started.elapsed()
            );
        }
        Ok(())
    }
}

/// Signs `count` of the seeded agents in to `server`.
async fn sign_in(server: &server::Server, count: usize) -> anyhow::Result<Vec<Agent>> {
    let mut agents = Vec::with_capacity(count);
    for n in 1..=count.max(1) {
        agents.push(
            Agent::sign_in(
                server.base_url(),
                &format!("agent{n}@bench.example"),
                PASSWORD,
            )
            .await?,
        );
    }
    Ok(agents)
}

/// Requests of a size timed before the other size's turn (`--against`).
const BLOCK: usize = 100;

/// Times the pages of two sizes (smaller first) turn about, a [`BLOCK`] of requests at a time,
/// each size on a server of its own (both running throughout), so that a slower spell of the
/// machine falls on both; prints each size's figures and how the larger one's p99 compares.
async fn compare(binary: &Binary, args: &Args, sizes: [Seeded; 2]) -> anyhow::Result<()> {
    for seeded in &sizes {
        seeded.catch_up_reports().await?;
    }
    let servers = [
        binary.start(&sizes[0].url).await?,
        binary.start(&sizes[1].url).await?,
    ];
    let mut agents = [
        sign_in(&servers[0], args.concurrency).await?,
        sign_in(&servers[1], args.concurrency).await?,
    ];
    let run_tag = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let [small, large] = sizes.each_ref().map(|s| s.conversations);
    println!(
        "| scenario | requests each | p50 / p99 at {small} | p50 / p99 at {large} | p99 ratio | goal (within 1.25×) |"
    );
    println!("|---|---|---|---|---|---|");
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    for scenario in scenarios::all()
        .iter()
        .filter(|s| !s.name.starts_with("send"))
    {
        let mut took = [Vec::new(), Vec::new()];
        for block in 0..args.requests.div_ceil(BLOCK) {
            let span = Span {
                warmup: if block == 0 { args.warmup } else { 0 },
                requests: BLOCK.min(args.requests - block * BLOCK),
                first: if block == 0 {
                    0
                } else {
                    args.warmup + block * BLOCK
                },
            };
            // Each size goes first in every other block.
            for k in [block % 2, 1 - block % 2] {
                let timings =
                    scenarios::run(scenario, &mut agents[k], &sizes[k].fixture, span, run_tag)
                        .await?;
                took[k].extend(timings.took);
            }
        }
        let [small, large] = took.map(|mut took| {
            took.sort_unstable();
            Timings {
                name: scenario.name,
                goal_ms: scenario.goal_ms,
                took,
            }
        });
        let ratio = large.percentile(0.99).as_secs_f64() / small.percentile(0.99).as_secs_f64();
        println!(
            "| {} | {} | {} / {} ms | {} / {} ms | {ratio:.2} | {} |",
            scenario.name,
            small.took.len(),
            ms(small.percentile(0.5)),
            ms(small.percentile(0.99)),
            ms(large.percentile(0.5)),
            ms(large.percentile(0.99)),
            if ratio <= 1.25 { "met" } else { "**missed**" }
        );
    }
    for server in servers {
        server.terminate().await?;
    }
    Ok(())
}

/// Works out every day's figures as the server's background job does (timed), then times the
/// admin's report pages and an export, with the job running in the server as in production.
async fn measure_reports(
    binary: &Binary,
    database_url: &str,
    db: &PgPool,
    fixture: &Fixture,
    args: &Args,
) -> anyhow::Result<()> {
    use switchboard::domain::reports::{hours, rollup};

    sqlx::raw_sql("truncate report_days, report_runs, report_hours, report_hour_runs")
        .execute(db)
        .await
        .context("forget the reports")?;
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut days = 0;
    loop {
        let run = Instant::now();
        let done = rollup::catch_up(db, now).await?;
        if done == 0 {
            break;
        }
        days += done;
        eprintln!("  {done} days in {:.1?}", run.elapsed());
    }
    println!(
        "reports: {days} days worked out in {:.1?} ({:.0?} a day)",
        started.elapsed(),
        started.elapsed() / u32::try_from(days.max(1)).unwrap_or(1)
    );
    // What a day costs worked out whole (today was worked out so until it went by the hour), and
    // a busy past day's deliveries (when read receipts arrive for it).
    let today = now.date_naive();
    let busiest: chrono::NaiveDate =
        sqlx::query_scalar("select day from report_runs where day < $1 order by took desc limit 1")
            .bind(today)
            .fetch_one(db)
            .await
            .context("find the busiest day")?;
    let later = now + chrono::TimeDelta::minutes(1);
    for (what, day, part) in [
        ("today, whole", today, rollup::Part::All),
        ("the busiest day, whole", busiest, rollup::Part::All),
        (
            "the busiest day, deliveries",
            busiest,
            rollup::Part::Deliveries,
        ),
    ] {
        let timer = Instant::now();
        rollup::work_out(db, day, part, later).await?;
        let messages: i64 = sqlx::query_scalar(
            "select count(*) from messages
             where created_at >= $1::timestamp at time zone 'UTC'
               and created_at < ($1 + 1)::timestamp at time zone 'UTC'",
        )
        .bind(day)
        .fetch_one(db)
        .await
        .context("count the day's messages")?;
        println!(
            "reports: {what} ({day}, {messages} messages) worked out in {:.1?}",
            timer.elapsed()
        );
    }
    // What the job does each minute: today's hours that can have changed since.
    let timer = Instant::now();
    hours::work_out_by_the_hour(db, today, later + chrono::TimeDelta::minutes(1)).await?;
    println!(
        "reports: today by the hour, a minute later, worked out in {:.1?}",
        timer.elapsed()
    );
    sqlx::raw_sql("vacuum analyze report_days, report_runs, report_hours, report_hour_runs")
        .execute(db)
        .await
        .context("vacuum the reports")?;
    let server = binary.start(database_url).await?;
    // The seed makes agent1 an admin.
    let mut admin =
        vec![Agent::sign_in(server.base_url(), "agent1@bench.example", PASSWORD).await?];
    let run_tag = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    run_table(&scenarios::reports(), &mut admin, fixture, args, run_tag).await?;
    server.terminate().await?;
    Ok(())
}

/// Reads every table and index of the database once, into the operating system's cache. A server
/// in use has its data in memory; a database just seeded, or pushed out of the cache by builds
/// since, has its pages read from disk by whichever request first wants them, and the larger size
/// pays that more often. So what is timed does not depend on what ran before the benchmark.
async fn prewarm(db: &PgPool) -> anyhow::Result<()> {
    let started = Instant::now();
    sqlx::raw_sql("create extension if not exists pg_prewarm")
        .execute(db)
        .await
        .context("load pg_prewarm")?;
    let bytes: i64 = sqlx::query_scalar(
        "select coalesce(sum(pg_prewarm(c.oid, 'read')), 0)::bigint
                * current_setting('block_size')::bigint
         from pg_class c
         where c.relkind in ('r', 'i', 't', 'm')
           and c.relnamespace in ('public'::regnamespace, 'pg_toast'::regnamespace)",
    )
    .fetch_one(db)
    .await
    .context("read the database into memory")?;
    println!(
        "read the database into memory: {:.1} GB in {:.0?}",
        bytes as f64 / 1e9,
        started.elapsed()
    );
    Ok(())
}

/// Whether `database_url` holds a seeded tenant.
async fn seeded(database_url: &str) -> bool {
    let Ok(db) = database::connect(database_url, 1).await else {
        return false;
    };
    sqlx::query_scalar::<_, i64>(
        "select count(*) from conversations c join tenants t on t.id = c.tenant_id where t.slug = 'bench'",
    )
    .fetch_one(&db)
    .await
    .is_ok_and(|n| n > 0)
}

/// The seeded tenant's size, for the report.
async fn sizes(db: &PgPool) -> anyhow::Result<String> {
    let (conversations, messages, contacts): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from conversations), (select count(*) from messages),
                (select count(*) from contacts)",
    )
    .fetch_one(db)
    .await
    .context("count the seeded rows")?;
    Ok(format!(
        "database: {conversations} conversations, {messages} messages, {contacts} contacts"
    ))
}

/// Runs each of `table`'s scenarios in turn and prints their figures as one table.
async fn run_table(
    table: &[scenarios::Scenario],
    agents: &mut [Agent],
    fixture: &Fixture,
    args: &Args,
    run_tag: u64,
) -> anyhow::Result<()> {
    print_header();
    for scenario in table {
        let span = Span {
            warmup: args.warmup,
            requests: args.requests,
            first: 0,
        };
        let timings = scenarios::run(scenario, agents, fixture, span, run_tag).await?;
        print_row(&timings);
    }
    Ok(())
}

fn print_header() {
    println!("| scenario | requests | p50 | p90 | p99 | max | goal (p99) |");
    println!("|---|---|---|---|---|---|---|");
}

fn print_row(timings: &Timings) {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let p99 = timings.percentile(0.99);
    let met = if p99 <= Duration::from_millis(timings.goal_ms) {
        "met"
    } else {
        "**missed**"
    };
    println!(
        "| {} | {} | {} | {} | {} | {} | ≤ {} ms: {met} |",
        timings.name,
        timings.took.len(),
        ms(timings.percentile(0.5)),
        ms(timings.percentile(0.9)),
        ms(p99),
        ms(timings.percentile(1.0)),
        timings.goal_ms
    );
}

/// A thousand streams need a thousand sockets: lift the soft limit on open files to the hard one.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
