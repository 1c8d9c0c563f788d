//! `GET /inbox/events`: live updates for an agent's open pages, as Server-Sent Events. Each
//! process has one listener on the core's change events (`domain::events::Hub`, a `LISTEN` on
//! PostgreSQL, so changes made through any instance arrive); each stream passes on its tenant's
//! changes only: ids and kinds, never content, which the page then fetches with the agent's
//! session like any other page. A browser that reconnects (it sends `Last-Event-ID`), a stream that
//! fell behind, or a listener that lost its connection gets `resync`: the page re-fetches what it
//! shows, so nothing is lost. So does a page whose tenant changed between its render and its
//! stream's start: the page says when it was rendered (`?since=`, milliseconds since the epoch),
//! and the hub remembers when it heard each tenant's latest changes. Streams end when the server starts shutting down, so a deploy never
//! waits on them.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use chrono::DateTime;
use futures_util::{Stream, stream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::auth::Agent;
use crate::{
    domain::{
        events::{Change, Signal},
        ids::TenantId,
    },
    http::{AppState, extract::Query},
    metrics,
};

/// One agent's stream.
struct Live {
    signals: broadcast::Receiver<Signal>,
    tenant_id: TenantId,
    stop: CancellationToken,
    /// Events sent so far: each event's id.
    sent: u64,
    /// Whether the next event must be `resync` (a reconnection).
    resync: bool,
    _open: OpenStream,
}

/// Counts the stream in the `switchboard_sse_clients` gauge while it is open.
struct OpenStream;

impl OpenStream {
    fn new() -> Self {
        metrics::sse_clients(1.0);
        Self
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::sse_clients(-1.0);
    }
}

#[derive(Deserialize)]
pub struct EventsParams {
    /// When the page was rendered, in milliseconds since the epoch.
    since: Option<i64>,
}

pub async fn events(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
    Query(params): Query<EventsParams>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let signals = state.changes.subscribe();
    let missed_since_render = params
        .since
        .and_then(DateTime::from_timestamp_millis)
        .is_some_and(|rendered| state.changes.changed_since(agent.tenant_id, rendered));
    let live = Live {
        signals,
        tenant_id: agent.tenant_id,
        stop: state.streams.clone(),
        sent: 0,
        resync: headers.contains_key("last-event-id") || missed_since_render,
        _open: OpenStream::new(),
    };
    Sse::new(stream::unfold(live, next)).keep_alive(KeepAlive::default())
}

/// The stream's next event; `None` ends it.
async fn next(mut live: Live) -> Option<(Result<Event, Infallible>, Live)> {
    if std::mem::take(&mut live.resync) {
        return Some((Ok(live.event("resync", String::new())), live));
    }
    loop {
        let signal = tokio::select! {
            () = live.stop.cancelled() => return None,
            signal = live.signals.recv() => signal,
        };
        let event = match signal {
            Ok(Signal::Change(change)) if change.tenant_id == live.tenant_id => {
                live.event("change", payload(&change))
            }
            Ok(Signal::Change(_)) => continue,
            Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => live.event("resync", String::new()),
            Err(RecvError::Closed) => return None,
        };
        return Some((Ok(event), live));
    }
}

impl Live {
    fn event(&mut self, name: &str, data: String) -> Event {
        self.sent += 1;
        Event::default()
            .event(name)
            .id(self.sent.to_string())
            .data(data)
    }
}

/// `{"conversation": 12, "message": 34, "kinds": ["message_added"]}`.
fn payload(change: &Change) -> String {
    let kinds: Vec<&str> = change.kinds.iter().map(|k| k.as_str()).collect();
    json!({
        "conversation": change.conversation_id,
        "message": change.message_id,
        "kinds": kinds,
    })
    .to_string()
}
