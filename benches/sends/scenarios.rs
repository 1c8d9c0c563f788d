//! The run itself: the provisioned database, the fake Graph API and the pools ([`Bench`]), the
//! delivery worker started and stopped around each phase ([`Delivery`]), and the two scenarios.

use std::{collections::BTreeMap, fs::File, io::Write, sync::Arc, time::Duration};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use switchboard::{
    crypto::{Cipher, SecretKey},
    outbox::{
        PACING_HEADROOM,
        worker::{Outbox, OutboxConfig},
    },
    whatsapp::graph::GraphClient,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    Args, WARMUP_SECONDS, Which, database,
    fake::Fake,
    fixture,
    fixture::Fixture,
    load,
    load::{LoadRun, Sender},
    measure,
    report::{Offered, Scenario},
};

/// Seals the numbers' access tokens; any 32+ characters do for a throw-away database.
const SECRET_KEY: &str = "switchboard send benchmark: throw-away key material";
/// The fake Graph API stands in for Meta; its database work gets its own pool.
const FAKE_CONNECTIONS: u32 = 8;
/// Callers queueing the saturation backlog (the app pool has 16 connections).
const BACKLOG_CALLERS: usize = 16;
/// Seconds left out at each end of a run when reporting its steady rate.
const TRIM_SECONDS: usize = 2;
/// How long the queue may take to drain beyond what the limit allows.
const DRAIN_SLACK: Duration = Duration::from_secs(60);
/// How long the worker may take to finish its in-flight sends when stopped.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The provisioned database, the fake, and the pools.
pub struct Bench<'a> {
    args: &'a Args,
    /// The pool the send service and the first worker share, as in `switchboard serve`.
    app_db: PgPool,
    /// One pool per further worker (`--instances`), as other server processes would have.
    other_dbs: Vec<PgPool>,
    /// For reading results; the fake has its own.
    measure_db: PgPool,
    cipher: Cipher,
    fixture: Arc<Fixture>,
    fake: Fake,
}

impl<'a> Bench<'a> {
    pub async fn start(args: &'a Args, url: &str) -> anyhow::Result<Self> {
        let app_db = switchboard::db::connect(url).await?;
        switchboard::db::migrate(&app_db).await?;
        let cipher = SecretKey::from_material(SECRET_KEY)?.cipher();
        println!(
            "Provisioning {} numbers with {} open conversations each…",
            args.numbers, args.customers
        );
        let fixture =
            fixture::provision(&app_db, &cipher, args.numbers, args.limit, args.customers).await?;
        if args.history > 0 {
            println!(
                "Adding {} read messages of history, then VACUUM ANALYZE…",
                args.history
            );
            fixture::add_history(&app_db, fixture.tenant_id, args.history).await?;
        }
        if let Some(path) = &args.timings {
            let mut file =
                File::create(path).with_context(|| format!("create {}", path.display()))?;
            writeln!(file, "scenario,key,number_id,enqueued,claimed,called,sent")
                .with_context(|| format!("write {}", path.display()))?;
        }
        let fake_db = database::connect(url, FAKE_CONNECTIONS).await?;
        let fake = Fake::start(fake_db, cipher.clone()).await?;
        let mut other_dbs = Vec::new();
        for _ in 1..args.instances {
            other_dbs.push(switchboard::db::connect(url).await?);
        }
        Ok(Self {
            args,
            measure_db: database::connect(url, 2).await?,
            app_db,
            other_dbs,
            cipher,
            fixture: Arc::new(fixture),
            fake,
        })
    }

    pub async fn close(self) {
        self.fake.stop();
        self.app_db.close().await;
        for db in self.other_dbs {
            db.close().await;
        }
        self.measure_db.close().await;
    }

    pub async fn run_scenarios(&self) -> anyhow::Result<Vec<Scenario>> {
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
        let delivery = self.delivery()?;
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
            let delivery = self.delivery()?;
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
        let at_cap = f64::from(self.args.numbers * self.args.limit) * PACING_HEADROOM;
        let expected = Duration::from_secs_f64(count as f64 / at_cap);
        let delivery = self.delivery()?;
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

    /// The delivery workers: one per `--instances`, each with its own pool.
    fn delivery(&self) -> anyhow::Result<Delivery> {
        let pools = std::iter::once(&self.app_db).chain(&self.other_dbs);
        Delivery::start(pools, &self.cipher, &self.fake.url)
    }

    fn sender(&self, prefix: &'static str) -> Sender {
        let clock = std::sync::Arc::new(switchboard::window::SystemClock);
        Sender {
            service: switchboard::outbox::send::SendService::new(self.app_db.clone(), clock),
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

/// The delivery workers, running as `switchboard serve` runs them, until stopped.
struct Delivery {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Delivery {
    fn start<'p>(
        pools: impl IntoIterator<Item = &'p PgPool>,
        cipher: &Cipher,
        fake_url: &str,
    ) -> anyhow::Result<Self> {
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        for db in pools {
            let outbox = Outbox::new(
                db.clone(),
                cipher.clone(),
                GraphClient::new("v23.0")?,
                std::sync::Arc::new(switchboard::window::SystemClock),
                OutboxConfig::new(fake_url, fake_url),
            );
            tasks.push(tokio::spawn(outbox.run(stop.clone())));
        }
        Ok(Self { stop, tasks })
    }

    /// Stops claiming and waits for the in-flight sends.
    async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        for task in self.tasks {
            tokio::time::timeout(STOP_TIMEOUT, task)
                .await
                .context("a delivery worker did not stop in time")?
                .context("a delivery worker panicked")?;
        }
        Ok(())
    }
}
