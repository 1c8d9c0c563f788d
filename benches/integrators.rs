//! Integrators at load (issue 10, §6): a load tool, not a test. Against the real `switchboard
//! serve` (the release binary, a child process) and real PostgreSQL, with a fake Graph API in this
//! process standing in for Meta (`META_GRAPH_URL`; it answers from memory, as Meta's own machines
//! would, unless `--sandbox-graph`), over `--numbers` business numbers:
//!
//! 1. **async sends**: `POST /graph/v23.0/{phone_number_id}/messages` with `Prefer: respond-async`,
//!    open-loop at each of `--rates` requests a second for `--seconds` (after 2 s of the same load,
//!    not measured, and the queue drained): requests answered 202 a second, and their latency;
//! 2. **sync sends**: the same without `Prefer`, at `--sync-rate` a second (well under the numbers'
//!    pacing), each answered once the fake has answered: the latency, beside the fake's own
//!    latency measured by calling it directly;
//! 3. **outbound webhooks**: `--deliveries` events queued at once for an endpoint on a local
//!    receiver: deliveries a second, from the first arrival to the last;
//! 4. **a receiver that is down**: for `--down-seconds`, events keep coming (`--down-rate` a second)
//!    for two endpoints, one of them not listening; how late the other's events arrive meanwhile,
//!    then, once the receiver is back, whether it gets every event and how soon.
//!
//! ```text
//! cargo bench --bench integrators
//! cargo bench --bench integrators -- --down-seconds 600
//! ```
//!
//! One run recreates the database `switchboard_bench_integrators` (dropped at the end unless
//! `--keep-database`), with `--history` old messages in it, vacuumed and analyzed, so that
//! PostgreSQL plans as in a database in use (not as for an empty `messages`). See docs/benchmarks.md ("Integrators").

#[path = "support/database.rs"]
mod database;
#[allow(
    dead_code,
    reason = "shared with the sends benchmark, which uses more of it"
)]
#[path = "sends/fake.rs"]
mod fake;
#[allow(
    dead_code,
    reason = "shared with the sends benchmark, which uses more of it"
)]
#[path = "sends/fixture.rs"]
mod fixture;
#[path = "integrators/load.rs"]
mod load;
#[path = "integrators/meta.rs"]
mod meta;
#[allow(
    dead_code,
    reason = "shared with the webhooks benchmark; used for the server's set-up"
)]
#[path = "webhooks/payload.rs"]
mod payload;
#[path = "integrators/receiver.rs"]
mod receiver;
#[allow(
    dead_code,
    reason = "shared with the other benchmarks, which use more of it"
)]
#[path = "support/server.rs"]
mod server;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use clap::Parser;
use serde_json::json;
use sqlx::PgPool;
use switchboard::{
    crypto::SecretKey,
    domain::{
        api_keys,
        ids::TenantId,
        webhook_endpoints::{self, Format, NewEndpoint},
    },
};

use crate::{
    database::Postgres,
    fake::Fake,
    load::{Figures, open_loop},
    meta::Meta,
    receiver::Receiver,
    server::Binary,
};

const DATABASE: &str = "switchboard_bench_integrators";

