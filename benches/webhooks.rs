//! Webhook ingestion load benchmark: a load tool, not a test. It measures how fast the real
//! `switchboard serve` process accepts signed WhatsApp webhooks over HTTP and how soon it applies
//! them to the inbox, and compares that with a ceiling: the same per-event SQL issued straight at the
//! same PostgreSQL, one transaction per event, as a synchronous design would.
//!
//! One run:
//! 1. recreates the database `switchboard_bench`, provisions a tenant and a number with the
//!    release binary's CLI, starts `switchboard serve` on a free loopback port and waits for
//!    `/readyz`;
//! 2. POSTs `--events` signed `messages` webhooks (unique wamids, `--customers` senders, Meta-style
//!    string timestamps) over `--concurrency` connections, either as fast as they are answered or,
//!    with `--rate`, open-loop on a fixed schedule (latency counted from each request's scheduled
//!    time, so a stall is not hidden by coordinated omission);
//! 3. watches the appliers during the load and until every stored event is applied, reads the apply
//!    delays, the server's peak RSS (VmHWM) and checks the result (one message per event, nothing
//!    failed), then stops the server with SIGTERM and checks that it exits cleanly;
//! 4. recreates `switchboard_bench_ceiling` and runs the ceiling over the same events.
//!
//! Run it (the server binary is built by `cargo bench` itself; see `docs/benchmarks.md`):
//!
//! ```text
//! cargo bench --bench webhooks -- --events 20000 --concurrency 64
//! cargo bench --bench webhooks -- --events 20000 --concurrency 64 --rate 1000
//! cargo bench --bench webhooks -- --storm          # 3,000 statuses/s + 20 customer messages/s, 30 s
//! ```
//!
//! Only 127.0.0.1 is targeted; every wait is bounded, and the server is killed if the tool fails.

// The modules live in `benches/webhooks/`, beside this file; `support/` is shared with `sends`.
#[path = "webhooks/ceiling.rs"]
mod ceiling;
#[path = "support/database.rs"]
mod database;
#[path = "webhooks/load.rs"]
mod load;
#[path = "webhooks/measure.rs"]
mod measure;
#[path = "webhooks/payload.rs"]
mod payload;
#[path = "webhooks/report.rs"]
mod report;
#[path = "support/server.rs"]
mod server;
#[path = "webhooks/storm.rs"]
mod storm;

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::{Context, ensure};
use clap::Parser;

use crate::{
    ceiling::CeilingRun,
    load::LoadPlan,
    payload::Event,
    report::{IngestRun, Report},
    server::{Binary, Server},
};

/// The database the server runs on; dropped and recreated by every run.
const SERVER_DATABASE: &str = "switchboard_bench";
/// The database the ceiling runs on; dropped and recreated by every run.
const CEILING_DATABASE: &str = "switchboard_bench_ceiling";

/// Load test for webhook ingestion (see the module documentation).
#[derive(Parser)]
#[command(name = "webhooks")]
struct Args {
    /// Webhooks to send (and events for the ceiling).
    #[arg(
        long,
        default_value_t = 20_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    events: u32,
    /// Concurrent connections (HTTP for the server, PostgreSQL for the ceiling).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Open-loop mode: send this many webhooks per second on a fixed schedule.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: Option<u32>,
    /// Distinct customers (`from` numbers) the messages come from.
    #[arg(
        long,
        default_value_t = 500,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    customers: u32,
    /// Seed for the generated messages.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The `switchboard` binary [default: $SWITCHBOARD_BIN, else the release binary cargo built].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL server, without a database name; must be on the loopback interface.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Upper bound, in seconds, on each phase (load, applying, ceiling).
    #[arg(long, default_value_t = 300)]
    phase_timeout: u64,
    /// Skip the ceiling phase.
    #[arg(long)]
    no_ceiling: bool,
    /// The status storm instead: `--rate` (default 3,000) status webhooks/s for `--seconds`,
    /// with customers' messages mixed in at `--inbound-rate`.
    #[arg(long)]
    storm: bool,
    /// Storm: how long, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(3..=600))]
    seconds: u32,
    /// Storm: customers' messages per second among the statuses.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    inbound_rate: u32,
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
    let postgres = database::Postgres::new(&args.postgres)?;
    let binary = Binary::locate(args.server_bin.clone())?;
    let phase_timeout = Duration::from_secs(args.phase_timeout);
    if args.storm {
        let database_url = postgres.recreate(SERVER_DATABASE).await?;
        binary.provision(&database_url).await?;
        let plan = storm::StormPlan {
            status_rate: args.rate.unwrap_or(3_000),
            inbound_rate: args.inbound_rate,
            seconds: args.seconds,
            customers: args.customers,
            concurrency: args.concurrency.into(),
            phase_timeout,
        };
        let correct = storm::run(&binary, &database_url, &plan).await?;
        ensure!(
            correct,
            "wrong data after the storm, or the server did not stop cleanly"
        );
        return Ok(());
    }
    println!(
        "Generating {} webhooks from {} customers…",
        args.events, args.customers
    );
    let events = payload::generate(args.events as usize, args.customers, args.seed);

