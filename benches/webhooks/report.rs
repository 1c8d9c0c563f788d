//! The printed report: the figures of both phases, the checks, and each goal of the issue, met or not.

use std::time::Duration;

use crate::{
    ceiling::CeilingRun,
    load::LoadRun,
    measure::{Check, StoredDelays},
    server::Shutdown,
};

/// Goal: accepted webhooks/s at least this multiple of the ceiling.
const GOAL_RATIO: f64 = 1.0;
/// Goal: applied webhooks/s (a burst, end to end) at least this multiple of the ceiling.
const GOAL_APPLIED_RATIO: f64 = 1.5;
/// Goal: p99 accept latency at 1,000 webhooks/s.
const GOAL_ACCEPT_P99: Duration = Duration::from_millis(20);
/// The rate the accept latency goal is stated at.
const GOAL_RATE: u32 = 1_000;
/// Goal: p99 of the time from storing an event to applying it.
const GOAL_APPLY_P99: Duration = Duration::from_secs(1);
/// Goal: the server's peak RSS, in bytes.
const GOAL_RSS_BYTES: u64 = 150_000_000;

/// The server phase.
pub struct IngestRun {
    pub load: LoadRun,
    /// From the first request until no event was pending.
    pub all_applied: Duration,
    /// Per accepted event, from its 200 until it was seen applied; sorted.
    pub observed_delays: Vec<Duration>,
    pub stored_delays: StoredDelays,
    pub peak_rss_kb: u64,
    pub check: Check,
    /// Filled in once the server has been stopped.
    pub shutdown: Option<Shutdown>,
}

/// Everything one run measured.
pub struct Report {
    pub events: usize,
    pub concurrency: usize,
    pub rate: Option<u32>,
    pub ingest: IngestRun,
    pub ceiling: Option<CeilingRun>,
}

impl Report {
    /// Whether the data came out right in every phase, and the server stopped cleanly.
    pub fn is_correct(&self) -> bool {
        self.ingest.check.is_correct()
            && self.ceiling.as_ref().is_none_or(|c| c.check.is_correct())
            && self
                .ingest
                .shutdown
                .as_ref()
                .is_some_and(|s| s.status.success())
    }

    pub fn print(&self) {
        let mode = match self.rate {
            Some(rate) => format!("open-loop at {rate}/s"),
            None => "closed-loop, as fast as answered".to_owned(),
        };
        println!();
        println!(
            "== {} webhooks, {} connections, {mode} ==",
            self.events, self.concurrency
        );
        self.print_ingest();
        if let Some(ceiling) = &self.ceiling {
            print_ceiling(ceiling);
        }
        self.print_goals();
    }

    fn print_ingest(&self) {
        let run = &self.ingest;
        let load = &run.load;
        let accepted = &load.accepted;
        println!("\nServer (HTTP → append → appliers)");
        row(
            "accepted",
            format!(
                "{} of {} ({} non-200, {} without answer)",
                accepted.len(),
                self.events,
                load.rejected.len(),
                load.transport_errors
            ),
        );
        if !load.rejected.is_empty() {
            row("non-200 statuses", statuses(&load.rejected));
        }
        row(
            "accepted/s",
            format!(
                "{:.0} ({:.2} s from the first request to the last answer)",
                self.accepted_per_second(),
                load.elapsed.as_secs_f64()
            ),
        );
        row("accept latency", percentiles(accepted));
        row(
            "all applied",
            format!(
                "{:.2} s after the first request ({:.2} s after the last answer)",
                run.all_applied.as_secs_f64(),
                run.all_applied.saturating_sub(load.elapsed).as_secs_f64()
            ),
        );
        row(
            "applied/s",
            format!(
                "{:.0} (accepted events ÷ time until all applied)",
                self.applied_per_second()
            ),
        );
        row(
            "apply delay",
            format!(
                "{}  (200 answer → seen applied)",
                percentiles(&run.observed_delays)
            ),
        );
        let stored = &run.stored_delays;
        row(
            "",
            format!(
                "p50 {}  p99 {}  max {}  (applied_at − received_at)",
                ms(stored.p50),
                ms(stored.p99),
                ms(stored.max)
            ),
        );
        row(
            "server peak RSS",
            format!(
                "{:.1} MB (VmHWM {} kB)",
                self.peak_rss_bytes() as f64 / 1e6,
                run.peak_rss_kb
            ),
        );
        if let Some(shutdown) = &run.shutdown {
            row(
                "SIGTERM",
                format!(
                    "exited with {} after {}",
                    shutdown.status,
                    ms(shutdown.took)
                ),
            );
        }
        row("data", check(&run.check));
    }

