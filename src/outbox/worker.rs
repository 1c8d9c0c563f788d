//! The delivery pipeline: claims queued messages (`FOR UPDATE SKIP LOCKED`, so several instances
//! share the queue; one message per conversation at a time, so a customer receives them in order),
//! paces them per number, calls the Graph API and records the outcome:
//! queued → sending → sent (wamid) → delivered → read (from webhooks), or failed with Meta's error.
//! Transient failures are retried with exponential backoff and jitter, up to a limit. A message left
//! in `sending` (a crash between calling Meta and storing the answer) becomes `unknown`: Meta has
//! no idempotency key, so it is never resent automatically.

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context;
use rand::Rng;
use serde_json::Value;
use sqlx::{PgPool, postgres::PgListener};
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{CHANNEL, pacing};
use crate::{
    crypto::Cipher,
    domain::numbers::{self, NumberCredentials},
    ingest::apply::sync_message_status,
    whatsapp::{
        errors::{self, Retry},
        graph::{Auth, GraphClient, GraphFailure, SentMessage},
    },
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
    /// How often to look for due retries and abandoned messages without being woken.
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

/// Messages in flight per process.
const MAX_IN_FLIGHT: usize = 64;
/// Messages claimed per query.
const CLAIM_BATCH: usize = 32;
/// How long a number's credentials are reused before they are read again.
const CREDENTIALS_TTL: Duration = Duration::from_secs(30);

/// The delivery worker; clone-cheap pieces shared by its in-flight sends.
#[derive(Clone)]
pub struct Outbox {
    db: PgPool,
    cipher: Cipher,
    graph: GraphClient,
    config: Arc<OutboxConfig>,
    numbers: Arc<tokio::sync::Mutex<HashMap<i64, CachedNumber>>>,
}

/// A number's credentials and when they were read.
struct CachedNumber {
    loaded: std::time::Instant,
    number: Arc<NumberCredentials>,
}

/// A claimed message.
struct Job {
    id: i64,
    number_id: i64,
    conversation_id: i64,
    contact_id: i64,
    content: Value,
    attempts: i32,
}

impl Outbox {
    pub fn new(db: PgPool, cipher: Cipher, graph: GraphClient, config: OutboxConfig) -> Self {
        Self {
            db,
            cipher,
            graph,
            config: Arc::new(config),
            numbers: Default::default(),
        }
    }

    /// Delivers queued messages until `shutdown`; then stops claiming and lets in-flight sends finish.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = match self.listen().await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot LISTEN for queued messages; polling only");
                None
            }
        };
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut sends = JoinSet::new();
        let mut last_sweep: Option<std::time::Instant> = None;
        while !shutdown.is_cancelled() {
            if last_sweep.is_none_or(|at| at.elapsed() >= self.config.abandoned_after / 4) {
                self.mark_abandoned()
                    .await
                    .unwrap_or_else(|e| tracing::error!(error = ?e, "sweep failed"));
                last_sweep = Some(std::time::Instant::now());
            }
            let wanted = permits.available_permits().min(CLAIM_BATCH);
            let jobs = match self.claim(wanted).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(error = ?error, "claiming queued messages failed");
                    Vec::new()
                }
            };
            let claimed = jobs.len();
            for job in jobs {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let outbox = self.clone();
                sends.spawn(async move {
                    outbox.deliver(job).await;
                    drop(permit);
                });
            }
            if claimed > 0 && claimed == wanted {
                continue;
            }
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
    }

    async fn listen(&self) -> anyhow::Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.db)
            .await
            .context("connect listener")?;
        listener.listen(CHANNEL).await.context("LISTEN")?;
        Ok(listener)
    }

    /// Claims up to `limit` due messages: the oldest queued one of each conversation that has none
    /// in flight and is not paused for this recipient.
    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query!(
            "with due as (
                 select m.id from messages m
                 join conversations c on c.id = m.conversation_id
                 where m.status = 'queued' and m.next_attempt_at <= now()
                   and (c.send_paused_until is null or c.send_paused_until <= now())
                   and not exists (select 1 from messages earlier
                                   where earlier.conversation_id = m.conversation_id
                                     and earlier.status in ('queued', 'sending') and earlier.id < m.id)
                 order by m.next_attempt_at, m.id
                 limit $1
                 for update of m skip locked
             )
             update messages m
             set status = 'sending', sending_started_at = now(), attempts = m.attempts + 1
             from due, conversations c
             where m.id = due.id and c.id = m.conversation_id
             returning m.id, m.phone_number_id, m.conversation_id, c.contact_id, m.content, m.attempts",
            limit as i64
        )
        .fetch_all(&self.db)
        .await
        .context("claim queued messages")?;
        Ok(rows
            .into_iter()
            .map(|r| Job {
                id: r.id,
                number_id: r.phone_number_id,
                conversation_id: r.conversation_id,
                contact_id: r.contact_id,
                content: r.content,
                attempts: r.attempts,
            })
            .collect())
    }

    /// Marks messages abandoned in `sending` as `unknown`: they may or may not have reached Meta.
    async fn mark_abandoned(&self) -> anyhow::Result<()> {
        let stale = self.config.abandoned_after.as_secs_f64();
        let ids = sqlx::query_scalar!(
            "update messages set status = 'unknown',
                 error_title = 'Delivery unknown',
                 error_message = 'Switchboard stopped while sending this message, so we cannot tell whether WhatsApp received it. Check with the customer before sending it again.'
             where status = 'sending' and sending_started_at < now() - make_interval(secs => $1)
             returning id",
            stale
        )
        .fetch_all(&self.db)
        .await
        .context("mark abandoned sends")?;
        if !ids.is_empty() {
            tracing::warn!(
                count = ids.len(),
                "messages left in `sending` marked unknown; they will not be resent"
            );
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(message_id = job.id, number_id = job.number_id))]
    async fn deliver(&self, job: Job) {
        let outcome = match self.call_meta(&job).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(error = ?error, "could not send; will retry");
                Err(GraphFailure::Unreachable(format!("{error:#}")))
            }
        };
        if let Err(error) = self.record(&job, outcome).await {
            // The message stays `sending`; the sweep turns it `unknown` rather than risk a resend.
            tracing::error!(error = ?error, "could not record the send outcome");
        }
    }

    async fn call_meta(&self, job: &Job) -> anyhow::Result<Result<SentMessage, GraphFailure>> {
        let number = self.number(job.number_id).await?;
        let wait =
            pacing::reserve_slot(&self.db, number.id, number.max_messages_per_second).await?;
        tokio::time::sleep(wait).await;
        let base_url = if number.sandbox {
            &self.config.sandbox_graph_url
        } else {
            &self.config.meta_graph_url
        };
        let auth = Auth {
            base_url,
            token: &number.access_token,
        };
        Ok(self
            .graph
            .send_message(&auth, &number.phone_number_id, &job.content)
            .await)
    }

    async fn number(&self, id: i64) -> anyhow::Result<Arc<NumberCredentials>> {
        let mut cache = self.numbers.lock().await;
        if let Some(cached) = cache.get(&id)
            && cached.loaded.elapsed() < CREDENTIALS_TTL
        {
            return Ok(cached.number.clone());
        }
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let number = Arc::new(numbers::credentials(&mut conn, &self.cipher, id).await?);
        cache.insert(
            id,
            CachedNumber {
                loaded: std::time::Instant::now(),
                number: number.clone(),
            },
        );
        Ok(number)
    }

    async fn record(
        &self,
        job: &Job,
        outcome: Result<SentMessage, GraphFailure>,
    ) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await.context("begin recording outcome")?;
        match outcome {
            Ok(sent) => {
                sqlx::query!(
                    "update messages set status = 'sent', wamid = $2, sent_at = now(), error_code = null,
                         error_title = null, error_message = null, error_details = null
                     where id = $1",
                    job.id,
                    sent.wamid
                )
                .execute(&mut *tx)
                .await
                .context("record sent message")?;
                // Status webhooks may have beaten Meta's answer here.
                sync_message_status(&mut tx, job.number_id, &sent.wamid).await?;
            }
            Err(failure) => self.record_failure(&mut tx, job, &failure).await?,
        }
        tx.commit().await.context("commit send outcome")
    }

    async fn record_failure(
        &self,
        conn: &mut sqlx::PgConnection,
        job: &Job,
        failure: &GraphFailure,
    ) -> anyhow::Result<()> {
        let verdict = Verdict::of(failure);
        let retry = matches!(verdict.retry, Retry::Backoff | Retry::Recipient)
            && job.attempts < self.config.max_attempts;
        let delay = self.backoff(job.attempts);
        let status = match (&verdict.retry, retry) {
            (_, true) => "queued",
            _ if verdict.ambiguous => "unknown",
            _ => "failed",
        };
        tracing::warn!(code = ?verdict.code, status, attempts = job.attempts, "send failed");
        sqlx::query!(
            "update messages set status = $2, error_code = $3, error_title = $4, error_message = $5,
                 error_details = $6, next_attempt_at = now() + make_interval(secs => $7)
             where id = $1",
            job.id,
            status,
            verdict.code.and_then(|c| i32::try_from(c).ok()),
            verdict.title,
            verdict.message,
            verdict.details,
            delay.as_secs_f64()
        )
        .execute(&mut *conn)
        .await
        .context("record failed send")?;
        match verdict.code {
            Some(131056) if retry => {
                sqlx::query!(
                    "update conversations set send_paused_until = now() + make_interval(secs => $2)
                     where id = $1",
                    job.conversation_id,
                    delay.as_secs_f64()
                )
                .execute(&mut *conn)
                .await
                .context("pause sends to this recipient")?;
            }
            Some(131047) => close_window(conn, job.conversation_id).await?,
            Some(131050) => {
                sqlx::query!(
                    "update contacts set opted_out_at = coalesce(opted_out_at, now()) where id = $1",
                    job.contact_id
                )
                .execute(&mut *conn)
                .await
                .context("record marketing opt-out")?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Exponential backoff with jitter: base × 2^(attempt-1), capped, times a random 50–100 %.
    fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        let full = self
            .config
            .backoff
            .saturating_mul(2u32.pow(exponent))
            .min(self.config.max_backoff);
        full.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
    }
}

/// Meta said the window is closed although our clock said open: believe Meta until the customer
/// writes again.
pub async fn close_window(
    conn: &mut sqlx::PgConnection,
    conversation_id: i64,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update conversations set window_closed_by_meta_at = now() where id = $1",
        conversation_id
    )
    .execute(conn)
    .await
    .context("record window closed by Meta")?;
    Ok(())
}

