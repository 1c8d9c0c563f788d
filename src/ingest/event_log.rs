//! The append side: requests hand their raw body to one writer task, which inserts whatever has
//! queued up in one statement and one commit (a group commit), then answers each request. Under load
//! the batches grow, so throughput rises with concurrency instead of queueing on fsyncs.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use sqlx::PgPool;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::domain::ids::AppId;

/// The most events committed together.
const MAX_BATCH: usize = 512;

/// Handle for appending verified webhook bodies; cheap to clone.
#[derive(Clone)]
pub struct EventLog {
    sender: mpsc::Sender<Append>,
}

struct Append {
    app_id: AppId,
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
    pub async fn append(&self, app_id: AppId, body: Bytes) -> anyhow::Result<()> {
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
        let app_ids: Vec<i64> = batch.iter().map(|a| a.app_id.get()).collect();
        let bodies: Vec<&[u8]> = batch.iter().map(|a| a.body.as_ref()).collect();
        let priorities: Vec<i16> = bodies.iter().map(|b| priority(b)).collect();
        let result = sqlx::query!(
            "insert into webhook_events (app_id, body, priority)
             select * from unnest($1::bigint[], $2::bytea[], $3::smallint[])",
            &app_ids,
            &bodies as &[&[u8]],
            &priorities
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

/// 0 for a body that carries customer messages (a `"messages":` key), applied first; 1 otherwise.
/// A byte scan, not a parse: the writer must stay cheap, and a wrong guess only changes the order.
fn priority(body: &[u8]) -> i16 {
    const KEY: &[u8] = b"\"messages\"";
    let carries_messages = body.windows(KEY.len()).enumerate().any(|(at, window)| {
        window == KEY
            && body[at + KEY.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b':')
    });
    if carries_messages { 0 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::priority;

    #[test]
    fn events_with_customer_messages_come_first() {
        let message = br#"{"changes":[{"value":{"messages" : [{"id":"w"}]},"field":"messages"}]}"#;
        let status = br#"{"changes":[{"value":{"statuses":[{"id":"w"}]},"field":"messages"}]}"#;
        assert_eq!(priority(message), 0);
        assert_eq!(priority(status), 1);
        assert_eq!(priority(b"{not json"), 1);
    }
}