    fn print_goals(&self) {
        println!("\nGoals");
        if let Some(ceiling) = &self.ceiling {
            self.print_ratios(ceiling.events_per_second());
        }
        let p99 = percentile(&self.ingest.load.accepted, 0.99);
        let p99_label = match self.rate {
            Some(GOAL_RATE) => "p99 accept latency ≤ 20 ms at 1,000/s".to_owned(),
            _ => "p99 accept latency ≤ 20 ms (goal is at 1,000/s: run --rate 1000)".to_owned(),
        };
        goal(&p99_label, ms(p99), p99 <= GOAL_ACCEPT_P99);
        let apply_p99 = percentile(&self.ingest.observed_delays, 0.99);
        goal(
            "apply delay p99 ≤ 1 s",
            ms(apply_p99),
            apply_p99 <= GOAL_APPLY_P99,
        );
        let rss = self.peak_rss_bytes();
        goal(
            "server peak RSS ≤ 150 MB",
            format!("{:.1} MB", rss as f64 / 1e6),
            rss <= GOAL_RSS_BYTES,
        );
    }

    fn accepted_per_second(&self) -> f64 {
        let load = &self.ingest.load;
        load.accepted.len() as f64 / load.elapsed.as_secs_f64()
    }

    /// The throughput goals: accepting, and applying end to end (the honest comparison with a
    /// synchronous design, which has applied an event when it answers).
    fn print_ratios(&self, ceiling: f64) {
        let label = "accepted/s ÷ ceiling/s ≥ 1.0";
        let ratio = self.accepted_per_second() / ceiling;
        if self.rate.is_some() {
            // Open-loop, accepted/s is the offered rate, not what the server can take.
            println!("  {label:<66} {ratio:>10.2}  n/a (run without --rate)");
            return;
        }
        goal(label, format!("{ratio:.2}"), ratio >= GOAL_RATIO);
        let applied_ratio = self.applied_per_second() / ceiling;
        goal(
            "applied/s ÷ ceiling/s ≥ 1.5 (a burst, end to end)",
            format!("{applied_ratio:.2}"),
            applied_ratio >= GOAL_APPLIED_RATIO,
        );
    }

    /// Throughput including the appliers: what a synchronous design is compared with end to end.
    fn applied_per_second(&self) -> f64 {
        self.ingest.load.accepted.len() as f64 / self.ingest.all_applied.as_secs_f64()
    }

    fn peak_rss_bytes(&self) -> u64 {
        self.ingest.peak_rss_kb * 1024
    }
}

fn print_ceiling(ceiling: &CeilingRun) {
    println!("\nCeiling (naive SQL straight to PostgreSQL, one transaction per event)");
    row(
        "events/s",
        format!(
            "{:.0} ({} events in {:.2} s)",
            ceiling.events_per_second(),
            ceiling.check.expected,
            ceiling.elapsed.as_secs_f64()
        ),
    );
    row("data", check(&ceiling.check));
}

fn row(label: &str, value: String) {
    println!("  {label:<18} {value}");
}

pub fn goal(label: &str, value: String, met: bool) {
    let verdict = if met { "met" } else { "MISSED" };
    println!("  {label:<66} {value:>10}  {verdict}");
}

fn check(check: &Check) -> String {
    let verdict = if check.is_correct() { "ok" } else { "WRONG" };
    format!(
        "{verdict}: {} events stored, {} applied, {} failed, {} unroutable; {} messages (want {})",
        check.events, check.applied, check.failed, check.unroutable, check.messages, check.expected
    )
}

fn statuses(rejected: &[reqwest::StatusCode]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for status in rejected {
        *counts.entry(status.as_u16()).or_insert(0_usize) += 1;
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(status, n)| format!("{n}× {status}"))
        .collect();
    counts.join(", ")
}

pub fn percentiles(sorted: &[Duration]) -> String {
    format!(
        "p50 {}  p99 {}  max {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    )
}

/// The nearest-rank percentile `q` (0–1) of sorted samples; zero when there are none.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}
