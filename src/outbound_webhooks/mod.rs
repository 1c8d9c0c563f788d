//! The deliverer of outbound webhooks: sends what `webhook_deliveries` holds (see
//! [`crate::domain::webhook_endpoints`] for how events get there) to the tenants' endpoints, at
//! least once, each event with its stable id, signed ([`signing`]), never to a private address
//! ([`guard`]).
//!
//! - Order: an endpoint's deliveries with the same order key (a conversation, or a customer's
//!   Meta payloads on a number) go one at a time in id order; a failing one holds back only the
//!   later ones of its key.
//! - Retries: a delivery that fails (no 2xx within [`TIMEOUT`], a redirect, a refused address) is
//!   tried again after 10 s, 20 s, 40 s… (at most an hour apart) for 24 hours, then given up.
//!   A receiver that does not answer at all is down: its endpoint is then left alone for as long
//!   (at most 30 s; `webhook_endpoints.backoff_until`), so that it costs an attempt now and then
//!   rather than a timeout per event; once it answers again, what waited for it is due at once.
//!   A key's later deliveries are queued waiting and made due one by one as those before them are
//!   done, so a claim reads what can go, not what waits behind an endpoint that is down
//!   (migration `webhook_deliveries_wait_their_turn`). An endpoint that has not
//!   had a success for 24 hours is turned off and the admin told (console and audit trail); what
//!   was queued for it waits for it to be turned on, and nothing new is queued for it meanwhile.
//! - Several processes share the work: a delivery is leased by the one sending it
//!   (`FOR UPDATE SKIP LOCKED`, then `leased_until`).
//! - Once a minute, the windows about to close and closed are told (`webhook_window_events()`),
//!   and delivered entries older than the retention period are deleted.
//! - Woken when deliveries are queued (`LISTEN` on [`CHANNEL`], notified by a trigger on
//!   `webhook_deliveries`); it also looks every [`IDLE`] for retries come due.

pub mod guard;
pub mod signing;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    crypto::Cipher,
    db,
    domain::{
        audit,
        ids::{TenantId, WebhookDeliveryId, WebhookEndpointId},
        webhook_endpoints::{self, Format},
    },
    whatsapp,
};

pub use guard::Guard;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries claimed at once, and sent at the same time.
const BATCH: i64 = 200;
/// The most of a batch one endpoint takes, so that a busy one never holds up the others.
const PER_ENDPOINT: i64 = 50;
/// How long a claimed delivery is the claimer's: well over [`TIMEOUT`].
const LEASE_SECONDS: f64 = 60.0;
/// How long an event is retried before it is given up.
const GIVE_UP_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// The longest an endpoint that did not answer is left alone before its other deliveries are
/// tried.
const ENDPOINT_BACKOFF: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How long an endpoint may fail without a success before it is turned off.
const DISABLE_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// How much of a receiver's answer the log keeps.
const SNIPPET: usize = 500;
/// How often the deliverer looks for work when nothing woke it: for retries come due.
pub const IDLE: Duration = Duration::from_millis(200);
/// The channel a statement that queues deliveries notifies (migration
/// `webhook_deliveries_wake_the_deliverer`).
pub const CHANNEL: &str = "webhook_deliveries";
/// How often window events are looked for, and old entries deleted.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

/// Sends the deliveries; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    db: PgPool,
    cipher: Cipher,
    http: reqwest::Client,
    guard: Guard,
    /// How long delivered entries stay in the log.
    retention: Duration,
    /// How often [`Deliverer::run`] looks for work when nothing woke it.
    idle: Duration,
}

/// A claimed delivery, with where and how it goes.
struct Claimed {
    id: WebhookDeliveryId,
    tenant_id: TenantId,
    endpoint_id: WebhookEndpointId,
    event_id: String,
    event_type: String,
    body: Vec<u8>,
    attempts: i32,
    created_at: DateTime<Utc>,
    url: String,
    format: Format,
    secret_encrypted: Vec<u8>,
}

