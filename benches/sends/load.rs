//! The load generator: text messages queued through the real send service (`SendService` on the
//! system clock, a unique idempotency key each), as an agent's request would queue them.
//!
//! Open-loop, message `i` is due at `start + i / rate` and is handed to its own task at that time,
//! whether or not earlier ones are done; lag (how late a send started) shows whether the generator
//! itself kept up. A backlog is queued as fast as `concurrency` callers can.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use switchboard::{
    domain::messages::SentBy,
    outbox::send::{SendRequest, SendService, SendTo},
    whatsapp::outbound::Outbound,
};
use tokio::{sync::Semaphore, task::JoinSet, time::Instant};

use crate::{fake::TEXT_PREFIX, fixture::Fixture};

/// Open-loop sends allowed to be waiting on the database at once; past this the generator waits,
/// and the lag it reports grows.
const MAX_PENDING: usize = 1024;
/// Lead time before the first scheduled send.
const SCHEDULE_LEAD: Duration = Duration::from_millis(20);

/// One `send` call.
pub struct Sample {
    /// When it was due (open-loop) or taken (backlog).
    pub due: Instant,
    pub started: Instant,
    pub finished: Instant,
    /// Why it was not queued as a new message, if it was not.
    pub error: Option<String>,
}

/// What a load came to.
pub struct LoadRun {
    pub started: Instant,
    pub samples: Vec<Sample>,
}

impl LoadRun {
    /// Messages queued (new, without error).
    pub fn queued(&self) -> usize {
        self.samples.iter().filter(|s| s.error.is_none()).count()
    }

    /// From the first due time to the last answer.
    pub fn elapsed(&self) -> Duration {
        let last = self.samples.iter().map(|s| s.finished).max();
        last.map_or(Duration::ZERO, |last| last - self.started)
    }

    /// The latest any send started after it was due.
    pub fn max_lag(&self) -> Duration {
        let lags = self.samples.iter().map(|s| s.started - s.due);
        lags.max().unwrap_or_default()
    }

    /// How long `send` calls took, from their due time, sorted.
    pub fn durations(&self) -> Vec<Duration> {
        let mut durations: Vec<_> = self.samples.iter().map(|s| s.finished - s.due).collect();
        durations.sort_unstable();
        durations
    }

    /// The distinct reasons sends failed, with how often.
    pub fn errors(&self) -> Vec<(String, usize)> {
        let mut errors = std::collections::BTreeMap::new();
        for error in self.samples.iter().filter_map(|s| s.error.clone()) {
            *errors.entry(error).or_insert(0) += 1;
        }
        errors.into_iter().collect()
    }
}

/// Who sends, and how their messages are named.
#[derive(Clone)]
pub struct Sender {
    pub service: SendService,
    pub fixture: Arc<Fixture>,
    /// Starts every idempotency key of this load (`under-`, `saturation-`).
    pub prefix: &'static str,
}

impl Sender {
    /// Queues message `index`: a text whose body names its idempotency key.
    async fn send(&self, index: usize) -> Option<String> {
        let key = format!("{}{index}", self.prefix);
        let request = SendRequest {
            to: SendTo::Conversation(self.fixture.conversation_for(index)),
            content: Outbound::Text {
                body: format!("{TEXT_PREFIX}{key}"),
                preview_url: false,
            },
            reply_to: None,
            idempotency_key: key,
            sent_by: SentBy::Operator,
        };
        match self.service.send(self.fixture.tenant_id, request).await {
            Ok(queued) if queued.duplicate => Some("idempotency key already used".into()),
            Ok(_) => None,
            Err(error) => Some(format!("{error:#}")),
        }
    }
}

/// Sends `count` messages at `rate` per second on a fixed schedule.
pub async fn open_loop(sender: &Sender, count: usize, rate: u32) -> anyhow::Result<LoadRun> {
    let started = Instant::now() + SCHEDULE_LEAD;
    let pending = Arc::new(Semaphore::new(MAX_PENDING));
    let mut sends = JoinSet::new();
    for index in 0..count {
        let due = started + Duration::from_secs_f64(index as f64 / f64::from(rate));
        tokio::time::sleep_until(due).await;
        let permit = pending
            .clone()
            .acquire_owned()
            .await
            .context("the send semaphore closed")?;
        let sender = sender.clone();
        sends.spawn(async move {
            let started = Instant::now();
            let error = sender.send(index).await;
            drop(permit);
            Sample {
                due,
                started,
                finished: Instant::now(),
                error,
            }
        });
    }
    let samples = sends.join_all().await;
    Ok(LoadRun { started, samples })
}

/// Sends `count` messages as fast as `concurrency` callers can, each taking the next in turn.
pub async fn backlog(sender: &Sender, count: usize, concurrency: usize) -> LoadRun {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut callers = JoinSet::new();
    for _ in 0..concurrency {
        let (sender, next) = (sender.clone(), next.clone());
        callers.spawn(async move {
            let mut samples = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    return samples;
                }
                let due = Instant::now();
                let error = sender.send(index).await;
                let finished = Instant::now();
                samples.push(Sample {
                    due,
                    started: due,
                    finished,
                    error,
                });
            }
        });
    }
    let samples = callers.join_all().await.into_iter().flatten().collect();
    LoadRun { started, samples }
}
