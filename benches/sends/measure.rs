//! What a scenario came to, read back after the queue drained: the message rows (DB clock), the
//! arrivals noted in front of the fake (wall clock, the same host clock), and the fake's call log.
//!
//! - Enqueue-to-Graph latency is `arrival - created_at`, per message: `created_at` is `now()` of
//!   the send service's transaction, i.e. when the enqueue began. Two DB-clock bounds are kept as a
//!   cross-check: `sending_started_at` (the claim, before pacing; a lower bound) and `sent_at` (the
//!   outcome recorded after Meta answered; an upper bound).
//! - Throughput counts rows reaching `sent` per calendar second of `sent_at`.
//! - Peaks count the fake's calls per number, per calendar second and in every sliding one-second
//!   window (the window starting at each call).

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use switchboard::{domain::ids::TenantId, sandbox::Call};

/// How often the drain watcher looks at the queue.
const POLL: Duration = Duration::from_millis(250);

/// An outbound message row of one scenario.
#[derive(sqlx::FromRow)]
pub struct Row {
    pub idempotency_key: String,
    /// The sending number's row id.
    pub phone_number_id: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sending_started_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The rows whose idempotency key starts with `prefix`.
pub async fn rows(db: &PgPool, tenant_id: TenantId, prefix: &str) -> anyhow::Result<Vec<Row>> {
    sqlx::query_as(
        "select idempotency_key, phone_number_id, status, created_at, sending_started_at, sent_at
         from messages
         where tenant_id = $1 and direction = 'outbound' and starts_with(idempotency_key, $2)",
    )
    .bind(tenant_id)
    .bind(prefix)
    .fetch_all(db)
    .await
    .context("read the scenario's messages")
}

/// Waits until nothing is `queued` or `sending`; fails after `timeout`.
pub async fn wait_drained(db: &PgPool, timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from messages where status in ('queued', 'sending')",
        )
        .fetch_one(db)
        .await
        .context("count messages still to send")?;
        if left == 0 {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{left} messages were still queued or sending after {timeout:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Nearest-rank percentiles of a sample, in milliseconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(mut values: Vec<f64>) -> Self {
        values.sort_unstable_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = ((p * values.len() as f64).ceil() as usize).max(1) - 1;
            values.get(index).copied().unwrap_or(f64::NAN)
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// One sent message's way through the pipeline.
pub struct Timing<'a> {
    pub row: &'a Row,
    /// `sending_started_at`: claimed by the worker, before pacing.
    pub claimed: DateTime<Utc>,
    /// First arrival at the fake.
    pub called: DateTime<Utc>,
    /// `sent_at`: Meta's answer being recorded.
    pub sent: DateTime<Utc>,
}

/// The sent rows with their arrival at the fake; rows without a seen arrival are left out.
pub fn timings<'a>(
    rows: &'a [Row],
    arrivals: &HashMap<String, Vec<DateTime<Utc>>>,
) -> Vec<Timing<'a>> {
    rows.iter()
        .filter(|row| row.status == "sent")
        .filter_map(|row| {
            Some(Timing {
                row,
                claimed: row.sending_started_at?,
                called: *arrivals.get(&row.idempotency_key)?.iter().min()?,
                sent: row.sent_at?,
            })
        })
        .collect()
}

/// Enqueue-to-Graph-call latency of the messages that reached `sent`, and its parts.
pub struct Latency {
    /// `created_at` → arrival at the fake.
    pub to_call: Summary,
    /// `created_at` → `sending_started_at`: notified and claimed (a lower bound on `to_call`).
    pub to_claim: Summary,
    /// `sending_started_at` → arrival: slot reserved, paced, request sent.
    pub claim_to_call: Summary,
    /// `created_at` → `sent_at`: Meta's answer recorded (an upper bound on `to_call`).
    pub to_sent: Summary,
    /// Sent messages whose arrival was not seen (should be 0).
    pub unmatched: usize,
    /// Messages that reached the fake more than once (retries; should be 0).
    pub repeated: usize,
}

pub fn latency(rows: &[Row], arrivals: &HashMap<String, Vec<DateTime<Utc>>>) -> Latency {
    let timings = timings(rows, arrivals);
    let summary = |span: fn(&Timing) -> TimeDelta| {
        Summary::of(timings.iter().map(|t| millis(span(t))).collect())
    };
    let sent = rows.iter().filter(|r| r.status == "sent").count();
    Latency {
        to_call: summary(|t| t.called - t.row.created_at),
        to_claim: summary(|t| t.claimed - t.row.created_at),
        claim_to_call: summary(|t| t.called - t.claimed),
        to_sent: summary(|t| t.sent - t.row.created_at),
        unmatched: sent - timings.len(),
        repeated: rows
            .iter()
            .filter(|r| {
                arrivals
                    .get(&r.idempotency_key)
                    .is_some_and(|a| a.len() > 1)
            })
            .count(),
    }
}

/// Writes one CSV line per sent message: key, number, and the four instants as Unix seconds.
pub fn write_timings(
    out: &mut impl std::io::Write,
    scenario: &str,
    rows: &[Row],
    arrivals: &HashMap<String, Vec<DateTime<Utc>>>,
) -> std::io::Result<()> {
    let seconds = |at: DateTime<Utc>| at.timestamp_micros() as f64 / 1e6;
    for t in timings(rows, arrivals) {
        writeln!(
            out,
            "{scenario},{},{},{:.6},{:.6},{:.6},{:.6}",
            t.row.idempotency_key,
            t.row.phone_number_id,
            seconds(t.row.created_at),
            seconds(t.claimed),
            seconds(t.called),
            seconds(t.sent)
        )?;
    }
    Ok(())
}

/// Messages reaching `sent` per second.
pub struct Throughput {
    /// Over the whole run: sent / (last `sent_at` − `from`).
    pub overall: f64,
    /// Each calendar second of the steady middle (the first and last `trim` seconds left out).
    pub steady: Vec<usize>,
}

impl Throughput {
    pub fn steady_mean(&self) -> f64 {
        self.steady.iter().sum::<usize>() as f64 / self.steady.len().max(1) as f64
    }

