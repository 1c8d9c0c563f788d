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
//! One run recreates the database `switchboard_bench_sends` (and drops it at the end unless
//! `--keep-database`), provisions a tenant, an app, the numbers and `--customers` open
//! conversations per number, and starts the fake on a loopback port. Every wait is bounded.
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

use std::{
    collections::BTreeMap, fs::File, io::Write, path::PathBuf, process::ExitCode, sync::Arc,
    time::Duration,
};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use clap::{Parser, ValueEnum};
use sqlx::PgPool;
use switchboard::{
    crypto::{Cipher, SecretKey},
    outbox::worker::{Outbox, OutboxConfig},
    whatsapp::graph::GraphClient,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    database::Postgres,
    fake::Fake,
    fixture::Fixture,
    load::{LoadRun, Sender},
    report::{Offered, Report, Scenario},
};

/// The benchmark's database; dropped and recreated by every run.
const DATABASE: &str = "switchboard_bench_sends";
/// Seals the numbers' access tokens; any 32+ characters do for a throw-away database.
const SECRET_KEY: &str = "switchboard send benchmark: throw-away key material";
/// The fake Graph API stands in for Meta; its database work gets its own pool.
const FAKE_CONNECTIONS: u32 = 8;
/// Callers queueing the saturation backlog (the app pool has 16 connections).
const BACKLOG_CALLERS: usize = 16;
/// Seconds of unmeasured load before each scenario (see `Bench::warm_up`).
const WARMUP_SECONDS: u32 = 2;
/// Seconds left out at each end of a run when reporting its steady rate.
const TRIM_SECONDS: usize = 2;
/// The fake keeps its latest 100 000 calls.
const CALL_LOG_CAPACITY: u64 = 100_000;
/// How long the queue may take to drain beyond what the limit allows.
const DRAIN_SLACK: Duration = Duration::from_secs(60);
/// How long the worker may take to finish its in-flight sends when stopped.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// Leave the database behind for inspection instead of dropping it.
    #[arg(long)]
    keep_database: bool,
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
        if self.scenario != Which::Saturation && per_number > f64::from(self.limit) * 0.95 {
            eprintln!(
                "warning: {per_number:.0}/s per number is not under the pacing rate \
                 ({:.0}/s); the first scenario will queue",
                f64::from(self.limit) * 0.95
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

/// The provisioned database, the fake, and the pools.
struct Bench<'a> {
    args: &'a Args,
    /// The pool the send service and the worker share, as in `switchboard serve`.
    app_db: PgPool,
    /// For reading results; the fake has its own.
    measure_db: PgPool,
    cipher: Cipher,
    fixture: Arc<Fixture>,
    fake: Fake,
}

impl<'a> Bench<'a> {
    async fn start(args: &'a Args, url: &str) -> anyhow::Result<Self> {
        let app_db = switchboard::db::connect(url).await?;
        switchboard::db::migrate(&app_db).await?;
        let cipher = SecretKey::from_material(SECRET_KEY)?.cipher();
        println!(
            "Provisioning {} numbers with {} open conversations each…",
            args.numbers, args.customers
        );
        let fixture =
            fixture::provision(&app_db, &cipher, args.numbers, args.limit, args.customers).await?;
        if let Some(path) = &args.timings {
            let mut file =
                File::create(path).with_context(|| format!("create {}", path.display()))?;
            writeln!(file, "scenario,key,number_id,enqueued,claimed,called,sent")
                .with_context(|| format!("write {}", path.display()))?;
        }
        let fake_db = database::connect(url, FAKE_CONNECTIONS).await?;
        let fake = Fake::start(fake_db, cipher.clone()).await?;
        Ok(Self {
            args,
            measure_db: database::connect(url, 2).await?,
            app_db,
            cipher,
            fixture: Arc::new(fixture),
            fake,
        })
    }

    async fn close(self) {
        self.fake.stop();
        self.app_db.close().await;
        self.measure_db.close().await;
    }

    async fn run_scenarios(&self) -> anyhow::Result<Vec<Scenario>> {
        let mut scenarios = Vec::new();
        if self.args.scenario != Which::Saturation {
            scenarios.push(self.under_limit().await?);
        }
        if self.args.scenario != Which::Under {
            scenarios.push(self.saturation().await?);
        }
        Ok(scenarios)
    }

    /// Open-loop at `--rate`, the worker delivering as the messages come.
    async fn under_limit(&self) -> anyhow::Result<Scenario> {
        let (rate, seconds) = (self.args.rate, self.args.seconds);
        let delivery = Delivery::start(&self.app_db, &self.cipher, &self.fake.url)?;
        let run = async {
            self.warm_up("warmup-under-").await?;
            println!("Under the limit: {rate} messages/s for {seconds} s, open-loop…");
            let from = Utc::now();
            let sender = self.sender("under-");
            let load = load::open_loop(&sender, self.args.under_count() as usize, rate).await?;
            measure::wait_drained(&self.measure_db, DRAIN_SLACK).await?;
            anyhow::Ok((load, (from, Utc::now())))
        }
        .await;
        delivery.stop().await?;
        let (load, span) = run?;
        let offered = Offered::Rate { rate, seconds };
        self.measure("under the limit", "under-", offered, load, span)
            .await
    }

    /// A backlog queued with the worker stopped, then delivered at the cap.
    async fn saturation(&self) -> anyhow::Result<Scenario> {
        if !self.args.no_warmup {
            let delivery = Delivery::start(&self.app_db, &self.cipher, &self.fake.url)?;
            let warmed = self.warm_up("warmup-saturation-").await;
            delivery.stop().await?;
            warmed?;
        }
        let count = self.args.backlog_count() as usize;
        println!("Saturation: queueing {count} messages, then starting the worker…");
        let sender = self.sender("saturation-");
        let load = load::backlog(&sender, count, BACKLOG_CALLERS).await;
        println!(
            "Queued {} in {:.1} s; delivering…",
            load.queued(),
            load.elapsed().as_secs_f64()
        );
        let at_cap = f64::from(self.args.numbers * self.args.limit) * 0.95;
        let expected = Duration::from_secs_f64(count as f64 / at_cap);
        let delivery = Delivery::start(&self.app_db, &self.cipher, &self.fake.url)?;
        let from = Utc::now();
        let drained = measure::wait_drained(&self.measure_db, expected * 2 + DRAIN_SLACK).await;
        let to = Utc::now();
        delivery.stop().await?;
        drained?;
        let offered = Offered::Backlog { count };
        self.measure("saturation", "saturation-", offered, load, (from, to))
            .await
    }

    /// `WARMUP_SECONDS` of open-loop load at `--rate`, not measured, with the worker running: the
    /// pool's connections open, statements prepared, credentials cached, as in a server that has
    /// been up a while. Skipped with `--no-warmup`.
    async fn warm_up(&self, prefix: &'static str) -> anyhow::Result<()> {
        if self.args.no_warmup {
            return Ok(());
        }
        println!("Warming up: {WARMUP_SECONDS} s at {}/s…", self.args.rate);
        let count = (self.args.rate * WARMUP_SECONDS) as usize;
        let load = load::open_loop(&self.sender(prefix), count, self.args.rate).await?;
        ensure!(
            load.queued() == count,
            "warm-up: {} of {count} messages were not queued",
            count - load.queued()
        );
        measure::wait_drained(&self.measure_db, DRAIN_SLACK).await
    }

    fn sender(&self, prefix: &'static str) -> Sender {
        Sender {
            db: self.app_db.clone(),
            fixture: self.fixture.clone(),
            prefix,
        }
    }

    /// Reads a drained scenario's rows and the fake's logs into its figures.
    async fn measure(
        &self,
        name: &'static str,
        prefix: &str,
        offered: Offered,
        load: LoadRun,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> anyhow::Result<Scenario> {
        let rows = measure::rows(&self.measure_db, self.fixture.tenant_id, prefix).await?;
        let mut statuses = BTreeMap::new();
        for row in &rows {
            *statuses.entry(row.status.clone()).or_insert(0) += 1;
        }
        let arrivals = self.fake.arrivals();
        if let Some(path) = &self.args.timings {
            let mut file = File::options()
                .append(true)
                .open(path)
                .with_context(|| format!("open {}", path.display()))?;
            measure::write_timings(&mut file, name, &rows, &arrivals)
                .with_context(|| format!("write {}", path.display()))?;
        }
        Ok(Scenario {
            name,
            offered,
            load,
            statuses,
            throughput: measure::throughput(&rows, from, TRIM_SECONDS),
            latency: measure::latency(&rows, &arrivals),
            peaks: measure::peaks(&self.fake.calls(), from, to),
        })
    }
}

/// The delivery worker, running as `switchboard serve` runs it, until stopped.
struct Delivery {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Delivery {
    fn start(db: &PgPool, cipher: &Cipher, fake_url: &str) -> anyhow::Result<Self> {
        let outbox = Outbox::new(
            db.clone(),
            cipher.clone(),
            GraphClient::new("v23.0")?,
            OutboxConfig::new(fake_url, fake_url),
        );
        let stop = CancellationToken::new();
        let task = tokio::spawn(outbox.run(stop.clone()));
        Ok(Self { stop, task })
    }

    /// Stops claiming and waits for the in-flight sends.
    async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(STOP_TIMEOUT, self.task)
            .await
            .context("the delivery worker did not stop in time")?
            .context("the delivery worker panicked")
    }
}
