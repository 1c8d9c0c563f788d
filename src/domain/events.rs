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

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
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
    recent: Arc<Mutex<Recent>>,
}

/// When the listener heard each tenant's latest changes, so a page rendered a moment before its
/// stream connected can be told whether it missed one ([`Hub::changed_since`]).
struct Recent {
    /// (tenant, when heard), oldest first, at most [`RECENT`].
    heard: VecDeque<(TenantId, DateTime<Utc>)>,
    /// Since when `heard` holds every change heard: the listener's start or reconnection, or
    /// the last entry dropped to make room.
    complete_since: DateTime<Utc>,
}

/// How many changes [`Recent`] remembers: a page whose stream connects later than that many
/// changes after its render is told to re-fetch.
const RECENT: usize = 4096;

/// How far apart two processes' clocks may be: a page rendered by one process and streamed by
/// another is compared with changes heard up to this long before its render.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(2);

impl Recent {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            heard: VecDeque::new(),
            complete_since: now,
        }
    }

    fn heard(&mut self, tenant_id: TenantId, at: DateTime<Utc>) {
        if self.heard.len() == RECENT
            && let Some((_, dropped)) = self.heard.pop_front()
        {
            self.complete_since = dropped;
        }
        self.heard.push_back((tenant_id, at));
    }

    fn missed(&mut self, now: DateTime<Utc>) {
        self.heard.clear();
        self.complete_since = now;
    }

    /// Whether a change of `tenant_id` may have been heard since `since` (less [`CLOCK_SKEW`]):
    /// one was, or the record does not reach back that far.
    fn changed_since(&self, tenant_id: TenantId, since: DateTime<Utc>) -> bool {
        let since = since - CLOCK_SKEW;
        since < self.complete_since
            || self
                .heard
                .iter()
                .rev()
                .take_while(|(_, at)| *at >= since)
                .any(|(tenant, _)| *tenant == tenant_id)
    }
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
        Self {
            sender,
            recent: Arc::new(Mutex::new(Recent::new(Utc::now()))),
        }
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

    /// Whether `tenant_id` may have changed since `since` (a page's render): subscribe first, then
    /// ask, so a change is either told here or heard by the subscription (or both).
    pub fn changed_since(&self, tenant_id: TenantId, since: DateTime<Utc>) -> bool {
        self.recent().changed_since(tenant_id, since)
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        // The record stays consistent whatever panicked while holding it.
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fan_out(self, mut listener: PgListener, shutdown: CancellationToken) {
        loop {
            let notification = tokio::select! {
                notification = listener.try_recv() => notification,
                () = shutdown.cancelled() => return,
            };
            match notification {
                Ok(Some(notification)) => match Change::parse(notification.payload()) {
                    Ok(change) => {
                        self.recent().heard(change.tenant_id, Utc::now());
                        // No subscriber is not an error.
                        drop(self.sender.send(Signal::Change(change)));
                    }
                    Err(error) => tracing::error!(error = ?error, "unreadable change event"),
                },
                // The connection was lost and is re-established by the next `try_recv`;
                // notifications sent meanwhile are gone.
                Ok(None) => {
                    tracing::warn!("change listener reconnected; events may have been missed");
                    self.recent().missed(Utc::now());
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
    fn a_page_is_told_of_its_tenants_changes_since_its_render_and_of_gaps() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let (ours, theirs) = (TenantId::new(1), TenantId::new(2));
        let at = |seconds: i64| start + TimeDelta::seconds(seconds);
        let mut recent = Recent::new(start);
        recent.heard(ours, at(10));
        recent.heard(theirs, at(20));
        // A render at 20 s may have missed our change at 10 s only if clocks differ by 10 s.
        assert!(!recent.changed_since(ours, at(20)));
        assert!(recent.changed_since(ours, at(11)), "within the clock skew");
        assert!(recent.changed_since(theirs, at(20)));
        // A render before the record begins cannot be vouched for.
        assert!(recent.changed_since(ours, at(-5)));
        // Nor one whose changes were pushed out of the record, nor across a reconnection.
        for n in 0..RECENT {
            recent.heard(theirs, at(100 + i64::try_from(n).unwrap()));
        }
        assert!(recent.changed_since(ours, at(20)));
        assert!(!recent.changed_since(ours, at(5_000)));
        recent.missed(at(6_000));
        assert!(recent.changed_since(ours, at(5_000)));
        assert!(!recent.changed_since(ours, at(6_003)));
    }

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