#[derive(Parser)]
#[command(name = "integrators")]
struct Args {
    /// Business numbers, the load spread evenly over them.
    #[arg(long, default_value_t = 20)]
    numbers: u32,
    /// Customers (open conversations) per number.
    #[arg(long, default_value_t = 50)]
    customers: u32,
    /// Async sends a second: each rate in turn.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000")]
    rates: Vec<u32>,
    /// Seconds of async sends measured.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Sync sends a second.
    #[arg(long, default_value_t = 20)]
    sync_rate: u32,
    /// Seconds of sync sends measured.
    #[arg(long, default_value_t = 20)]
    sync_seconds: u32,
    /// Events queued at once for the delivery scenario.
    #[arg(long, default_value_t = 20_000)]
    deliveries: u32,
    /// Seconds a receiver stays down.
    #[arg(long, default_value_t = 60)]
    down_seconds: u64,
    /// Events a second while it is down.
    #[arg(long, default_value_t = 50)]
    down_rate: u32,
    /// PostgreSQL server, without a database name; must be on the loopback interface.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// The `switchboard` binary (default: the release build).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Old, already read messages added before the run (then `VACUUM ANALYZE`): a tenant whose
    /// `messages` has been in use, so that PostgreSQL plans its queries as it would there.
    #[arg(long, default_value_t = 100_000)]
    history: u32,
    /// Stand in for Meta with the sandbox's fake, which finds numbers and faults in PostgreSQL
    /// (three statements a call on the measured database), instead of one that answers from
    /// memory.
    #[arg(long)]
    sandbox_graph: bool,
    /// Keep the database after the run.
    #[arg(long)]
    keep_database: bool,
    /// Only the outbound webhooks' scenarios (3 and 4).
    #[arg(long)]
    webhooks_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench` to every bench binary; this one has no use for it.
    let args = Args::parse_from(std::env::args().filter(|arg| arg != "--bench"));
    let postgres = Postgres::new(&args.postgres)?;
    let url = postgres.recreate(DATABASE).await?;
    let db = database::connect(&url, 8).await?;
    switchboard::db::migrate(&db).await?;
    let cipher = SecretKey::from_material(server::SECRET_KEY)?.cipher();
    let fixture = fixture::provision(&db, &cipher, args.numbers, 80, args.customers).await?;
    let tenant_id = fixture.tenant_id;
    let mut conn = db.acquire().await?;
    let key = api_keys::create(&mut conn, tenant_id, None, "Bench", &[], 100_000)
        .await?
        .map_err(|refused| anyhow::anyhow!("{refused}"))?
        .secret;
    drop(conn);
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "select n.phone_number_id, k.wa_id from conversations c
         join phone_numbers n on n.id = c.phone_number_id join contacts k on k.id = c.contact_id
         where c.tenant_id = $1 order by c.id",
    )
    .bind(tenant_id)
    .fetch_all(&db)
    .await?;
    fixture::add_history(&db, tenant_id, args.history).await?;
    let credentials = fixture::credentials(args.numbers);
    let (fake, graph_url) = if args.sandbox_graph {
        let fake = Fake::start(db.clone(), cipher.clone()).await?;
        let url = fake.url.clone();
        (Some(fake), url)
    } else {
        (
            None,
            Meta::start(credentials.iter().cloned().collect())
                .await?
                .url,
        )
    };
    let binary = Binary::locate(args.server_bin.clone())?;
    let server = binary
        .start_with(
            &url,
            &[
                ("META_GRAPH_URL", graph_url.as_str()),
                ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
            ],
        )
        .await?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = server.base_url().to_owned();
    println!(
        "{} numbers, {} conversations; server {}",
        args.numbers,
        pairs.len(),
        binary.path().display()
    );

    // 1. Async sends.
    let pairs = Arc::new(pairs);
    let send = |asynchronous: bool, label: &'static str| {
        let (http, base, key, pairs) = (http.clone(), base.clone(), key.clone(), pairs.clone());
        Arc::new(move |i: usize| {
            let (phone_number_id, wa_id) = &pairs[i % pairs.len()];
            let mut request = http
                .post(format!("{base}/graph/v23.0/{phone_number_id}/messages"))
                .bearer_auth(&key)
                .json(
                    &json!({ "messaging_product": "whatsapp", "to": wa_id, "type": "text",
                               "text": { "body": format!("bench {label} {i}") } }),
                );
            if asynchronous {
                request = request.header("prefer", "respond-async");
            }
            request
        }) as Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>
    };
    let rates: &[u32] = if args.webhooks_only { &[] } else { &args.rates };
    for &rate in rates {
        open_loop(rate, 2, send(true, "warm-up")).await;
        wait_for_queue(&db, tenant_id, Duration::from_secs(120)).await?;
        let (samples, scheduled) = open_loop(rate, args.seconds, send(true, "async")).await;
        let accepted = samples.iter().filter(|s| s.status == Some(202)).count();
        println!(
            "\n## Async sends (Prefer: respond-async), {rate} a second for {} s",
            args.seconds
        );
        println!(
            "accepted {accepted} of {} ({:.0} a second over the {:.1} s scheduled); others: {:?}",
            samples.len(),
            accepted as f64 / scheduled.as_secs_f64(),
            scheduled.as_secs_f64(),
            statuses(&samples, 202)
        );
        println!("{}", Figures::of(samples.iter().map(|s| s.took).collect()));
        wait_for_queue(&db, tenant_id, Duration::from_secs(120)).await?;
    }

    // 2. Sync sends, and the fake alone.
    if !args.webhooks_only {
        let (samples, _) = open_loop(args.sync_rate, args.sync_seconds, send(false, "sync")).await;
        let answered = samples.iter().filter(|s| s.status == Some(200)).count();
        println!(
            "\n## Sync sends, {} a second for {} s",
            args.sync_rate, args.sync_seconds
        );
        println!(
            "answered 200 {answered} of {}; others: {:?}",
            samples.len(),
            statuses(&samples, 200)
        );
        println!("{}", Figures::of(samples.iter().map(|s| s.took).collect()));
        let direct = {
            let (http, graph_url, pairs) = (http.clone(), graph_url.clone(), pairs.clone());
            let tokens: HashMap<String, String> = credentials.iter().cloned().collect();
            Arc::new(move |i: usize| {
                let (phone_number_id, wa_id) = &pairs[i % pairs.len()];
                let token = tokens.get(phone_number_id).map_or("", String::as_str);
                http.post(format!("{graph_url}/v23.0/{phone_number_id}/messages"))
                    .bearer_auth(token)
                    .json(
                        &json!({ "messaging_product": "whatsapp", "to": wa_id, "type": "text",
                                   "text": { "body": format!("bench direct {i}") } }),
                    )
            }) as Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>
        };
        let (samples, _) = open_loop(args.sync_rate, args.sync_seconds, direct).await;
        println!(
            "the fake Graph API alone: {}",
            Figures::of(samples.iter().map(|s| s.took).collect())
        );
    }

    // 3. Deliveries.
    let up = Receiver::default();
    let up_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let up_url = format!("http://{}/hooks", up_listener.local_addr()?);
    up.serve(up_listener);
    endpoint(&db, &cipher, tenant_id, &up_url).await?;
    // Held back while the events are queued and the table analyzed (as autovacuum keeps a table
    // in use analyzed): the deliverer then starts on all of them at once.
    sqlx::query("update webhook_endpoints set backoff_until = now() + interval '1 hour'")
        .execute(&db)
        .await?;
    let queueing = Instant::now();
    queue_events(&db, tenant_id, 0, args.deliveries).await?;
    let queued_in = queueing.elapsed();
    sqlx::raw_sql("analyze webhook_deliveries")
        .execute(&db)
        .await?;
    let started = Instant::now();
    sqlx::query("update webhook_endpoints set backoff_until = null")
        .execute(&db)
        .await?;
    wait_for(&up, args.deliveries as usize, Duration::from_secs(300)).await?;
    let arrivals = up.arrivals();
    let first = arrivals
        .iter()
        .map(|a| a.0)
        .min()
        .context("nothing arrived")?;
    let last = arrivals
        .iter()
        .map(|a| a.0)
        .max()
        .context("nothing arrived")?;
    println!(
        "\n## Outbound webhooks: {} events queued at once ({:.1} s to queue)",
        args.deliveries,
        queued_in.as_secs_f64()
    );
    println!(
        "{} delivered ({} arrivals) in {:.1} s from the first to the last: {:.0} a second; {:.1} s from release to the last",
        up.distinct(),
        arrivals.len(),
        (last - first).as_secs_f64(),
        arrivals.len() as f64 / (last - first).as_secs_f64().max(0.001),
        (last - started).as_secs_f64()
    );

    // 4. A receiver that is down.
    let parked = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let down_address = parked.local_addr()?;
    drop(parked);
    let down = Receiver::default();
    endpoint(
        &db,
        &cipher,
        tenant_id,
        &format!("http://{down_address}/hooks"),
    )
    .await?;
    let before = up.arrivals().len();
    let outage = Instant::now();
    let mut made = 0;
    while outage.elapsed() < Duration::from_secs(args.down_seconds) {
        queue_events(&db, tenant_id, made, args.down_rate / 10).await?;
        made += args.down_rate / 10;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lags: Vec<Duration> = up.arrivals()[before..].iter().map(|a| a.1).collect();
    println!(
        "\n## A receiver down for {} s, {} events a second meanwhile",
        args.down_seconds, args.down_rate
    );
    println!(
        "the other endpoint's events, from made to received: {}",
        Figures::of(lags)
    );
    down.serve(tokio::net::TcpListener::bind(down_address).await?);
    let back = Instant::now();
    wait_for(
        &down,
        made as usize,
        Duration::from_secs(args.down_seconds + 900),
    )
    .await?;
    println!(
        "back up: it got all {} events ({} distinct) within {:.0} s; lost: {}",
        made,
        down.distinct(),
        back.elapsed().as_secs_f64(),
        made as usize - down.distinct().min(made as usize)
    );

    let shutdown = server.terminate().await?;
    println!(
        "\nserver stopped in {:.1} s ({})",
        shutdown.took.as_secs_f64(),
        shutdown.status
    );
    if let Some(fake) = fake {
        fake.stop();
    }
    db.close().await;
    if !args.keep_database {
        postgres.drop_database(DATABASE).await?;
    }
    Ok(())
}

/// How many answers had each status other than `expected` (none: the request failed).
fn statuses(samples: &[load::Sample], expected: u16) -> Vec<(Option<u16>, usize)> {
    let mut counts: Vec<(Option<u16>, usize)> = Vec::new();
    for sample in samples.iter().filter(|s| s.status != Some(expected)) {
        match counts
            .iter_mut()
            .find(|(status, _)| *status == sample.status)
        {
            Some((_, count)) => *count += 1,
            None => counts.push((sample.status, 1)),
        }
    }
    counts
}

/// Registers a `switchboard` endpoint taking `conversation.status`.
async fn endpoint(
    db: &PgPool,
    cipher: &switchboard::crypto::Cipher,
    tenant_id: TenantId,
    url: &str,
) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let events = ["conversation.status".to_owned()];
    let new = NewEndpoint {
        url,
        format: Format::Switchboard,
        events: &events,
    };
    webhook_endpoints::create(&mut conn, cipher, tenant_id, None, &new)
        .await?
        .map_err(|refused| anyhow::anyhow!("{refused}"))?;
    Ok(())
}

/// Queues `count` `conversation.status` events, the `from`-th onwards, spread over the tenant's
/// conversations in turn, as the teamwork's changes would (`webhook_event()` in one statement).
async fn queue_events(
    db: &PgPool,
    tenant_id: TenantId,
    from: u32,
    count: u32,
) -> anyhow::Result<()> {
    sqlx::query(
        "with threads as (
             select array_agg(id order by id) as ids from conversations where tenant_id = $1
         )
         select webhook_event($1, t.ids[1 + ($3 + g) % cardinality(t.ids)], null,
                              'conversation.status')
         from threads t, generate_series(0, $2 - 1) g",
    )
    .bind(tenant_id)
    .bind(i64::from(count))
    .bind(i64::from(from))
    .execute(db)
    .await
    .context("queue events")?;
    Ok(())
}

/// Waits until `receiver` has `count` distinct events.
async fn wait_for(receiver: &Receiver, count: usize, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while receiver.distinct() < count {
        ensure!(
            Instant::now() < deadline,
            "only {} of {count} events arrived within {within:?}",
            receiver.distinct()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Waits until the tenant's queued messages have gone out, or `within` passes: then says how
/// many are left, since what is measured next is measured behind them.
async fn wait_for_queue(db: &PgPool, tenant_id: TenantId, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let queued: i64 = sqlx::query_scalar(
            "select count(*) from messages where tenant_id = $1 and status in ('queued', 'sending')",
        )
        .bind(tenant_id)
        .fetch_one(db)
        .await?;
        if queued == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            println!(
                "(the queue did not drain: {queued} messages still queued or sending after {within:?})"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
