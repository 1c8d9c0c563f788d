//! Recording what Meta answered. Sends that went through are recorded in batches (one statement for
//! every answer that arrived while the previous batch was written, [`gather`]ed while answers keep
//! coming), then their early statuses are synced after the commit; failures are recorded one by
//! one, with what they mean: retry later (exponential backoff with jitter, up to a limit), pause
//! the recipient (131056), close the window (131047) or record the opt-out (131050) by the rule of
//! `domain::conversations`, or fail for good. Messages the last checks refused before their Graph
//! call fail with the refusal's words. A message whose answer cannot be recorded stays `sending`,
//! and the sweep turns it `unknown` rather than risk a resend.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use backon::Retryable;
use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::PgPool;
use tokio::{
    sync::{Notify, mpsc},
    task::JoinHandle,
};

use super::{claim::Job, send::SendRefused, worker::OutboxConfig};
use crate::{
    batch::gather,
    domain::{
        conversations,
        ids::{ConversationId, MessageId, NumberId, TenantId},
        messages::MessageStatus,
    },
    ingest::apply::sync_message_statuses,
    metrics, retry,
    whatsapp::{
        errors::{self, Retry},
        graph::{GraphFailure, SentMessage},
    },
};

/// Answers recorded per statement, at most.
const BATCH: usize = 256;
/// While answers keep coming, how long a batch waits for more. A program waiting for Meta's
/// answer (the Graph endpoint without `respond-async`) waits this much longer, and only then.
const GATHER: Duration = Duration::from_millis(5);

/// A claimed message and what Meta answered, or why it was not sent after all.
pub(super) struct Answered {
    pub job: Job,
    pub result: Result<SentMessage, Failure>,
    pub at: DateTime<Utc>,
}

/// Why a claimed message did not go through.
pub(super) enum Failure {
    /// Meta refused it, or could not be reached.
    Graph(GraphFailure),
    /// The checks right before the Graph call refused it (the window closed meanwhile, …).
    Refused(SendRefused),
}

