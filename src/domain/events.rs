//! Change events: what an agent's screen must show, announced by the writers. Each writer calls the
//! SQL function `announce(tenant, conversation, message, kinds)` in the statement that makes the
//! change, so the NOTIFY is sent when (and only if) that transaction commits, and a listener never
//! sees an event before its data. Payloads are small and carry no message bodies: listeners read
//! what changed, scoped by tenant. One [`Hub`] per process listens and fans the events out; the
//! inbox's live updates and the API's outbound webhooks are built on it.
//!
//! The kinds, and who announces them:
//! - `message_added`: a message in the conversation: the customer's, an agent's queued reply, or
//!   an echo from the WhatsApp Business app (ingest, send service).
//! - `message_changed`: a message's content changed: the sender edited or deleted it (ingest).
//! - `message_status`: an outbound message moved: sent, delivered, read, failed, unknown, queued
//!   again (ingest statuses, the delivery recorder and sweep, retries).
//! - `reaction`: a reaction was added, changed or removed (ingest).
//! - `window`: the 24-hour window opened (the customer wrote) or WhatsApp closed it (131047).
//!   Its closing by time is not an event: screens count down to it.
//! - `unread`: the conversation's unread count changed.
//! - `conversation_status`: open / pending / resolved may have changed (a customer message reopens).
//! - `assignment`: the conversation's assignee changed.
//! - `contact`: the customer's details changed (e.g. a marketing opt-out).
//! - `timeline`: a note or an event (assigned, resolved, labelled…) joined the timeline (the inbox's
//!   teamwork; with `assignment`, `conversation_status` or `labels` when one of those changed).
//! - `labels`: the conversation's labels changed (the inbox's teamwork).
//! - `viewers`: an agent opened the conversation ("Ana is viewing").

use anyhow::Context;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool, postgres::PgListener};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::ids::{ConversationId, MessageId, TenantId};

/// The NOTIFY channel `announce()` uses.
pub const CHANNEL: &str = "inbox_changes";

/// What changed; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MessageAdded,
    MessageChanged,
    MessageStatus,
    Reaction,
    Window,
    Unread,
    ConversationStatus,
    Assignment,
    Contact,
    Timeline,
    Labels,
    Viewers,
}

impl Kind {
    /// The name `announce()` carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageAdded => "message_added",
            Self::MessageChanged => "message_changed",
            Self::MessageStatus => "message_status",
            Self::Reaction => "reaction",
            Self::Window => "window",
            Self::Unread => "unread",
            Self::ConversationStatus => "conversation_status",
            Self::Assignment => "assignment",
            Self::Contact => "contact",
            Self::Timeline => "timeline",
            Self::Labels => "labels",
            Self::Viewers => "viewers",
        }
    }
}

/// Announces a change within the caller's transaction (it is sent when that commits). Writers
/// that change many rows in one statement call `announce()` in that statement instead.
pub async fn announce(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    message_id: Option<MessageId>,
    kinds: &[Kind],
) -> anyhow::Result<()> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    sqlx::query!(
        "select announce($1, $2, $3, $4)",
        tenant_id as TenantId,
        conversation_id as ConversationId,
        message_id as Option<MessageId>,
        &kinds as &[&str]
    )
    .execute(conn)
    .await
    .context("announce a change")?;
    Ok(())
}

/// One announced change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Change {
    #[serde(rename = "tenant")]
    pub tenant_id: TenantId,
    #[serde(rename = "conversation")]
    pub conversation_id: ConversationId,
    /// The message concerned, for message kinds.
    #[serde(rename = "message")]
    pub message_id: Option<MessageId>,
    pub kinds: Vec<Kind>,
}

impl Change {
    /// Reads a NOTIFY payload.
    pub fn parse(payload: &str) -> anyhow::Result<Self> {
        serde_json::from_str(payload).with_context(|| format!("change event {payload:?}"))
    }
}

/// How many events a slow subscriber may fall behind before it misses some (and is told so by
/// `RecvError::Lagged`, to reload what it shows).
const BUFFER: usize = 4096;

/// What a subscriber hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Change(Change),
    /// The listener lost its connection and reconnected: changes made meanwhile were not heard,
    /// so whatever a subscriber shows may be stale.
    Missed,
}

/// The process's one listener, fanning change events out to subscribers; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Signal>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with no listener yet: subscribers hear nothing until [`Hub::listen`].
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BUFFER);
        Self { sender }
    }

    /// A hub already listening (see [`Hub::listen`]).
    pub async fn start(db: PgPool, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let hub = Self::new();
        hub.listen(db, shutdown).await?;
        Ok(hub)
    }

    /// Connects the listener and fans out until `shutdown`. A lost connection is reconnected, and
    /// subscribers are told they may have missed changes meanwhile ([`Signal::Missed`]). The
    /// listener holds one of `db`'s connections until `shutdown` (so close the pool after that).
    pub async fn listen(&self, db: PgPool, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut listener = PgListener::connect_with(&db)
            .await
            .context("connect the change listener")?;
        listener
            .listen(CHANNEL)
            .await
            .context("LISTEN for changes")?;
        tokio::spawn(self.clone().fan_out(listener, shutdown));
        Ok(())
    }

    /// Every change from now on, of every tenant: filter by the subscriber's tenant.
    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.sender.subscribe()
    }

    async fn fan_out(self, mut listener: PgListener, shutdown: CancellationToken) {
        loop {
            let notification = tokio::select! {
                notification = listener.try_recv() => notification,
                () = shutdown.cancelled() => return,
            };
            match notification {
                Ok(Some(notification)) => match Change::parse(notification.payload()) {
                    // No subscriber is not an error.
                    Ok(change) => drop(self.sender.send(Signal::Change(change))),
                    Err(error) => tracing::error!(error = ?error, "unreadable change event"),
                },
                // The connection was lost and is re-established by the next `try_recv`;
                // notifications sent meanwhile are gone.
                Ok(None) => {
                    tracing::warn!("change listener reconnected; events may have been missed");
                    drop(self.sender.send(Signal::Missed));
                }
                Err(error) => {
                    tracing::error!(error = ?error, "change listener failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_as_announce_writes_it_is_read() {
        let change = Change::parse(
            r#"{"tenant":1,"conversation":2,"message":null,"kinds":["window","unread"]}"#,
        )
        .unwrap();
        assert_eq!(
            change,
            Change {
                tenant_id: TenantId::new(1),
                conversation_id: ConversationId::new(2),
                message_id: None,
                kinds: vec![Kind::Window, Kind::Unread],
            }
        );
        assert!(Change::parse(r#"{"tenant":1,"conversation":2,"kinds":["nope"]}"#).is_err());
        for kind in [Kind::MessageAdded, Kind::ConversationStatus, Kind::Contact] {
            let payload = format!(
                r#"{{"tenant":1,"conversation":2,"message":3,"kinds":["{}"]}}"#,
                kind.as_str()
            );
            assert_eq!(Change::parse(&payload).unwrap().kinds, [kind]);
        }
    }
}
