//! Applying stored webhook events to the inbox. Every entry, change, message and status of an event
//! is applied in one transaction; parsing happens first, so a malformed event changes nothing and is
//! marked failed with the reason. Everything is idempotent (unique keys, `greatest()`, status ranks),
//! so a duplicate delivery or a replay leaves the data as one application would.

mod account;
mod bulk;
mod changes;
mod echoes;
mod messages;
mod nul;
mod plan;
mod preferences;
mod statuses;

use anyhow::Context;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::{
    ids::{AppId, WebhookEventId},
    numbers::{self, Route},
    webhook_endpoints,
};
use plan::{Work, plan};

pub use plan::EntryInfo;

pub use statuses::{EarlyStatuses, reconcile as reconcile_statuses, sync_message_statuses};

/// A stored webhook event, as the applier reads it.
pub struct StoredEvent {
    pub id: WebhookEventId,
    pub app_id: AppId,
    pub body: Vec<u8>,
}

/// Where a stored webhook event stands (`webhook_events.state`). Variants in name order, so that
/// counts by state list the same way they did as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum EventState {
    /// Applied, possibly with some ids in it not registered under the signing app.
    Applied,
    /// Failed or unroutable, and an admin decided it needs no replay.
    Dismissed,
    /// Not a notification we can read; replayable.
    Failed,
    /// Stored, not applied yet.
    Pending,
    /// Nothing in it belongs to a number or WABA of the signing app.
    Unroutable,
}

impl EventState {
    /// The name stored, and shown to the operator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Dismissed => "dismissed",
            Self::Failed => "failed",
            Self::Pending => "pending",
            Self::Unroutable => "unroutable",
        }
    }
}

impl std::fmt::Display for EventState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What applying an event came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied; `unroutable` lists ids in it that are not registered under the signing app.
    Applied { unroutable: Vec<String> },
    /// Nothing in it belongs to a number or WABA of the signing app.
    Unroutable(Vec<String>),
    /// Not a notification we can read; nothing was applied.
    Failed(String),
}

/// Applies up to `limit` pending events in one transaction, those carrying customer messages first,
/// then oldest first; returns how many it took.
/// If that transaction fails, each event is retried on its own so that one cannot hold back others.
/// Across tenants: events are stored by app before anyone knows whose they are; routing each
/// change to its number finds its tenant.
pub async fn apply_pending(pool: &PgPool, limit: i64) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await.context("begin applying events")?;
    let events = sqlx::query_as!(
        StoredEvent,
        r#"select id as "id: WebhookEventId", app_id as "app_id: AppId", body
           from webhook_events where state = 'pending'
           order by priority, id limit $1 for update skip locked"#,
        limit
    )
    .fetch_all(&mut *tx)
    .await
    .context("claim pending events")?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut events = events;
    // Every step is idempotent and order-independent, so the batch can go in any order: a fixed
    // (number, customer) order makes concurrent appliers, in this or another instance, take the
    // contact and conversation locks in the same order, so they cannot deadlock.
    events.sort_by_cached_key(|event| lock_order(&event.body));
    let mut early = EarlyStatuses::default();
    match apply_all(&mut tx, &events, &mut early).await {
        Ok(()) => {
            tx.commit().await.context("commit applied events")?;
            early.sync(pool).await?;
        }
        Err(error) => {
            tracing::warn!(error = ?error, "batch failed; applying its events one by one");
            tx.rollback().await.context("roll back failed batch")?;
            for event in &events {
                apply_alone(pool, event.id).await?;
            }
        }
    }
    Ok(events.len())
}