/// Hands answers to the recording task.
pub(super) struct Recorder {
    answers: mpsc::Sender<Answered>,
    recorded: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Recorder {
    pub fn start(db: PgPool, config: OutboxConfig, capacity: usize) -> Self {
        let (answers, mut received) = mpsc::channel(capacity);
        let recorded = Arc::new(Notify::new());
        let task = tokio::spawn({
            let recorded = recorded.clone();
            async move {
                let (mut batch, mut last) = (Vec::with_capacity(BATCH), None);
                while gather(&mut received, &mut batch, BATCH, GATHER, &mut last).await > 0 {
                    record_all(&db, &config, std::mem::take(&mut batch)).await;
                    recorded.notify_one();
                }
            }
        });
        Self {
            answers,
            recorded,
            task,
        }
    }

    /// Notified once a batch of answers is recorded: their conversations' next messages may go
    /// now. (A notification that finds no one waiting is kept for the next wait, so one that
    /// comes during a claim, which may not have seen the batch, brings another claim.)
    pub fn recorded(&self) -> Arc<Notify> {
        self.recorded.clone()
    }

    pub fn sender(&self) -> mpsc::Sender<Answered> {
        self.answers.clone()
    }

    /// Records what is left once every sender is gone.
    pub async fn finish(self) {
        drop(self.answers);
        if let Err(error) = self.task.await {
            tracing::error!(error = ?error, "the recording task panicked");
        }
    }
}

async fn record_all(db: &PgPool, config: &OutboxConfig, answers: Vec<Answered>) {
    let mut sent = Vec::new();
    let mut failed = Vec::new();
    for Answered { job, result, at } in answers {
        match result {
            Ok(message) => sent.push(Sent {
                tenant_id: job.tenant_id,
                id: job.id,
                number_id: job.number_id,
                wamid: message.wamid,
                at,
            }),
            Err(failure) => failed.push((job, failure, at)),
        }
    }
    if !sent.is_empty() {
        // Counted as Meta answered, before the record (which retries on its own).
        metrics::sends("sent", None, u64::try_from(sent.len()).unwrap_or(u64::MAX));
        record_sent_with_retries(db, &sent).await;
    }
    for (job, failure, at) in failed {
        if let Err(error) = record_failure(db, config, &job, &failure, at).await {
            tracing::error!(message_id = %job.id, error = ?error, "could not record a failed send");
        }
    }
}

/// Records a batch, retrying what the database refused ([`retry::quick`]); if the batch still
/// fails, each message is tried on its own, so that one bad row cannot leave the others `sending`.
async fn record_sent_with_retries(db: &PgPool, sent: &[Sent]) {
    let recorded = (|| record_sent(db, sent))
        .retry(retry::quick())
        .notify(retry::warn("recording sent messages"))
        .await;
    let Err(error) = recorded else {
        return;
    };
    tracing::error!(error = ?error, count = sent.len(), "could not record sent messages");
    if sent.len() > 1 {
        for one in sent {
            if let Err(error) = record_sent(db, std::slice::from_ref(one)).await {
                // It stays `sending`; the sweep makes it `unknown` ("check before resending").
                tracing::error!(message_id = %one.id, error = ?error, "could not record a sent message");
            }
        }
    }
}

/// A message Meta accepted, with the wamid it answered and when.
struct Sent {
    tenant_id: TenantId,
    id: MessageId,
    number_id: NumberId,
    wamid: String,
    at: DateTime<Utc>,
}

/// Stores the wamids Meta answered with, then (after that commit) applies statuses that arrived
/// before the answer. Repeating it changes nothing: a message already `sent`, or further along by
/// its statuses, is left as it is. The batch may hold several tenants' messages: each is matched by
/// its tenant and id.
async fn record_sent(db: &PgPool, sent: &[Sent]) -> anyhow::Result<()> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let tenant_ids: Vec<i64> = sent.iter().map(|s| s.tenant_id.get()).collect();
    let ids: Vec<i64> = sent.iter().map(|s| s.id.get()).collect();
    let number_ids: Vec<NumberId> = sent.iter().map(|s| s.number_id).collect();
    let wamids: Vec<String> = sent.iter().map(|s| s.wamid.clone()).collect();
    let at: Vec<DateTime<Utc>> = sent.iter().map(|s| s.at).collect();
    sqlx::query!(
        "with sent as (
             update messages m set status = 'sent', wamid = t.wamid, sent_at = t.at,
                 error_code = null, error_title = null, error_message = null, error_details = null
             from unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[])
                 as t (tenant_id, id, wamid, at)
             where m.tenant_id = t.tenant_id and m.id = t.id and m.status in ('sending', 'unknown')
             returning m.id, m.tenant_id, m.conversation_id
         )
         select from sent, announce(sent.tenant_id, sent.conversation_id, sent.id, '{message_status}')",
        &tenant_ids,
        &ids,
        &wamids,
        &at
    )
    .execute(&mut *conn)
    .await
    .context("record sent messages")?;
    sync_message_statuses(&mut conn, &number_ids, &wamids).await
}

async fn record_failure(
    db: &PgPool,
    config: &OutboxConfig,
    job: &Job,
    failure: &Failure,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let verdict = Verdict::of(failure);
    let retried = matches!(verdict.retry, Retry::Backoff | Retry::Recipient);
    let retry = retried && job.attempts < config.max_attempts;
    // Told "it is retried automatically" while it was; once the attempts are spent, what to do.
    let message = if retried && !retry {
        format!(
            "{} Switchboard tried {} times and stopped: send it again with Retry; if it keeps \
             failing, tell an admin.",
            verdict.explanation, job.attempts
        )
    } else {
        format!("{} {}", verdict.explanation, verdict.action)
            .trim_end()
            .to_owned()
    };
    let delay = backoff(config, job.attempts);
    let status = match (&verdict.retry, retry) {
        (_, true) => MessageStatus::Queued,
        _ if verdict.ambiguous => MessageStatus::Unknown,
        _ => MessageStatus::Failed,
    };
    tracing::warn!(message_id = %job.id, code = ?verdict.code, %status, attempts = job.attempts, "send failed");
    let outcome = match status {
        MessageStatus::Queued => "retrying",
        MessageStatus::Unknown => "unknown",
        _ => "failed",
    };
    metrics::sends(outcome, verdict.code, 1);
    let mut tx = db.begin().await.context("begin recording a failed send")?;
    sqlx::query!(
        "with recorded as (
             update messages set status = $3, error_code = $4, error_title = $5,
                 error_message = $6, error_details = $7,
                 next_attempt_at = now() + make_interval(secs => $8)
             where tenant_id = $1 and id = $2 and status in ('sending', 'unknown')
             returning conversation_id
         )
         select from recorded, announce($1, recorded.conversation_id, $2, '{message_status}')",
        job.tenant_id as TenantId,
        job.id as MessageId,
        status as MessageStatus,
        verdict.code.and_then(|c| i32::try_from(c).ok()),
        verdict.title,
        message,
        verdict.details,
        delay.as_secs_f64()
    )
    .execute(&mut *tx)
    .await
    .context("record failed send")?;
    let conversation_id = job.context.conversation_id;
    match (failure, verdict.code) {
        (Failure::Graph(_), Some(PAIR_RATE_LIMIT)) if retry => {
            sqlx::query!(
                "update conversations set send_paused_until = now() + make_interval(secs => $3)
                 where tenant_id = $1 and id = $2",
                job.tenant_id as TenantId,
                conversation_id as ConversationId,
                delay.as_secs_f64()
            )
            .execute(&mut *tx)
            .await
            .context("pause sends to this recipient")?;
        }
        (Failure::Graph(_), Some(code)) => {
            conversations::apply_meta_refusal(&mut tx, job.tenant_id, conversation_id, code, at)
                .await?;
        }
        _ => {}
    }
    tx.commit().await.context("commit failed send")
}

