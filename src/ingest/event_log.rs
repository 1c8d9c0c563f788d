//! The append side: requests hand their raw body to one writer task, which inserts whatever has
//! queued up in one statement and one commit (a group commit), then answers each request. Under load
//! the batches grow, so throughput rises with concurrency instead of queueing on fsyncs.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use sqlx::PgPool;
use tokio::sync::{Notify, mpsc, oneshot};

/// The most events committed together.
const MAX_BATCH: usize = 512;

/// Handle for appending verified webhook bodies; cheap to clone.
#[derive(Clone)]
pub struct EventLog {
    sender: mpsc::Sender<Append>,
}

struct Append {
    app_id: i64,
    body: Bytes,
    committed: oneshot::Sender<Result<(), Arc<sqlx::Error>>>,
}

impl EventLog {
    /// Starts the writer task. `appended` is notified after each commit so appliers wake at once.
    /// The task ends when every `EventLog` clone is dropped, after committing what was queued.
    pub fn start(pool: PgPool, appended: Arc<Notify>) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_batches(pool, receiver, appended));
        (Self { sender }, task)
    }

    /// Stores `body` durably; returns once it is committed.
    pub async fn append(&self, app_id: i64, body: Bytes) -> anyhow::Result<()> {
        let (committed, receipt) = oneshot::channel();
        self.sender
            .send(Append {
                app_id,
                body,
                committed,
            })
            .await
            .ok()
            .context("the event log writer has stopped")?;
        receipt
            .await
            .context("the event log writer has stopped")?
            // The error itself, not its text, so callers can tell an unreachable database apart.
            .map_err(|error| anyhow::Error::new(error).context("store webhook event"))
    }
}

async fn write_batches(pool: PgPool, mut receiver: mpsc::Receiver<Append>, appended: Arc<Notify>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let app_ids: Vec<i64> = batch.iter().map(|a| a.app_id).collect();
        let bodies: Vec<&[u8]> = batch.iter().map(|a| a.body.as_ref()).collect();
        let result = sqlx::query!(
            "insert into webhook_events (app_id, body) select * from unnest($1::bigint[], $2::bytea[])",
            &app_ids,
            &bodies as &[&[u8]]
        )
        .execute(&pool)
        .await
        .map(drop)
        .map_err(Arc::new);
        if let Err(error) = &result {
            tracing::error!(error = ?error, events = batch.len(), "could not store webhook events");
        } else {
            appended.notify_waiters();
        }
        for append in batch.drain(..) {
            // The request may have gone (client disconnected); its event is stored all the same.
            let _ = append.committed.send(result.clone());
        }
    }
}
