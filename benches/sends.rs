//! Send pipeline benchmark: a load tool, not a test. It queues text messages through the real send
//! service (`outbox::send`) and lets the real delivery worker (`outbox::worker::Outbox`, configured
//! as `switchboard serve` configures it) deliver them to the fake Graph API, all in this process,
//! over `--numbers` business numbers limited to `--limit` messages/s each. It measures:
//!
//! - messages reaching `sent` per second (each calendar second of the steady middle, and overall);
//! - enqueue-to-Graph-call latency: from the row's `created_at` (when the send service's
//!   transaction began, DB clock) to the request's arrival at the fake (wall clock of the same
//!   host), tied to its message by the idempotency key carried in the text; the DB-clock bounds
//!   `sending_started_at` (claimed, before pacing) and `sent_at` (answer recorded) beside it;
//! - the most Graph calls any one number received in one calendar second and in any sliding
//!   one-second window, from the fake's call log (Meta's limit must hold in both);
//! - rows that did not reach `sent`, and the enqueue rate the generator achieved.
//!
//! Two scenarios, in order:
//! 1. **under the limit**: `--rate` messages/s (default 1,000: 50/s on each of 20 numbers)
//!    open-loop for `--seconds`, the worker running;
//! 2. **saturation**: `--limit × --saturation-seconds` messages per number queued up front with
//!    the worker stopped, then the worker started: every number at its cap until the queue drains.
//!
//! Each scenario is preceded by 2 s of the same open-loop load, not measured (`--no-warmup` skips
//! it), so that the figures are those of a server that has been up a while: pool connections open,
//! statements prepared, credentials cached.
//!
//! One run recreates the database `switchboard_bench_sends` (and drops it at the end unless
//! `--keep-database`), provisions a tenant, an app, the numbers and `--customers` open
//! conversations per number, and starts the fake on a loopback port. Every wait is bounded.
//! `--history N` first adds N old, read messages and runs `VACUUM ANALYZE`, so that PostgreSQL plans
//! the queue queries as it would in a database in use (where queued rows are a sliver of `messages`);
//! `--timings FILE` writes each sent message's instants to a CSV for closer analysis.
//! `--instances N` runs N delivery workers, each with its own pool, as N server processes sharing
//! the database would (they share the queue and each number's slots).
//!
//! ```text
//! cargo bench --bench sends
//! cargo bench --bench sends -- --scenario under --rate 1000 --seconds 20
//! cargo bench --bench sends -- --scenario saturation --saturation-seconds 15 --keep-database
//! ```
//!
//! See `docs/benchmarks.md` ("Sending") for what the figures mean and the latest results.

// The modules live in `benches/sends/`, beside this file.
#[path = "support/database.rs"]
mod database;
#[path = "sends/fake.rs"]
mod fake;
#[path = "sends/fixture.rs"]
mod fixture;
#[path = "sends/load.rs"]
mod load;
#[path = "sends/measure.rs"]
mod measure;
#[path = "sends/report.rs"]
mod report;
#[path = "sends/scenarios.rs"]
mod scenarios;

use std::{path::PathBuf, process::ExitCode};

use anyhow::ensure;
use clap::{Parser, ValueEnum};
use switchboard::outbox::PACING_HEADROOM;

use crate::{database::Postgres, report::Report, scenarios::Bench};

/// The benchmark's database; dropped and recreated by every run.
const DATABASE: &str = "switchboard_bench_sends";
/// Seconds of unmeasured load before each scenario (see `Bench::warm_up`).
pub const WARMUP_SECONDS: u32 = 2;
/// The fake keeps its latest 100 000 calls.
const CALL_LOG_CAPACITY: u64 = 100_000;

/// Benchmark for the send pipeline (see the module documentation).
#[derive(Parser)]
#[command(name = "sends")]
struct Args {
    /// Which scenarios to run.
    #[arg(long, value_enum, default_value_t = Which::All)]
    scenario: Which,
    /// Business numbers, the load spread evenly over them.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    numbers: u32,
    /// Each number's limit, messages/s (`phone_numbers.max_messages_per_second`).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Open conversations per number.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=5000))]
    customers: u32,
    /// Under the limit: messages/s offered, open-loop.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rate: u32,
    /// Under the limit: how long to offer them.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=120))]
    seconds: u32,
    /// Saturation: the backlog holds this many seconds of every number's limit.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=120))]
    saturation_seconds: u32,
    /// PostgreSQL server, without a database name; must be on the loopback interface.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Delivery workers, each with its own pool, as that many server processes would run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    instances: u32,
    /// Leave the database behind for inspection instead of dropping it.
    #[arg(long)]
    keep_database: bool,
    /// Old, already read messages to add before the run (then `VACUUM ANALYZE`), so that the
    /// queue is as small a part of `messages` as in a database that has been in use.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=5_000_000))]
    history: u32,
    /// Measure from a cold start: no warm-up before each scenario.
    #[arg(long)]
    no_warmup: bool,
    /// Also write every sent message's instants (enqueued, claimed, Graph call, sent) to this CSV.
    #[arg(long)]
    timings: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    All,
    Under,
    Saturation,
}

impl Args {
    fn under_count(&self) -> u64 {
        u64::from(self.rate) * u64::from(self.seconds)
    }

    fn backlog_count(&self) -> u64 {
        u64::from(self.numbers) * u64::from(self.limit) * u64::from(self.saturation_seconds)
    }

    fn check(&self) -> anyhow::Result<()> {
        let warm_up = if self.no_warmup {
            0
        } else {
            u64::from(self.rate) * u64::from(WARMUP_SECONDS)
        };
        let planned = match self.scenario {
            Which::All => self.under_count() + self.backlog_count() + 2 * warm_up,
            Which::Under => self.under_count() + warm_up,
            Which::Saturation => self.backlog_count() + warm_up,
        };
        ensure!(
            planned <= CALL_LOG_CAPACITY,
            "{planned} messages would overflow the fake's call log ({CALL_LOG_CAPACITY}); \
             lower --rate, --seconds or --saturation-seconds"
        );
        let per_number = f64::from(self.rate) / f64::from(self.numbers);
        if self.scenario != Which::Saturation
            && per_number > f64::from(self.limit) * PACING_HEADROOM
        {
            eprintln!(
                "warning: {per_number:.0}/s per number is not under the pacing rate \
                 ({:.0}/s); the first scenario will queue",
                f64::from(self.limit) * PACING_HEADROOM
            );
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // `cargo bench` passes `--bench` to every bench binary; this one has no use for it.
    let args = Args::parse_from(std::env::args().filter(|arg| arg != "--bench"));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<()> {
    args.check()?;
    let postgres = Postgres::new(&args.postgres)?;
    let load_before = load_average();
    postgres.drop_database(DATABASE).await?;
    let bench = Bench::start(args, &postgres.url(DATABASE)).await;
    let report = match bench {
        Ok(bench) => {
            let scenarios = bench.run_scenarios().await;
            bench.close().await;
            scenarios
        }
        Err(error) => Err(error),
    };
    if args.keep_database {
        println!("Left the database {} behind.", postgres.url(DATABASE));
    } else {
        postgres.drop_database(DATABASE).await?;
    }
    let report = Report {
        numbers: args.numbers,
        limit: args.limit,
        customers: args.customers,
        load_before,
        load_after: load_average(),
        scenarios: report?,
    };
    report.print();
    Ok(())
}

/// The `/proc/loadavg` figures, to show how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}
