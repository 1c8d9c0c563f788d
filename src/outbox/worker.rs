//! The delivery pipeline: claims queued messages with their send slots ([`claim`]), calls the
//! Graph API when each slot comes, and hands the answers to the [`record`]er:
//! queued → sending → sent (wamid) → delivered → read (from webhooks), or failed with Meta's error.
//! Transient failures are retried with exponential backoff and jitter, up to a limit. A message left
//! in `sending` (a crash between calling Meta and storing the answer) becomes `unknown`: Meta has
//! no idempotency key, so it is never resent automatically.
//!
//! [`claim`]: super::claim
//! [`record`]: super::record

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use sqlx::{PgPool, postgres::PgListener};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{
    CHANNEL,
    claim::{self, Job},
    record::{Answered, Recorder},
};
use crate::{
    crypto::Cipher,
    domain::numbers::{self, NumberCredentials},
    ttl_cache::TtlCache,
    whatsapp::graph::{Auth, GraphClient, GraphFailure, SentMessage},
};

/// How the pipeline behaves; tests shorten the delays.
#[derive(Clone, Debug)]
pub struct OutboxConfig {
    /// Graph API base URL for real numbers.
    pub meta_graph_url: String,
    /// Graph API base URL for sandbox numbers (Switchboard's own fake).
    pub sandbox_graph_url: String,
    /// Attempts before a transient failure becomes final.
    pub max_attempts: i32,
    /// The first retry's delay; each further one doubles it (with jitter), up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// A message `sending` for longer than this was abandoned by a crashed process.
    pub abandoned_after: Duration,
    /// How often to look for due messages (retries, freed slots) without being woken.
    pub poll: Duration,
}

impl OutboxConfig {
    pub fn new(meta_graph_url: &str, sandbox_graph_url: &str) -> Self {
        Self {
            meta_graph_url: meta_graph_url.to_owned(),
            sandbox_graph_url: sandbox_graph_url.to_owned(),
            max_attempts: 5,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            // Well past the Graph client's 20 s request timeout.
            abandoned_after: Duration::from_secs(60),
            poll: Duration::from_millis(250),
        }
    }
}

/// Messages in flight (waiting for their slot, at Meta, or being recorded) per process.
const MAX_IN_FLIGHT: usize = 256;
/// Messages claimed per query, at most.
const CLAIM_BATCH: usize = 128;
/// After a claim that found less than it asked for, the next waits at least this long, so that
/// messages arriving meanwhile are claimed together.
const CLAIM_PAUSE: Duration = Duration::from_millis(5);
/// How long a number's credentials are reused before they are read again.
const CREDENTIALS_TTL: Duration = Duration::from_secs(30);

/// The delivery worker; clone-cheap pieces shared by its in-flight sends.
#[derive(Clone)]
pub struct Outbox {
    db: PgPool,
    cipher: Cipher,
    graph: GraphClient,
    config: Arc<OutboxConfig>,
    numbers: Arc<TtlCache<i64, NumberCredentials>>,
}

impl Outbox {
    pub fn new(db: PgPool, cipher: Cipher, graph: GraphClient, config: OutboxConfig) -> Self {
        Self {
            db,
            cipher,
            graph,
            config: Arc::new(config),
            numbers: Arc::new(TtlCache::new(CREDENTIALS_TTL)),
        }
    }

