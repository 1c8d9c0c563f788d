//! Waiting for Meta's answer to a queued message. The Meta-compatible endpoint holds a program's
//! request until the delivery worker (of this process or another) has called Meta, so that the
//! program sees Meta's wamid, or Meta's error, as if it had called Meta itself. The worker's
//! recorder announces every status change (`message_status`); one task per process hears them
//! through the change [`Hub`] and wakes the requests waiting for those messages. Each also reads
//! its message every [`POLL`], so that a change announced while the listener reconnected is never
//! waited for in vain.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context;
use sqlx::PgPool;
use tokio::{
    sync::{Notify, broadcast::error::RecvError},
    time::Instant,
};

use crate::domain::{
    events::{Hub, Kind, Signal},
    ids::{MessageId, TenantId},
    messages::MessageStatus,
};

/// How often a waiting request reads its message, whatever it hears (the change it waits for
/// wakes it at once; this only covers a change announced while the listener reconnected).
const POLL: Duration = Duration::from_secs(1);

/// Where a message stands for a program waiting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Meta accepted it under this wamid.
    Accepted { wamid: String },
    /// Meta refused it (or WhatsApp reported it failed), with Meta's code and words.
    Refused {
        code: Option<i32>,
        details: Option<String>,
    },
    /// The call's outcome is unknown: Meta may have the message.
    Unknown,
    /// Not sent yet when the wait ended.
    Pending,
}

/// The requests waiting in this process, by message (two retries of one request wait for the
/// same message); cheap to clone.
#[derive(Clone, Default)]
pub struct Answers {
    waiting: Arc<Mutex<HashMap<MessageId, Vec<Arc<Notify>>>>>,
}

impl Answers {
    /// Waiting requests woken by the changes `hub` hears (one task, until the hub is gone).
    pub fn start(hub: &Hub) -> Self {
        let answers = Self::default();
        let mut changes = hub.subscribe();
        let waiting = Arc::clone(&answers.waiting);
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(Signal::Change(change)) if change.kinds.contains(&Kind::MessageStatus) => {
                        let Some(message_id) = change.message_id else {
                            continue;
                        };
                        for notify in lock(&waiting).get(&message_id).into_iter().flatten() {
                            notify.notify_one();
                        }
                    }
                    Ok(Signal::Change(_)) => {}
                    // Changes went unheard: every request reads its message again.
                    Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => {
                        for notify in lock(&waiting).values().flatten() {
                            notify.notify_one();
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        answers
    }

    /// Waits until Meta has answered for the tenant's message `message_id`, or `deadline`.
    pub async fn wait(
        &self,
        db: &PgPool,
        tenant_id: TenantId,
        message_id: MessageId,
        deadline: Instant,
    ) -> anyhow::Result<Answer> {
        let notify = Arc::new(Notify::new());
        lock(&self.waiting)
            .entry(message_id)
            .or_default()
            .push(Arc::clone(&notify));
        let _registered = Registered {
            answers: self,
            message_id,
            notify: Arc::clone(&notify),
        };
        loop {
            let answer = read(db, tenant_id, message_id).await?;
            if answer != Answer::Pending || Instant::now() >= deadline {
                return Ok(answer);
            }
            tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

/// Takes a request off the waiting list when its wait ends, however it ends.
struct Registered<'a> {
    answers: &'a Answers,
    message_id: MessageId,
    notify: Arc<Notify>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut waiting = lock(&self.answers.waiting);
        if let Some(waiters) = waiting.get_mut(&self.message_id) {
            waiters.retain(|notify| !Arc::ptr_eq(notify, &self.notify));
            if waiters.is_empty() {
                waiting.remove(&self.message_id);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent whatever panicked while holding it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the message stands now.
async fn read(db: &PgPool, tenant_id: TenantId, message_id: MessageId) -> anyhow::Result<Answer> {
    let row = sqlx::query!(
        r#"select status as "status: MessageStatus", wamid, error_code, error_details
           from messages where tenant_id = $1 and id = $2"#,
        tenant_id as TenantId,
        message_id as MessageId
    )
    .fetch_one(db)
    .await
    .context("read a sent message's answer")?;
    // A message Meta accepted and WhatsApp failed later was accepted, as Meta answered it.
    Ok(match (row.status, row.wamid) {
        (MessageStatus::Queued | MessageStatus::Sending, _) => Answer::Pending,
        (_, Some(wamid)) => Answer::Accepted { wamid },
        (MessageStatus::Failed, None) => Answer::Refused {
            code: row.error_code,
            details: row.error_details,
        },
        (MessageStatus::Unknown, None) => Answer::Unknown,
        (_, None) => Answer::Pending,
    })
}