/// Meta's "Pair rate limit hit": too many messages to this one recipient.
const PAIR_RATE_LIMIT: i64 = 131056;

/// Exponential backoff with jitter: base × 2^(attempt-1), capped, times a random 50–100 %.
fn backoff(config: &OutboxConfig, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    let full = config
        .backoff
        .saturating_mul(2u32.pow(exponent))
        .min(config.max_backoff);
    full.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// What a failure means for the message and the agent.
struct Verdict {
    code: Option<i64>,
    title: String,
    /// What happened, in words…
    explanation: String,
    /// …and what the agent should do about it.
    action: String,
    details: Option<String>,
    retry: Retry,
    /// Meta may have received it: never resend automatically.
    ambiguous: bool,
}

impl Verdict {
    fn of(failure: &Failure) -> Self {
        match failure {
            Failure::Graph(failure) => Self::of_graph(failure),
            Failure::Refused(refused) => Self {
                code: refused.meta_code(),
                title: refused.title().into(),
                explanation: refused.to_string(),
                action: String::new(),
                details: None,
                retry: Retry::Never,
                ambiguous: false,
            },
        }
    }

    fn of_graph(failure: &GraphFailure) -> Self {
        match failure {
            GraphFailure::Api(error) => {
                let explained = errors::explain(
                    error.code,
                    Some(error.title()),
                    error.details.as_deref(),
                    error.is_transient,
                );
                Self {
                    code: Some(error.code),
                    title: explained.title.clone(),
                    explanation: explained.explanation,
                    action: explained.action,
                    details: error.details.clone(),
                    retry: explained.retry,
                    ambiguous: false,
                }
            }
            GraphFailure::Unreachable(reason) => Self {
                code: None,
                title: "Could not reach WhatsApp".into(),
                explanation: "Switchboard could not connect to WhatsApp's servers.".into(),
                action: "Nothing to do yet: it is retried automatically.".into(),
                details: Some(reason.clone()),
                retry: Retry::Backoff,
                ambiguous: false,
            },
            GraphFailure::Ambiguous(reason) => Self {
                code: None,
                title: "Delivery unknown".into(),
                explanation:
                    "WhatsApp did not answer in time, so we cannot tell whether it received \
                              this message."
                        .into(),
                action: "Check with the customer before sending it again.".into(),
                details: Some(reason.clone()),
                retry: Retry::Never,
                ambiguous: true,
            },
            // A success status we cannot read: Meta probably took the message, so never resend it.
            GraphFailure::Unreadable { status, body } if (200..300).contains(status) => Self {
                code: None,
                title: "Delivery unknown".into(),
                explanation: "WhatsApp accepted this message with an answer Switchboard could not \
                              read, so we cannot confirm it."
                    .into(),
                action: "Check with the customer before sending it again.".into(),
                details: Some(body.clone()),
                retry: Retry::Never,
                ambiguous: true,
            },
            GraphFailure::Unreadable { status, body } => Self {
                code: None,
                title: format!("Unexpected answer from WhatsApp (HTTP {status})"),
                explanation: "WhatsApp answered in a way Switchboard does not understand.".into(),
                action: String::new(),
                details: Some(body.clone()),
                retry: if *status >= 500 {
                    Retry::Backoff
                } else {
                    Retry::Never
                },
                ambiguous: false,
            },
        }
    }
}
