//! Recording that Graph calls start. Shortly before a message's call (the worker's `START_LEAD`), its
//! start is committed (in batches: every start that arrived while the previous batch was written
//! goes in one statement),
//! so that after a crash a message still `sending` tells whether Meta may have it: with a start it
//! may (it becomes `unknown`), without one it never left and is queued again. A start is recorded
//! only while the message is still this claim, so a message queued again by a sweep can never be
//! called by the instance that lost it.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::claim;
use crate::{batch::gather, domain::ids::MessageId};

/// Starts recorded per statement, at most.
const BATCH: usize = 256;
/// While calls keep starting, how long a batch waits for more: well within the worker's lead
/// (`START_LEAD`) before each call's slot.
const GATHER: Duration = Duration::from_millis(5);

/// A call about to start, and where to say whether it may.
struct Start {
    id: MessageId,
    attempts: i32,
    allowed: oneshot::Sender<bool>,
}

/// Hands starts to the recording task; cheap to clone.
#[derive(Clone)]
pub(super) struct Starts {
    starts: mpsc::Sender<Start>,
}

impl Starts {
    /// Starts the recording task for the claims of delivery instance `instance`; it ends when
    /// every handle is dropped.
    pub fn start(db: PgPool, instance: i64, capacity: usize) -> Self {
        let (starts, mut received) = mpsc::channel(capacity);
        tokio::spawn(async move {
            let (mut batch, mut last) = (Vec::with_capacity(BATCH), None);
            while gather(&mut received, &mut batch, BATCH, GATHER, &mut last).await > 0 {
                record(&db, instance, std::mem::take(&mut batch)).await;
            }
        });
        Self { starts }
    }

    /// Records that the call of message `id` (claimed as attempt `attempts`) starts; `Ok(false)`
    /// when the message is no longer this claim, so it must not be called.
    pub async fn begin(&self, id: MessageId, attempts: i32) -> anyhow::Result<bool> {
        let (allowed, answer) = oneshot::channel();
        let start = Start {
            id,
            attempts,
            allowed,
        };
        self.starts
            .send(start)
            .await
            .ok()
            .context("the call start recorder has stopped")?;
        answer.await.context("the call start could not be recorded")
    }
}

/// Records a batch; on a database error every call in it is held back: its `begin` fails, so the
/// message is not called (and is retried like a call that could not connect).
async fn record(db: &PgPool, instance: i64, batch: Vec<Start>) {
    let ids: Vec<MessageId> = batch.iter().map(|s| s.id).collect();
    let attempts: Vec<i32> = batch.iter().map(|s| s.attempts).collect();
    let allowed = match claim::mark_call_started(db, instance, &ids, &attempts).await {
        Ok(allowed) => allowed,
        Err(error) => {
            // Dropping the senders fails each `begin`.
            return tracing::error!(error = ?error, count = batch.len(), "could not record call starts");
        }
    };
    for start in batch {
        // The send may have given up waiting; its message is settled by the sweep either way.
        let _ = start.allowed.send(allowed.contains(&start.id));
    }
}
