//! Open-loop HTTP load: requests started on a fixed schedule (`rate` a second, whatever the
//! answers' pace), each timed from its start to its whole answer; and the figures of a run.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::RequestBuilder;
use tokio::task::JoinSet;

/// One timed request.
pub struct Sample {
    pub took: Duration,
    /// The HTTP status, or none when the request failed.
    pub status: Option<u16>,
}

/// Starts `make(i)` for i = 0, 1, … at `rate` a second for `seconds`, and waits for every answer.
pub async fn open_loop(
    rate: u32,
    seconds: u32,
    make: Arc<dyn Fn(usize) -> RequestBuilder + Send + Sync>,
) -> (Vec<Sample>, Duration) {
    let total = usize::try_from(u64::from(rate) * u64::from(seconds)).unwrap_or(usize::MAX);
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0;
    while sent < total {
        ticker.tick().await;
        let due = (started.elapsed().as_secs_f64() * f64::from(rate)) as usize;
        while sent < due.min(total) {
            let request = make(sent);
            tasks.spawn(async move {
                let begun = Instant::now();
                let status = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // The whole answer, as a client reads it.
                        let _ = response.bytes().await;
                        Some(status)
                    }
                    Err(_) => None,
                };
                Sample {
                    took: begun.elapsed(),
                    status,
                }
            });
            sent += 1;
        }
    }
    let scheduled = started.elapsed();
    let mut samples = Vec::with_capacity(total);
    while let Some(sample) = tasks.join_next().await {
        if let Ok(sample) = sample {
            samples.push(sample);
        }
    }
    (samples, scheduled)
}

/// Percentiles of durations, in milliseconds.
pub struct Figures {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Figures {
    pub fn of(mut durations: Vec<Duration>) -> Self {
        durations.sort();
        let at = |q: f64| {
            if durations.is_empty() {
                return 0.0;
            }
            let index =
                ((durations.len() as f64 * q).ceil() as usize).clamp(1, durations.len()) - 1;
            durations[index].as_secs_f64() * 1000.0
        };
        Self {
            count: durations.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.count, self.p50, self.p90, self.p99, self.max
        )
    }
}
