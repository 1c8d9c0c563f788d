//! The figures, as a Markdown table with one column per scenario, and the goals met or missed.

use std::collections::BTreeMap;
use switchboard::outbox::PACING_HEADROOM;

use crate::{
    load::LoadRun,
    measure::{Latency, Peaks, Summary, Throughput},
};

/// The goals.
const GOAL_THROUGHPUT: f64 = 1000.0;
const GOAL_P99_MS: f64 = 50.0;

/// Renders one table cell of a scenario.
type Cell = fn(&Scenario, &Report) -> String;

/// How a scenario loaded the pipeline.
pub enum Offered {
    /// `rate` messages/s open-loop for `seconds`.
    Rate { rate: u32, seconds: u32 },
    /// A backlog queued before the worker started.
    Backlog { count: usize },
}

/// One scenario's figures.
pub struct Scenario {
    pub name: &'static str,
    pub offered: Offered,
    pub load: LoadRun,
    /// Message rows by final status.
    pub statuses: BTreeMap<String, usize>,
    pub throughput: Throughput,
    pub latency: Latency,
    pub peaks: Peaks,
}

/// The whole run.
pub struct Report {
    pub numbers: u32,
    pub limit: u32,
    pub customers: u32,
    /// `/proc/loadavg` before and after.
    pub load_before: String,
    pub load_after: String,
    pub scenarios: Vec<Scenario>,
}

impl Report {
    pub fn print(&self) {
        println!();
        println!(
            "{} numbers × {} open conversations, limit {}/s per number (slots at {:.0} %: {:.0}/s in all)",
            self.numbers,
            self.customers,
            self.limit,
            PACING_HEADROOM * 100.0,
            f64::from(self.numbers * self.limit) * PACING_HEADROOM
        );
        println!(
            "load average before: {}; after: {}",
            self.load_before, self.load_after
        );
        println!();
        self.print_table();
        println!();
        for line in self.verdicts() {
            println!("{line}");
        }
    }

    fn print_table(&self) {
        let header: Vec<&str> = self.scenarios.iter().map(|s| s.name).collect();
        println!("| | {} |", header.join(" | "));
        println!("|---|{}", "---|".repeat(header.len()));
        let rows: [(&str, Cell); 14] = [
            ("offered", |s, r| offered(s, r.numbers)),
            ("enqueued (send service)", |s, _| enqueued(&s.load)),
            ("`send()` p50 / p99 / max", |s, _| send_durations(&s.load)),
            ("rows by status", |s, _| statuses(&s.statuses)),
            ("sent/s, steady middle: mean (min–max)", |s, _| {
                steady(&s.throughput)
            }),
            ("sent/s, overall", |s, _| {
                format!("{:.0}", s.throughput.overall)
            }),
            ("enqueue → Graph call p50 / p99 / max", |s, _| {
                ms(&s.latency.to_call)
            }),
            ("of which enqueue → claimed p50 / p99 / max", |s, _| {
                ms(&s.latency.to_claim)
            }),
            ("of which claimed → Graph call p50 / p99 / max", |s, _| {
                ms(&s.latency.claim_to_call)
            }),
            ("bound: enqueue → `sent_at` p50 / p99 / max", |s, _| {
                ms(&s.latency.to_sent)
            }),
            ("max calls per number, calendar second", |s, _| {
                s.peaks.calendar.to_string()
            }),
            ("max calls per number, sliding 1 s", |s, _| {
                sliding(&s.peaks)
            }),
            ("Graph calls (errors)", |s, _| {
                format!("{} ({})", s.peaks.calls, s.peaks.errors)
            }),
            ("sent without a seen call / sent twice", |s, _| {
                format!("{} / {}", s.latency.unmatched, s.latency.repeated)
            }),
        ];
        for (label, cell) in rows {
            let cells: Vec<String> = self.scenarios.iter().map(|s| cell(s, self)).collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
    }

    /// Each goal, met or missed, with the figure that decides it.
    pub fn verdicts(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let limit = self.limit as usize;
        for s in &self.scenarios {
            let met = s.peaks.sliding <= limit;
            lines.push(format!(
                "{}: per-number limit {limit}/s {} (busiest sliding second {}, calendar {})",
                s.name,
                verdict(met),
                s.peaks.sliding,
                s.peaks.calendar
            ));
            let unsent: usize = s
                .statuses
                .iter()
                .filter(|(k, _)| *k != "sent")
                .map(|(_, n)| n)
                .sum();
            if unsent > 0 {
                lines.push(format!(
                    "{}: {unsent} messages did not reach `sent`",
                    s.name
                ));
            }
            match s.offered {
                Offered::Rate { rate, .. } => {
                    let p99 = s.latency.to_call.p99;
                    lines.push(format!(
                        "{}: enqueue→Graph p99 ≤ {GOAL_P99_MS} ms {} ({p99:.1} ms)",
                        s.name,
                        verdict(p99 <= GOAL_P99_MS)
                    ));
                    let kept_up = s.throughput.steady_mean() >= f64::from(rate) * 0.98;
                    lines.push(format!(
                        "{}: delivery kept up with {rate}/s offered {} (steady mean {:.0}/s)",
                        s.name,
                        verdict(kept_up),
                        s.throughput.steady_mean()
                    ));
                }
                Offered::Backlog { .. } => {
                    let min = s.throughput.steady_min() as f64;
                    lines.push(format!(
                        "{}: ≥ {GOAL_THROUGHPUT:.0} sent/s in every steady second {} (min {min:.0}, mean {:.0})",
                        s.name,
                        verdict(min >= GOAL_THROUGHPUT),
                        s.throughput.steady_mean()
                    ));
                }
            }
        }
        lines
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

fn offered(s: &Scenario, numbers: u32) -> String {
    match s.offered {
        Offered::Rate { rate, seconds } => format!(
            "{rate}/s open-loop for {seconds} s ({:.0}/s per number)",
            f64::from(rate) / f64::from(numbers)
        ),
        Offered::Backlog { count } => format!(
            "{count} queued up front ({} per number), then the worker started",
            count / numbers as usize
        ),
    }
}

fn enqueued(load: &LoadRun) -> String {
    let secs = load.elapsed().as_secs_f64();
    format!(
        "{} in {secs:.1} s = {:.0}/s (max lag {:.0} ms)",
        load.queued(),
        load.queued() as f64 / secs.max(f64::EPSILON),
        load.max_lag().as_secs_f64() * 1000.0
    )
}

fn send_durations(load: &LoadRun) -> String {
    let millis = load
        .durations()
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let mut cell = ms(&Summary::of(millis));
    for (error, count) in load.errors() {
        cell.push_str(&format!("; {count}× {error}"));
    }
    cell
}

fn statuses(statuses: &BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = statuses.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

fn steady(t: &Throughput) -> String {
    if t.steady.is_empty() {
        return "n/a (run too short)".into();
    }
    format!(
        "{:.0} ({}–{}) over {} s",
        t.steady_mean(),
        t.steady_min(),
        t.steady_max(),
        t.steady.len()
    )
}

fn sliding(p: &Peaks) -> String {
    format!("{} (number {})", p.sliding, p.busiest)
}

fn ms(s: &Summary) -> String {
    format!("{:.1} / {:.1} / {:.1} ms", s.p50, s.p99, s.max)
}