    let server_url = postgres.recreate(SERVER_DATABASE).await?;
    binary.provision(&server_url).await?;
    println!("Starting {}…", binary.path().display());
    let server = binary.start(&server_url).await?;
    let ingest = ingest(&server, &server_url, &events, args, phase_timeout).await;
    // Stop the server whatever happened; dropping it would kill it instead.
    let shutdown = server.terminate().await;
    let mut ingest = ingest?;
    ingest.shutdown = Some(shutdown?);

    let ceiling = if args.no_ceiling {
        None
    } else {
        Some(measure_ceiling(&postgres, &binary, &events, args, phase_timeout).await?)
    };

    let report = Report {
        events: events.len(),
        concurrency: args.concurrency.into(),
        rate: args.rate,
        ingest,
        ceiling,
    };
    report.print();
    ensure!(
        report.is_correct(),
        "wrong data after the run, or the server did not stop cleanly (see above)"
    );
    Ok(())
}

/// The server phase: load while watching the appliers, then measure and verify, server still up.
async fn ingest(
    server: &Server,
    database_url: &str,
    events: &[Event],
    args: &Args,
    phase_timeout: Duration,
) -> anyhow::Result<IngestRun> {
    let pool = database::connect(database_url, 2).await?;
    let plan = LoadPlan {
        url: server.webhook_url(payload::META_APP_ID),
        concurrency: args.concurrency.into(),
        rate: args.rate,
    };
    match args.rate {
        Some(rate) => println!("Load: {} webhooks at {rate}/s, open-loop…", events.len()),
        None => println!(
            "Load: {} webhooks over {} connections, as fast as answered…",
            events.len(),
            args.concurrency
        ),
    }
    let load_done = AtomicBool::new(false);
    let load = async {
        let run = tokio::time::timeout(phase_timeout, load::run(&plan, events)).await;
        load_done.store(true, Ordering::Release);
        run.context("the load took longer than --phase-timeout")?
    };
    let watch = measure::watch_applied(&pool, &load_done, phase_timeout);
    let (load, snapshots) = tokio::try_join!(load, watch)?;
    let all_applied = snapshots
        .last()
        .map_or(Duration::ZERO, |last| last.at - load.started);
    let run = IngestRun {
        observed_delays: measure::observed_apply_delays(
            &pool,
            events,
            &load.accepted_at,
            &snapshots,
        )
        .await?,
        stored_delays: measure::stored_apply_delays(&pool).await?,
        peak_rss_kb: server.peak_rss_kb()?,
        check: measure::check(&pool, events.len()).await?,
        load,
        all_applied,
        shutdown: None,
    };
    pool.close().await;
    Ok(run)
}

/// The ceiling phase, on a fresh database provisioned like the server's.
async fn measure_ceiling(
    postgres: &database::Postgres,
    binary: &Binary,
    events: &[Event],
    args: &Args,
    phase_timeout: Duration,
) -> anyhow::Result<CeilingRun> {
    let database_url = postgres.recreate(CEILING_DATABASE).await?;
    binary.provision(&database_url).await?;
    println!(
        "Ceiling: the naive SQL straight to PostgreSQL over {} connections…",
        args.concurrency
    );
    let run = ceiling::run(&database_url, events, args.concurrency.into());
    tokio::time::timeout(phase_timeout, run)
        .await
        .context("the ceiling took longer than --phase-timeout")?
}