/// What one attempt found.
struct Attempt {
    /// The receiver's HTTP status, if it answered.
    status: Option<u16>,
    /// Why it failed, in words (none for a 2xx).
    error: Option<String>,
    latency: Duration,
    snippet: Option<String>,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

impl Deliverer {
    /// A deliverer on `db`; `allowed_hosts` may be private (`WEBHOOK_ALLOWED_HOSTS`).
    pub fn new(
        db: PgPool,
        cipher: Cipher,
        allowed_hosts: &[String],
        retention: Duration,
    ) -> anyhow::Result<Self> {
        let guard = Guard::new(allowed_hosts);
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(guard.clone()))
            .build()
            .context("build the webhook client")?;
        Ok(Self {
            db,
            cipher,
            http,
            guard,
            retention,
            idle: IDLE,
        })
    }

    /// Looks for work every `idle` when nothing wakes it (instead of [`IDLE`]).
    #[must_use]
    pub fn polling_every(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Delivers until `shutdown`, finishing the batch in flight.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = match db::listen(&self.db, CHANNEL).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot LISTEN for queued webhooks; polling only");
                None
            }
        };
        let mut housekeeping = Instant::now();
        while !shutdown.is_cancelled() {
            if housekeeping.elapsed() >= HOUSEKEEPING {
                housekeeping = Instant::now();
                if let Err(error) = self.housekeep().await {
                    tracing::warn!(error = ?error, "webhook housekeeping failed");
                }
            }
            let sent = match self.deliver_due().await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::warn!(error = ?error, "webhook delivery round failed");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.idle) => {}
                    notification = db::notified(&mut listener) => if let Err(error) = notification {
                        tracing::warn!(error = ?error, "LISTEN connection lost; reconnecting");
                        tokio::time::sleep(self.idle).await;
                    },
                }
            }
        }
    }

    /// Claims the deliveries due (at most a batch), sends them at once and records the outcomes
    /// (the successes together); returns how many were sent.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let claimed = self.claim().await?;
        let count = claimed.len();
        let attempts: Vec<(Claimed, Attempt)> = futures_util::stream::iter(claimed)
            .map(|delivery| async move {
                let attempt = self.send(&delivery).await;
                (delivery, attempt)
            })
            .buffer_unordered(count.max(1))
            .collect()
            .await;
        let (delivered, failed): (Vec<_>, Vec<_>) = attempts
            .into_iter()
            .partition(|(_, attempt)| attempt.succeeded());
        // A record that fails leaves its leases to run out: those are sent again (at least once).
        if let Err(error) = self.record_delivered(&delivered).await {
            tracing::warn!(error = ?error, "could not record delivered webhooks");
        }
        for (delivery, attempt) in &failed {
            if let Err(error) = self.record_failure(delivery, attempt).await {
                tracing::warn!(delivery_id = %delivery.id, error = ?error,
                               "could not record a failed webhook delivery");
            }
        }
        Ok(count)
    }

    /// Tells window events and deletes old log entries.
    pub async fn housekeep(&self) -> anyhow::Result<()> {
        sqlx::query_scalar!(r#"select webhook_window_events(1000) as "told!""#)
            .fetch_one(&self.db)
            .await
            .context("tell window events")?;
        sqlx::query!(
            "delete from webhook_deliveries where id in (
                 select id from webhook_deliveries
                 where state <> 'pending' and created_at < now() - make_interval(secs => $1)
                 limit 10000)",
            self.retention.as_secs_f64()
        )
        .execute(&self.db)
        .await
        .context("delete old webhook deliveries")?;
        Ok(())
    }

    /// Leases the due deliveries whose earlier ones of the same key are done, of endpoints that
    /// are on and not backing off.
    async fn claim(&self) -> anyhow::Result<Vec<Claimed>> {
        sqlx::query_as!(
            Claimed,
            r#"with due as (
                   -- Endpoint by endpoint, in a new order each time (one that is off or
                   -- backing off costs nothing; a busy one takes at most $3 of a batch), its
                   -- due deliveries that are the first pending of their key.
                   select d.id from (
                       select e.id from webhook_endpoints e
                       where e.disabled_at is null
                         and (e.backoff_until is null or e.backoff_until <= now())
                       order by random()
                   ) e
                   cross join lateral (
                       select d.id from webhook_deliveries d
                       where d.endpoint_id = e.id and d.state = 'pending'
                         and d.next_attempt_at <= now()
                         and (d.leased_until is null or d.leased_until < now())
                         -- Asked per row (a subquery with its own limit), so that no plan
                         -- computes it for every pending delivery.
                         and d.id = (select p.id from webhook_deliveries p
                                     where p.endpoint_id = d.endpoint_id
                                       and p.order_key = d.order_key and p.state = 'pending'
                                     order by p.id limit 1)
                       order by d.next_attempt_at, d.id
                       limit $3
                       for update skip locked
                   ) d
                   limit $1
               )
               update webhook_deliveries d
               set leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1,
                   last_attempt_at = now()
               from due, webhook_endpoints e
               where d.id = due.id and e.id = d.endpoint_id
               returning d.id as "id: WebhookDeliveryId", d.tenant_id as "tenant_id: TenantId",
                         d.endpoint_id as "endpoint_id: WebhookEndpointId", d.event_id,
                         d.event_type, d.body, d.attempts, d.created_at, e.url,
                         e.format as "format: Format", e.secret_encrypted"#,
            BATCH,
            LEASE_SECONDS,
            PER_ENDPOINT
        )
        .fetch_all(&self.db)
        .await
        .context("claim webhook deliveries")
    }

    /// One attempt: the body, signed, to the endpoint.
    async fn send(&self, delivery: &Claimed) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt {
            status: None,
            error: Some(error),
            latency: started.elapsed(),
            snippet: None,
        };
        let url = match url::Url::parse(&delivery.url) {
            Ok(url) => url,
            Err(error) => return failed(format!("the URL cannot be read: {error}")),
        };
        if let Err(refused) = self.guard.check_url(&url) {
            return failed(refused);
        }
        let secret = match webhook_endpoints::open_secret(
            &self.cipher,
            delivery.tenant_id,
            &delivery.secret_encrypted,
        ) {
            Ok(secret) => secret,
            Err(error) => {
                tracing::error!(endpoint_id = %delivery.endpoint_id, error = ?error,
                                "a webhook secret cannot be opened");
                return failed(
                    "the endpoint's secret cannot be opened (see the server log)".into(),
                );
            }
        };
        let secret = secrecy::ExposeSecret::expose_secret(&secret).as_bytes();
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                USER_AGENT,
                HeaderValue::from_static("Switchboard-Webhooks/1"),
            );
        request = match delivery.format {
            Format::Meta => request.header(
                whatsapp::signature::HEADER,
                whatsapp::signature::sign(secret, &delivery.body),
            ),
            Format::Switchboard => request
                .header(
                    signing::HEADER,
                    signing::sign(secret, Utc::now().timestamp(), &delivery.body),
                )
                .header("switchboard-event-id", &delivery.event_id)
                .header("switchboard-event", &delivery.event_type),
        };
        let mut response = match request.body(delivery.body.clone()).send().await {
            Ok(response) => response,
            Err(error) => return failed(in_words(error)),
        };
        let status = response.status();
        let mut snippet = Vec::new();
        while snippet.len() < SNIPPET {
            match response.chunk().await {
                Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        snippet.truncate(SNIPPET);
        let error = if status.is_success() {
            None
        } else if status.is_redirection() {
            Some(format!("answered {status}: redirects are not followed"))
        } else {
            Some(format!("answered {status}"))
        };
        Attempt {
            status: Some(status.as_u16()),
            error,
            latency: started.elapsed(),
            snippet: Some(String::from_utf8_lossy(&snippet).into_owned()),
        }
    }

    /// Records deliveries that succeeded, and their endpoints' success, in one transaction.
    async fn record_delivered(&self, delivered: &[(Claimed, Attempt)]) -> anyhow::Result<()> {
        if delivered.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = delivered.iter().map(|(d, _)| d.id.get()).collect();
        let statuses: Vec<Option<i32>> = delivered
            .iter()
            .map(|(_, a)| a.status.map(i32::from))
            .collect();
        let latencies: Vec<i32> = delivered
            .iter()
            .map(|(_, a)| i32::try_from(a.latency.as_millis()).unwrap_or(i32::MAX))
            .collect();
        let snippets: Vec<Option<String>> =
            delivered.iter().map(|(_, a)| a.snippet.clone()).collect();
        let mut endpoints: Vec<i64> = delivered.iter().map(|(d, _)| d.endpoint_id.get()).collect();
        endpoints.sort_unstable();
        endpoints.dedup();
        let mut tx = self.db.begin().await.context("begin")?;
        sqlx::query!(
            "update webhook_deliveries d
             set state = 'delivered', leased_until = null, last_status = r.status,
                 last_error = null, last_latency_ms = r.latency, response_snippet = r.snippet
             from unnest($1::bigint[], $2::int[], $3::int[], $4::text[])
                  as r (id, status, latency, snippet)
             where d.id = r.id",
            &ids,
            &statuses as &[Option<i32>],
            &latencies,
            &snippets as &[Option<String>]
        )
        .execute(&mut *tx)
        .await
        .context("record deliveries")?;
        make_next_due(&mut tx, &ids).await?;
        // An endpoint that was failing answers again: what waits only because it did not answer
        // is due now, not at its retry's time.
        sqlx::query!(
            "update webhook_deliveries d set next_attempt_at = now()
             from webhook_endpoints e
             where e.id = any($1) and e.failing_since is not null
               and d.endpoint_id = e.id and d.state = 'pending'
               and (d.attempts = 0 or d.last_status is null)
               -- A range of `webhook_deliveries_due`: waiting ones stay waiting.
               and d.next_attempt_at > now() and d.next_attempt_at < 'infinity'",
            &endpoints
        )
        .execute(&mut *tx)
        .await
        .context("make the recovered endpoints' deliveries due")?;
        sqlx::query!(
            "update webhook_endpoints set failing_since = null, backoff_until = null
             where id = any($1) and (failing_since is not null or backoff_until is not null)",
            &endpoints
        )
        .execute(&mut *tx)
        .await
        .context("record the endpoints' success")?;
        tx.commit().await.context("commit")?;
        Ok(())
    }

    /// Records a failed attempt: retried later (the endpoint left alone meanwhile when it did not
    /// answer), given up after 24 hours, the endpoint turned off after 24 hours without a success.
    async fn record_failure(&self, delivery: &Claimed, attempt: &Attempt) -> anyhow::Result<()> {
        let latency_ms = i32::try_from(attempt.latency.as_millis()).unwrap_or(i32::MAX);
        let status = attempt.status.map(i32::from);
        let mut tx = self.db.begin().await.context("begin")?;
        let retry_at = Utc::now() + retry_delay(delivery.attempts);
        let give_up = retry_at > delivery.created_at + GIVE_UP_AFTER;
        // A receiver that did not answer at all is down: its other deliveries wait too
        // (briefly), instead of each costing a connection attempt or a timeout. One that
        // answered holds back only this delivery's key.
        let backoff_until = attempt
            .status
            .is_none()
            .then(|| Utc::now() + retry_delay(delivery.attempts).min(ENDPOINT_BACKOFF));
        sqlx::query!(
            "update webhook_deliveries
             set state = case when $6 then 'failed' else 'pending' end, leased_until = null,
                 next_attempt_at = $5, last_status = $2, last_error = $3,
                 last_latency_ms = $4, response_snippet = $7
             where id = $1",
            delivery.id as WebhookDeliveryId,
            status,
            attempt.error,
            latency_ms,
            retry_at,
            give_up,
            attempt.snippet
        )
        .execute(&mut *tx)
        .await
        .context("record a failed delivery")?;
        if give_up {
            make_next_due(&mut tx, &[delivery.id.get()]).await?;
        }
        let turned_off = sqlx::query_scalar!(
            r#"update webhook_endpoints
               set failing_since = coalesce(failing_since, now()),
                   backoff_until = greatest(backoff_until, $2),
                   disabled_at = case when failing_since < now() - make_interval(secs => $3)
                                      then coalesce(disabled_at, now()) end,
                   disabled_reason = case when failing_since < now() - make_interval(secs => $3)
                                          then coalesce(disabled_reason, $4) end
               where id = $1
               returning disabled_at is not null as "off!""#,
            delivery.endpoint_id as WebhookEndpointId,
            backoff_until,
            DISABLE_AFTER.as_seconds_f64(),
            format!(
                "Turned off after 24 hours without a successful delivery (last: {})",
                attempt.error.as_deref().unwrap_or("failed")
            )
        )
        .fetch_one(&mut *tx)
        .await
        .context("record the endpoint's failure")?;
        if turned_off {
            let details = serde_json::json!({ "endpoint_id": delivery.endpoint_id,
                                              "last_error": attempt.error });
            audit::record(
                &mut tx,
                delivery.tenant_id,
                None,
                "webhook.auto_disable",
                details,
            )
            .await?;
        }
        tx.commit().await.context("commit")?;
        Ok(())
    }
}