    pub fn steady_min(&self) -> usize {
        self.steady.iter().copied().min().unwrap_or(0)
    }

    pub fn steady_max(&self) -> usize {
        self.steady.iter().copied().max().unwrap_or(0)
    }
}

pub fn throughput(rows: &[Row], from: DateTime<Utc>, trim: usize) -> Throughput {
    let sent_at: Vec<DateTime<Utc>> = rows
        .iter()
        .filter(|r| r.status == "sent")
        .filter_map(|r| r.sent_at)
        .collect();
    let per_second = per_calendar_second(&sent_at);
    let seconds: Vec<usize> = match (per_second.keys().next(), per_second.keys().last()) {
        (Some(&first), Some(&last)) => (first..=last)
            .map(|s| per_second.get(&s).copied().unwrap_or(0))
            .collect(),
        _ => Vec::new(),
    };
    let steady = match seconds.len().checked_sub(2 * trim) {
        Some(len) if len > 0 => seconds[trim..trim + len].to_vec(),
        _ => Vec::new(),
    };
    let span = sent_at
        .iter()
        .max()
        .map_or(0.0, |last| millis(*last - from) / 1000.0);
    Throughput {
        overall: sent_at.len() as f64 / span.max(f64::EPSILON),
        steady,
    }
}

/// Graph calls per number, as the fake logged them.
pub struct Peaks {
    /// Message sends the fake received in the scenario's time span.
    pub calls: usize,
    /// Of those, answered with an error.
    pub errors: usize,
    /// The most calls any one number got in one calendar second.
    pub calendar: usize,
    /// The most calls any one number got in any one-second window.
    pub sliding: usize,
    /// The number with the `sliding` peak.
    pub busiest: String,
}

pub fn peaks(calls: &[Call], from: DateTime<Utc>, to: DateTime<Utc>) -> Peaks {
    let sends: Vec<&Call> = calls
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/messages"))
        .filter(|c| c.at >= from && c.at <= to)
        .collect();
    let mut by_number: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for call in &sends {
        let number = call.phone_number_id.as_deref().unwrap_or("?");
        by_number.entry(number).or_default().push(call.at);
    }
    let mut peaks = Peaks {
        calls: sends.len(),
        errors: sends.iter().filter(|c| c.status != 200).count(),
        calendar: 0,
        sliding: 0,
        busiest: String::new(),
    };
    for (number, mut times) in by_number {
        times.sort_unstable();
        let calendar = per_calendar_second(&times).into_values().max().unwrap_or(0);
        peaks.calendar = peaks.calendar.max(calendar);
        let sliding = max_in_window(&times, TimeDelta::seconds(1));
        if sliding > peaks.sliding {
            peaks.sliding = sliding;
            peaks.busiest = number.to_owned();
        }
    }
    peaks
}

/// The most of the sorted `times` that fall in any half-open window `[t, t + width)`.
fn max_in_window(times: &[DateTime<Utc>], width: TimeDelta) -> usize {
    let mut end = 0;
    let mut best = 0;
    for (start, at) in times.iter().enumerate() {
        while end < times.len() && times[end] - *at < width {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

fn per_calendar_second(times: &[DateTime<Utc>]) -> BTreeMap<i64, usize> {
    let mut seconds = BTreeMap::new();
    for at in times {
        *seconds.entry(at.timestamp()).or_insert(0) += 1;
    }
    seconds
}

fn millis(delta: TimeDelta) -> f64 {
    delta.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}
