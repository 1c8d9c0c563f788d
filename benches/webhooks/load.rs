//! The HTTP load: `concurrency` workers POST the signed webhooks, each taking the next event in turn.
//! Closed-loop (no rate), a worker sends as soon as its previous answer arrives, and latency is
//! measured from the send. Open-loop (a rate), event `i` is due at `start + i / rate` and latency is
//! measured from that due time, so a stall that delays later sends counts against them too
//! (no coordinated omission), as long as there are enough workers to keep up with the schedule.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anyhow::Context;
use tokio::time::Instant;

use crate::payload::Event;
use switchboard::whatsapp::signature;

/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Lead time before the first scheduled send, so every worker is waiting when it is due.
const SCHEDULE_LEAD: Duration = Duration::from_millis(50);

/// Where and how to send.
pub struct LoadPlan {
    pub url: String,
    pub concurrency: usize,
    /// Events per second, open-loop; `None` sends as fast as answers come.
    pub rate: Option<u32>,
}

/// What the load came to.
pub struct LoadRun {
    /// When the first request was sent (or due).
    pub started: Instant,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Latency of every request answered 200, sorted.
    pub accepted: Vec<Duration>,
    /// When each event (by index) was answered 200; `None` if it was not.
    pub accepted_at: Vec<Option<Instant>>,
    /// Answers other than 200, by status.
    pub rejected: Vec<reqwest::StatusCode>,
    /// Requests that got no answer (connection error or timeout).
    pub transport_errors: usize,
}

enum Outcome {
    Answered(reqwest::StatusCode),
    NoAnswer,
}

struct Sample {
    index: usize,
    /// From the send (closed-loop) or the due time (open-loop) to the answer.
    latency: Duration,
    answered_at: Instant,
    outcome: Outcome,
}

/// Shared by the workers: the events, the next one to send, and the schedule.
struct Shared<'a> {
    plan: &'a LoadPlan,
    client: reqwest::Client,
    events: &'a [Event],
    next: AtomicUsize,
    started: Instant,
}

/// Sends every event once and collects the answers.
pub async fn run(plan: &LoadPlan, events: &[Event]) -> anyhow::Result<LoadRun> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(plan.concurrency)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("build an HTTP client")?;
    let started = Instant::now()
        + if plan.rate.is_some() {
            SCHEDULE_LEAD
        } else {
            Duration::ZERO
        };
    let shared = Shared {
        plan,
        client,
        events,
        next: AtomicUsize::new(0),
        started,
    };
    // The workers run as futures of this task; their requests' I/O runs on the runtime's threads.
    let workers = (0..plan.concurrency).map(|_| worker(&shared));
    let samples: Vec<Sample> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    Ok(summarize(started, events.len(), samples))
}

async fn worker(shared: &Shared<'_>) -> Vec<Sample> {
    let mut samples = Vec::new();
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(event) = shared.events.get(index) else {
            return samples;
        };
        let due = match shared.plan.rate {
            Some(rate) => {
                let due = shared.started + Duration::from_secs_f64(index as f64 / f64::from(rate));
                tokio::time::sleep_until(due).await;
                due
            }
            None => Instant::now(),
        };
        let outcome = post(shared, event).await;
        let answered_at = Instant::now();
        samples.push(Sample {
            index,
            latency: answered_at - due,
            answered_at,
            outcome,
        });
    }
}

async fn post(shared: &Shared<'_>, event: &Event) -> Outcome {
    let response = shared
        .client
        .post(&shared.plan.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signature::HEADER, &event.signature)
        .body(event.body.clone())
        .send()
        .await;
    match response {
        // Read the (empty) body so the connection goes back to the pool.
        Ok(response) => {
            let status = response.status();
            match response.bytes().await {
                Ok(_) => Outcome::Answered(status),
                Err(_) => Outcome::NoAnswer,
            }
        }
        Err(_) => Outcome::NoAnswer,
    }
}

fn summarize(started: Instant, events: usize, samples: Vec<Sample>) -> LoadRun {
    let elapsed = started.elapsed();
    let mut run = LoadRun {
        started,
        elapsed,
        accepted: Vec::with_capacity(samples.len()),
        accepted_at: vec![None; events],
        rejected: Vec::new(),
        transport_errors: 0,
    };
    for sample in samples {
        match sample.outcome {
            Outcome::Answered(reqwest::StatusCode::OK) => {
                run.accepted.push(sample.latency);
                run.accepted_at[sample.index] = Some(sample.answered_at);
            }
            Outcome::Answered(status) => run.rejected.push(status),
            Outcome::NoAnswer => run.transport_errors += 1,
        }
    }
    run.accepted.sort_unstable();
    run
}