/// The (phone number id, customer) an event's first message or status is about; events we
/// cannot read sort first (they change nothing).
fn lock_order(body: &[u8]) -> (String, String) {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        entry: Vec<OrderEntry>,
    }
    #[derive(Deserialize)]
    struct OrderEntry {
        #[serde(default)]
        changes: Vec<OrderChange>,
    }
    #[derive(Deserialize)]
    struct OrderChange {
        #[serde(default)]
        value: OrderValue,
    }
    #[derive(Deserialize, Default)]
    struct OrderValue {
        #[serde(default)]
        metadata: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        messages: Vec<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        statuses: Vec<serde_json::Map<String, serde_json::Value>>,
    }
    let text = |map: Option<&serde_json::Map<String, serde_json::Value>>, key: &str| {
        map.and_then(|m| m.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let Ok(body) = serde_json::from_slice::<Body>(body) else {
        return Default::default();
    };
    let Some(value) = body
        .entry
        .iter()
        .flat_map(|e| &e.changes)
        .map(|c| &c.value)
        .next()
    else {
        return Default::default();
    };
    let customer = match value.messages.first() {
        Some(message) => text(Some(message), "from"),
        None => text(value.statuses.first(), "recipient_id"),
    };
    (text(value.metadata.as_ref(), "phone_number_id"), customer)
}

/// Applies a batch: the plain `messages` changes of every event set-based ([`bulk`]), the rest
/// (account events, reactions, edits, echoes, events for numbers not registered under their app)
/// event by event; then records each event's outcome.
async fn apply_all(
    conn: &mut PgConnection,
    events: &[StoredEvent],
    early: &mut EarlyStatuses,
) -> anyhow::Result<()> {
    let mut plain = Vec::new();
    let mut one_by_one = Vec::new();
    for event in events {
        match plan(&event.body) {
            Ok(work) if !work.is_empty() && work.iter().all(|w| w.plain_messages().is_some()) => {
                plain.push((event, work));
            }
            Ok(_) => one_by_one.push(event),
            Err(reason) => record_outcome(conn, event.id, &Outcome::Failed(reason)).await?,
        }
    }
    let routable: Vec<bulk::Routable<'_>> = plain
        .iter()
        .flat_map(|(event, work)| {
            work.iter()
                .filter_map(|w| w.plain_messages())
                .map(|change| bulk::Routable {
                    app_id: event.app_id,
                    change,
                })
        })
        .collect();
    let routes = bulk::routes(conn, &routable).await?;
    let mut routed = Vec::new();
    let mut applied = Vec::new();
    for (event, work) in &plain {
        let resolved: Option<Vec<(Route, &messages::MessagesChange)>> = work
            .iter()
            .filter_map(|w| w.plain_messages())
            .map(|c| Some((*routes.get(&(event.app_id, c.phone_number_id.clone()))?, c)))
            .collect();
        match resolved {
            Some(resolved) => {
                routed.extend(resolved);
                applied.push(event.id);
            }
            // Some of it is for a number not registered under this app: the per-event path
            // applies what it can and records the rest as unroutable.
            None => one_by_one.push(event),
        }
    }
    bulk::apply(conn, &routed, early).await?;
    record_applied(conn, &applied).await?;
    for event in one_by_one {
        let outcome = apply_event(conn, event, early).await?;
        record_outcome(conn, event.id, &outcome).await?;
    }
    Ok(())
}

/// Applies one event in its own transaction; an error that is not the database going away marks
/// the event failed (replayable), so it is not retried forever.
async fn apply_alone(pool: &PgPool, id: WebhookEventId) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("begin applying event")?;
    let event = sqlx::query_as!(
        StoredEvent,
        r#"select id as "id: WebhookEventId", app_id as "app_id: AppId", body
           from webhook_events where id = $1 and state = 'pending'
           for update skip locked"#,
        id as WebhookEventId
    )
    .fetch_optional(&mut *tx)
    .await
    .context("claim event")?;
    let Some(event) = event else { return Ok(()) };
    let mut early = EarlyStatuses::default();
    match apply_event(&mut tx, &event, &mut early).await {
        Ok(outcome) => {
            record_outcome(&mut tx, id, &outcome).await?;
            tx.commit().await.context("commit applied event")?;
            early.sync(pool).await?;
        }
        Err(error) => {
            tx.rollback().await.context("roll back failed event")?;
            tracing::error!(event_id = %id, error = ?error, "webhook event could not be applied");
            let mut conn = pool.acquire().await.context("record failed event")?;
            record_outcome(&mut conn, id, &Outcome::Failed(format!("{error:#}"))).await?;
        }
    }
    Ok(())
}