/// Makes due the first pending delivery of each key of `done` (deliveries just delivered or given
/// up, updated by an earlier statement of the transaction), when it was queued waiting behind
/// them. (A delivery queued meanwhile holds a lock on one of `done` until it commits, so this
/// statement sees it: migration `webhook_deliveries_wait_their_turn`.)
async fn make_next_due(conn: &mut sqlx::PgConnection, done: &[i64]) -> anyhow::Result<()> {
    sqlx::query!(
        "update webhook_deliveries d set next_attempt_at = now()
         from (select distinct endpoint_id, order_key from webhook_deliveries
               where id = any($1)) k
         cross join lateral (
             select p.id from webhook_deliveries p
             where p.endpoint_id = k.endpoint_id and p.order_key = k.order_key
               and p.state = 'pending'
             order by p.id limit 1
         ) first
         where d.id = first.id and d.next_attempt_at = 'infinity'",
        done
    )
    .execute(conn)
    .await
    .context("make the next deliveries of their conversations due")?;
    Ok(())
}

/// How long after its `attempts`-th failed attempt a delivery is tried again: 10 s, doubling, at
/// most an hour.
fn retry_delay(attempts: i32) -> chrono::TimeDelta {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    let seconds = (10_i64 << doublings).min(3600);
    chrono::TimeDelta::seconds(seconds)
}

/// A failed request in words, without the URL's query (which may hold a receiver's token).
fn in_words(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        let mut cause: Option<&dyn std::error::Error> = Some(&error);
        let mut deepest = error.to_string();
        while let Some(current) = cause {
            deepest = current.to_string();
            cause = current.source();
        }
        format!("could not connect: {deepest}")
    } else {
        format!("the request failed: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_ten_seconds_to_an_hour() {
        let seconds: Vec<i64> = [1, 2, 3, 4, 9, 10, 50]
            .map(|attempts| retry_delay(attempts).num_seconds())
            .to_vec();
        assert_eq!(seconds, [10, 20, 40, 80, 2560, 3600, 3600]);
    }
}