/// What a failure means for the message and the agent.
struct Verdict {
    code: Option<i64>,
    title: String,
    message: String,
    details: Option<String>,
    retry: Retry,
    /// Meta may have received it: never resend automatically.
    ambiguous: bool,
}

impl Verdict {
    fn of(failure: &GraphFailure) -> Self {
        match failure {
            GraphFailure::Api(error) => {
                let explained =
                    errors::explain(error.code, Some(error.title()), error.details.as_deref(), error.is_transient);
                Self {
                    code: Some(error.code),
                    title: explained.title,
                    message: format!("{} {}", explained.explanation, explained.action),
                    details: error.details.clone(),
                    retry: explained.retry,
                    ambiguous: false,
                }
            }
            GraphFailure::Unreachable(reason) => Self {
                code: None,
                title: "Could not reach WhatsApp".into(),
                message: "Switchboard could not connect to WhatsApp's servers; it will try again.".into(),
                details: Some(reason.clone()),
                retry: Retry::Backoff,
                ambiguous: false,
            },
            GraphFailure::Ambiguous(reason) => Self {
                code: None,
                title: "Delivery unknown".into(),
                message: "WhatsApp did not answer in time, so we cannot tell whether it received this \
                          message. Check with the customer before sending it again."
                    .into(),
                details: Some(reason.clone()),
                retry: Retry::Never,
                ambiguous: true,
            },
            // A success status we cannot read: Meta probably took the message, so never resend it.
            GraphFailure::Unreadable { status, body } if (200..300).contains(status) => Self {
                code: None,
                title: "Delivery unknown".into(),
                message: "WhatsApp accepted this message with an answer Switchboard could not read, so we \
                          cannot confirm it. Check with the customer before sending it again."
                    .into(),
                details: Some(body.clone()),
                retry: Retry::Never,
                ambiguous: true,
            },
            GraphFailure::Unreadable { status, body } => Self {
                code: None,
                title: format!("Unexpected answer from WhatsApp (HTTP {status})"),
                message: "WhatsApp answered in a way Switchboard does not understand.".into(),
                details: Some(body.clone()),
                retry: if *status >= 500 { Retry::Backoff } else { Retry::Never },
                ambiguous: false,
            },
        }
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
