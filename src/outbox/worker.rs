//! The delivery pipeline: claims queued messages with their send slots ([`claim`]), calls the
//! Graph API when each slot comes, and hands the answers to the [`record`]er:
//! queued → sending → sent (wamid) → delivered → read (from webhooks), or failed with Meta's error.
//! Right before each call the message is checked again (the window may have closed while it waited,
//! a template been paused, the customer opted out): a refused message fails with the reason and
//! never reaches Meta. Transient failures are retried with exponential backoff and jitter, up to a
//! limit. Each instance keeps a heartbeat; what a stopped one left `sending` is settled within
//! seconds: queued again if its call never started, `unknown` if it did (Meta has no idempotency
//! key, so such a message is never resent automatically).
//!
//! [`claim`]: super::claim
//! [`record`]: super::record

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use sqlx::PgPool;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{
    CHANNEL, checks,
    claim::{self, Job},
    record::{Answered, Failure, Recorder},
    send::SendError,
    starts::Starts,
};
use crate::{
    cache::ReadThrough,
    crypto::Cipher,
    db,
    domain::{
        ids::{NumberId, TenantId},
        numbers::{self, NumberCredentials},
    },
    whatsapp::graph::{Auth, GraphClient, GraphFailure, SentMessage},
    window::Clock,
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
    /// A message `sending` for longer than this is settled even if its instance is alive (well
    /// past the Graph client's request timeout).
    pub abandoned_after: Duration,
    /// How often an instance says it is alive (and sweeps what dead ones left).
    pub heartbeat: Duration,
    /// An instance silent for this long is gone: its `sending` messages are settled.
    pub instance_stale: Duration,
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
            heartbeat: Duration::from_secs(1),
            instance_stale: Duration::from_secs(10),
            poll: Duration::from_millis(250),
        }
    }
}

/// Messages in flight (waiting for their slot, at Meta, or being recorded) per process. A claim
/// books each number's slots [`claim`]'s horizon ahead (250 ms), so at full pace every number holds
/// about a quarter of a second's sends in flight: 1,024 keeps up with some fifty numbers at
/// Meta's 80 a second. With 256, twenty such numbers already ran out: each send that finished
/// freed one permit and brought a claim of a few messages (190 statements a second at 2,000 sends
/// a second; docs/benchmarks.md, "Integrators").
const MAX_IN_FLIGHT: usize = 1024;
/// Messages claimed per query, at most.
const CLAIM_BATCH: usize = 128;
/// After a claim that found less than it asked for, the next waits at least this long, so that
/// messages arriving meanwhile are claimed together…
const CLAIM_PAUSE: Duration = Duration::from_millis(5);
/// …and this long after one that found [`BUSY_CLAIM`] or more: while messages keep coming, fewer
/// and larger claims leave the database to the requests queueing them, for up to 20 ms more
/// before a busy queue's messages are called (docs/benchmarks.md, "Integrators").
const BUSY_CLAIM_PAUSE: Duration = Duration::from_millis(20);
const BUSY_CLAIM: usize = 8;
/// How long before its slot a call's start is recorded: recording takes a database round trip,
/// which must neither delay the call past its slot nor bunch calls together (the per-number limit
/// counts any second on Meta's side). A crash within this lead leaves a message `unknown` that
/// was in fact never called: the safe side.
const START_LEAD: Duration = Duration::from_millis(100);
/// How long a number's credentials are reused before they are read again.
const CREDENTIALS_TTL: Duration = Duration::from_secs(30);
/// Numbers whose credentials are kept at most; the least used go first.
const CREDENTIALS_CAPACITY: u64 = 10_000;

/// The delivery worker; clone-cheap pieces shared by its in-flight sends.
#[derive(Clone)]
pub struct Outbox {
    db: PgPool,
    cipher: Cipher,
    graph: GraphClient,
    clock: Arc<dyn Clock>,
    config: Arc<OutboxConfig>,
    /// By tenant and number: a number is only ever read for its own tenant.
    numbers: Arc<ReadThrough<(TenantId, NumberId), NumberCredentials>>,
}

impl Outbox {
    /// `clock` decides the window in the checks right before each Graph call.
    pub fn new(
        db: PgPool,
        cipher: Cipher,
        graph: GraphClient,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
    ) -> Self {
        Self {
            db,
            cipher,
            graph,
            clock,
            config: Arc::new(config),
            numbers: Arc::new(ReadThrough::new(CREDENTIALS_TTL, CREDENTIALS_CAPACITY)),
        }
    }