/// Applies one event's changes within the caller's transaction; statuses of messages not known yet
/// go to `early`, for the caller to sync once it has committed.
pub async fn apply_event(
    conn: &mut PgConnection,
    event: &StoredEvent,
    early: &mut EarlyStatuses,
) -> anyhow::Result<Outcome> {
    let work = match plan(&event.body) {
        Ok(work) => work,
        Err(reason) => return Ok(Outcome::Failed(reason)),
    };
    let mut unroutable = Vec::new();
    let mut routed = work.is_empty();
    for item in work {
        let target = match item {
            Work::Messages(change) => {
                match numbers::route_for_app(conn, event.app_id, &change.phone_number_id).await? {
                    Some(route) => messages::apply(conn, route, change, early).await.map(Ok)?,
                    None => Err(change.phone_number_id),
                }
            }
            Work::Echoes(change) => {
                match numbers::route_for_app(conn, event.app_id, &change.phone_number_id).await? {
                    Some(route) => echoes::apply(conn, route, change).await.map(Ok)?,
                    None => Err(change.phone_number_id),
                }
            }
            Work::Preferences(change) => {
                match numbers::route_for_app(conn, event.app_id, &change.phone_number_id).await? {
                    Some(route) => preferences::apply(conn, route, change).await.map(Ok)?,
                    None => Err(change.phone_number_id),
                }
            }
            Work::Template {
                entry,
                event: template,
            } => account::apply_template(conn, event.app_id, &entry, template).await?,
            Work::Number {
                entry,
                event: number,
            } => account::apply_number(conn, event.app_id, &entry, number).await?,
            Work::Other { field } => {
                tracing::info!(
                    event_id = %event.id,
                    field,
                    "stored a webhook field that has no handler"
                );
                Ok(())
            }
        };
        match target {
            Ok(()) => routed = true,
            Err(id) => {
                tracing::warn!(
                    event_id = %event.id,
                    id,
                    "webhook for a number or WABA not registered under this app"
                );
                unroutable.push(id);
            }
        }
    }
    Ok(if routed {
        Outcome::Applied { unroutable }
    } else {
        Outcome::Unroutable(unroutable)
    })
}

/// Marks events applied whole, and queues them for the tenants' `meta` webhook endpoints.
async fn record_applied(conn: &mut PgConnection, applied: &[WebhookEventId]) -> anyhow::Result<()> {
    let ids: Vec<i64> = applied.iter().map(|id| id.get()).collect();
    sqlx::query!(
        "update webhook_events
         set state = 'applied', error = null, unroutable = '{}', attempts = attempts + 1,
             applied_at = now()
         where id = any($1)",
        &ids
    )
    .execute(&mut *conn)
    .await
    .context("record applied events")?;
    webhook_endpoints::forward_meta(conn, applied).await
}

async fn record_outcome(
    conn: &mut PgConnection,
    id: WebhookEventId,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let (state, error, unroutable) = match outcome {
        Outcome::Applied { unroutable } => (EventState::Applied, None, unroutable.as_slice()),
        Outcome::Unroutable(ids) => (EventState::Unroutable, None, ids.as_slice()),
        Outcome::Failed(reason) => (EventState::Failed, Some(reason.as_str()), [].as_slice()),
    };
    if let Outcome::Failed(reason) = outcome {
        tracing::warn!(
            event_id = %id,
            reason,
            "webhook event failed; stored for replay"
        );
    }
    sqlx::query!(
        "update webhook_events
         set state = $2, error = $3, unroutable = $4, attempts = attempts + 1, applied_at = now()
         where id = $1",
        id as WebhookEventId,
        state as EventState,
        error,
        unroutable
    )
    .execute(&mut *conn)
    .await
    .context("record event outcome")?;
    if state == EventState::Applied {
        webhook_endpoints::forward_meta(conn, &[id]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::lock_order;

    #[test]
    fn events_order_by_number_then_customer_and_unreadable_ones_first() {
        let message = br#"{"entry":[{"changes":[{"field":"messages","value":{
            "metadata":{"phone_number_id":"111"},"messages":[{"from":"15550002222","id":"w"}]}}]}]}"#;
        let status = br#"{"entry":[{"changes":[{"field":"messages","value":{
            "metadata":{"phone_number_id":"111"},"statuses":[{"recipient_id":"15550001111"}]}}]}]}"#;
        assert_eq!(lock_order(message), ("111".into(), "15550002222".into()));
        assert_eq!(lock_order(status), ("111".into(), "15550001111".into()));
        assert_eq!(lock_order(b"{not json"), Default::default());
        assert!(
            lock_order(b"{not json") < lock_order(status)
                && lock_order(status) < lock_order(message)
        );
    }
}