    /// Delivers queued messages until `shutdown`; then stops claiming, lets in-flight sends finish
    /// and records their answers.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = match self.listen().await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot LISTEN for queued messages; polling only");
                None
            }
        };
        let recorder = Recorder::start(self.db.clone(), (*self.config).clone(), MAX_IN_FLIGHT);
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut sends = JoinSet::new();
        let mut last_sweep: Option<Instant> = None;
        let mut next_claim = Instant::now();
        while !shutdown.is_cancelled() {
            if last_sweep.is_none_or(|at| at.elapsed() >= self.config.abandoned_after / 4) {
                self.sweep().await;
                last_sweep = Some(Instant::now());
            }
            tokio::time::sleep_until(next_claim.into()).await;
            let wanted = permits.available_permits().min(CLAIM_BATCH);
            let jobs = match claim::claim(&self.db, wanted).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(error = ?error, "claiming queued messages failed");
                    Vec::new()
                }
            };
            // Finished sends are only reaped here; a busy worker finishes hundreds a second.
            while sends.try_join_next().is_some() {}
            let claimed = jobs.len();
            for job in jobs {
                // Never waits: the claim asked for no more than the free permits.
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    break;
                };
                sends.spawn(self.clone().deliver(job, permit, recorder.sender()));
            }
            if claimed > 0 && claimed == wanted {
                continue;
            }
            next_claim = Instant::now() + CLAIM_PAUSE;
            tokio::select! {
                notification = recv(&mut listener) => if let Err(e) = notification {
                    tracing::warn!(error = ?e, "LISTEN connection lost; reconnecting");
                },
                () = tokio::time::sleep(self.config.poll) => {}
                Some(_) = sends.join_next(), if !sends.is_empty() => {}
                () = shutdown.cancelled() => {}
            }
        }
        while sends.join_next().await.is_some() {}
        recorder.finish().await;
    }

    async fn listen(&self) -> anyhow::Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.db)
            .await
            .context("connect listener")?;
        listener.listen(CHANNEL).await.context("LISTEN")?;
        Ok(listener)
    }

    async fn sweep(&self) {
        match claim::mark_abandoned(&self.db, self.config.abandoned_after).await {
            Ok(0) => {}
            Ok(count) => tracing::warn!(
                count,
                "messages left in `sending` marked unknown; they will not be resent"
            ),
            Err(error) => tracing::error!(error = ?error, "sweep failed"),
        }
    }

    /// Waits for the job's slot, calls Meta, and hands the answer to the recorder; holds its
    /// permit until then.
    #[tracing::instrument(skip_all, fields(message_id = job.id, number_id = job.number_id))]
    async fn deliver(
        self,
        job: Job,
        permit: OwnedSemaphorePermit,
        recorder: mpsc::Sender<Answered>,
    ) {
        // Credentials first, so that reading them cannot delay the call past its slot.
        let slot = Instant::now() + job.wait;
        let result = match self.number(job.number_id).await {
            Ok(number) => {
                tokio::time::sleep_until(slot.into()).await;
                self.call_meta(&number, &job).await
            }
            Err(error) => {
                tracing::error!(error = ?error, "could not read the number's credentials; will retry");
                Err(GraphFailure::Unreachable(format!("{error:#}")))
            }
        };
        let answered = Answered {
            job,
            result,
            at: chrono::Utc::now(),
        };
        if recorder.send(answered).await.is_err() {
            // The message stays `sending`; the sweep turns it `unknown` rather than risk a resend.
            tracing::error!("the recorder stopped before this send's answer was recorded");
        }
        drop(permit);
    }

    async fn call_meta(
        &self,
        number: &NumberCredentials,
        job: &Job,
    ) -> Result<SentMessage, GraphFailure> {
        let base_url = if number.sandbox {
            &self.config.sandbox_graph_url
        } else {
            &self.config.meta_graph_url
        };
        let auth = Auth {
            base_url,
            token: &number.access_token,
        };
        self.graph
            .send_message(&auth, &number.phone_number_id, &job.content)
            .await
    }

    /// The number's credentials, read at most every `CREDENTIALS_TTL`.
    async fn number(&self, id: i64) -> anyhow::Result<Arc<NumberCredentials>> {
        if let Some(cached) = self.numbers.get(&id) {
            return Ok(cached);
        }
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let number = Arc::new(numbers::credentials(&mut conn, &self.cipher, id).await?);
        self.numbers.insert(id, number.clone());
        Ok(number)
    }
}

async fn recv(listener: &mut Option<PgListener>) -> anyhow::Result<()> {
    match listener {
        Some(listener) => listener
            .recv()
            .await
            .map(drop)
            .context("receive notification"),
        None => std::future::pending().await,
    }
}