    /// Delivers queued messages until `shutdown`; then stops claiming, lets in-flight sends finish
    /// and records their answers.
    pub async fn run(self, shutdown: CancellationToken) {
        let instance = loop {
            match claim::register_instance(&self.db).await {
                Ok(instance) => break instance,
                Err(error) => tracing::error!(error = ?error, "cannot start delivering; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.heartbeat) => {}
                () = shutdown.cancelled() => return,
            }
        };
        let mut listener = match db::listen(&self.db, CHANNEL).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot LISTEN for queued messages; polling only");
                None
            }
        };
        let recorder = Recorder::start(self.db.clone(), (*self.config).clone(), MAX_IN_FLIGHT);
        let recorded = recorder.recorded();
        let starts = Starts::start(self.db.clone(), instance);
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut sends = JoinSet::new();
        let mut last_beat: Option<Instant> = None;
        let mut next_claim = Instant::now();
        while !shutdown.is_cancelled() {
            if last_beat.is_none_or(|at| at.elapsed() >= self.config.heartbeat) {
                self.beat_and_sweep(instance).await;
                last_beat = Some(Instant::now());
            }
            tokio::time::sleep_until(next_claim.into()).await;
            let wanted = permits.available_permits().min(CLAIM_BATCH);
            let jobs = match claim::claim(&self.db, instance, wanted).await {
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
                let recorder = recorder.sender();
                sends.spawn(self.clone().deliver(job, permit, starts.clone(), recorder));
            }
            if claimed > 0 && claimed == wanted {
                continue;
            }
            let pause = if claimed >= BUSY_CLAIM {
                BUSY_CLAIM_PAUSE
            } else {
                CLAIM_PAUSE
            };
            next_claim = Instant::now() + pause;
            tokio::select! {
                notification = db::notified(&mut listener) => if let Err(e) = notification {
                    tracing::warn!(error = ?e, "LISTEN connection lost; reconnecting");
                },
                () = tokio::time::sleep(self.config.poll) => {}
                // Answers recorded: their conversations' next messages may go, and their
                // permits are free. (Woken by a send's end instead, the claim ran before its
                // answer was recorded and found its conversation's next message still waiting
                // for it, which then waited for the poll.)
                () = recorded.notified() => {}
                () = shutdown.cancelled() => {}
            }
        }
        while sends.join_next().await.is_some() {}
        recorder.finish().await;
        if let Err(error) = claim::unregister_instance(&self.db, instance).await {
            tracing::warn!(error = ?error, "could not unregister the delivery instance");
        }
    }

    /// Says this instance is alive, and settles what gone instances left `sending`.
    async fn beat_and_sweep(&self, instance: i64) {
        if let Err(error) = claim::heartbeat(&self.db, instance).await {
            tracing::error!(error = ?error, "delivery heartbeat failed");
        }
        let settled = claim::settle_abandoned(
            &self.db,
            self.config.instance_stale,
            self.config.abandoned_after,
        )
        .await;
        match settled {
            Ok(claim::Settled {
                requeued: 0,
                unknown: 0,
            }) => {}
            Ok(claim::Settled { requeued, unknown }) => tracing::warn!(
                requeued,
                unknown,
                "settled messages a stopped instance left `sending`: those never sent are queued \
                 again, those that may have reached WhatsApp are unknown and not resent"
            ),
            Err(error) => tracing::error!(error = ?error, "sweep failed"),
        }
    }

    /// Waits for the job's slot, checks it once more, calls Meta, and hands the answer to the
    /// recorder; holds its permit until then.
    #[tracing::instrument(skip_all, fields(tenant_id = %job.tenant_id, message_id = %job.id, number_id = %job.number_id))]
    async fn deliver(
        self,
        job: Job,
        permit: OwnedSemaphorePermit,
        starts: Starts,
        recorder: mpsc::Sender<Answered>,
    ) {
        // Credentials first, so that reading them cannot delay the call past its slot.
        let slot = Instant::now() + job.wait;
        let result = match self.number(job.tenant_id, job.number_id).await {
            Ok(number) => {
                match self.call(&starts, &number, &job, slot).await {
                    Some(result) => result,
                    // No longer this claim: a sweep queued it again; whoever claims it sends it.
                    None => return drop(permit),
                }
            }
            Err(error) => {
                tracing::error!(error = ?error, "could not read the number's credentials; will retry");
                Err(Failure::Graph(GraphFailure::Unreachable(format!(
                    "{error:#}"
                ))))
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

    /// Shortly before the slot, the last checks and the call's recorded start; at the slot, the
    /// call. `None` if the message is no longer this claim.
    async fn call(
        &self,
        starts: &Starts,
        number: &NumberCredentials,
        job: &Job,
        slot: Instant,
    ) -> Option<Result<SentMessage, Failure>> {
        tokio::time::sleep_until(slot.checked_sub(START_LEAD).unwrap_or(slot).into()).await;
        let now = self.clock.now();
        let checked = checks::recheck(
            &self.db,
            job.tenant_id,
            &job.context,
            job.template.as_ref(),
            now,
        )
        .await;
        match checked {
            Ok(()) => {}
            Err(SendError::Refused(refused)) => return Some(Err(Failure::Refused(refused))),
            Err(SendError::Internal(error)) => {
                let reason = format!("{error:#}");
                return Some(Err(Failure::Graph(GraphFailure::Unreachable(reason))));
            }
        }
        match starts.begin(job.id, job.attempts).await {
            Ok(true) => {
                tokio::time::sleep_until(slot.into()).await;
                Some(self.call_meta(number, job).await.map_err(Failure::Graph))
            }
            Ok(false) => None,
            Err(error) => {
                let reason = format!("{error:#}");
                Some(Err(Failure::Graph(GraphFailure::Unreachable(reason))))
            }
        }
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

    /// The tenant's number's credentials, read at most every `CREDENTIALS_TTL` (and once for
    /// concurrent sends from a cold cache).
    async fn number(
        &self,
        tenant_id: TenantId,
        id: NumberId,
    ) -> anyhow::Result<Arc<NumberCredentials>> {
        let number = self
            .numbers
            .get_or_load(&(tenant_id, id), async {
                let mut conn = self.db.acquire().await.context("acquire connection")?;
                numbers::credentials(&mut conn, &self.cipher, tenant_id, id)
                    .await
                    .map(Some)
            })
            .await?;
        // The load above never answers `None`.
        number.context("no credentials for the number")
    }
}
