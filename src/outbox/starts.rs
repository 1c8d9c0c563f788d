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

use super::claim;
use crate::{batch::Batcher, domain::ids::MessageId};

/// Starts recorded per statement, at most.
const BATCH: usize = 256;
/// While calls keep starting, how long a batch waits for more: well within the worker's lead
/// (`START_LEAD`) before each call's slot.
const GATHER: Duration = Duration::from_millis(5);

/// Hands starts to the recording task; cheap to clone.
#[derive(Clone)]
pub(super) struct Starts {
    /// A start by message and attempt; whether the call may go.
    recorder: Batcher<(MessageId, i32), bool>,
}

impl Starts {
    /// Starts the recording task for the claims of delivery instance `instance`; it ends when
    /// every handle is dropped.
    pub fn start(db: PgPool, instance: i64) -> Self {
        let recorder = Batcher::start(BATCH, GATHER, move |starts: Vec<(MessageId, i32)>| {
            let db = db.clone();
            async move { record(&db, instance, &starts).await }
        });
        Self { recorder }
    }

    /// Records that the call of message `id` (claimed as attempt `attempts`) starts; `Ok(false)`
    /// when the message is no longer this claim, so it must not be called.
    pub async fn begin(&self, id: MessageId, attempts: i32) -> anyhow::Result<bool> {
        self.recorder
            .call((id, attempts))
            .await
            .context("the call start could not be recorded")
    }
}

/// Records a batch: whether each call may go. On a database error, no answer: every `begin` of
/// the batch fails, so the message is not called (and is retried like a call that could not
/// connect).
async fn record(db: &PgPool, instance: i64, starts: &[(MessageId, i32)]) -> Vec<bool> {
    let (ids, attempts): (Vec<MessageId>, Vec<i32>) = starts.iter().copied().unzip();
    match claim::mark_call_started(db, instance, &ids, &attempts).await {
        Ok(allowed) => ids.iter().map(|id| allowed.contains(id)).collect(),
        Err(error) => {
            tracing::error!(error = ?error, count = starts.len(), "could not record call starts");
            Vec::new()
        }
    }
}
