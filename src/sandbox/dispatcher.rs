//! The dispatcher: posts the fake's scheduled webhooks to Switchboard when they are due, as Meta
//! does. Each is claimed from `sandbox_webhooks`, signed with its app's secret (`X-Hub-Signature-256`)
//! and POSTed to `{switchboard_url}/webhooks/whatsapp/{meta_app_id}`; an accepted one is marked
//! sent, a failed one is retried with exponential backoff (as Meta retries) and given up after
//! [`ATTEMPTS`], keeping the error. Any instance's dispatcher may post any webhook: every instance
//! serves the same webhook endpoint over the same database. Woken by `LISTEN` when webhooks are
//! scheduled, it then sleeps until the next one is due, and polls in case a notification was lost.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::webhook_queue::{self, CHANNEL, Claimed};
use crate::{crypto::Cipher, db, domain::apps::AppDirectory, whatsapp::signature};

/// Attempts per webhook, and the wait before the first retry (doubled after each failure).
const ATTEMPTS: i32 = 5;
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// How long one POST may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim holds a webhook: well past one POST, so that only a stopped dispatcher's
/// webhooks are claimed again.
const LEASE: Duration = Duration::from_secs(30);
/// How often to look for due webhooks without being woken (a lost notification, a webhook whose
/// turn in its series came on another instance).
const POLL: Duration = Duration::from_millis(500);
/// Webhooks being posted at once, per dispatcher.
const MAX_IN_FLIGHT: usize = 32;
/// After a claim that found less than it could take, the next waits at least this long: webhooks
/// coming due meanwhile are claimed together, and the loop never spins on the database (it ran a
/// claim and a look for the next due webhook about seven times per webhook posted without it).
const CLAIM_PAUSE: Duration = Duration::from_millis(5);

/// Posts scheduled webhooks to one Switchboard; cheap to clone.
#[derive(Clone)]
pub(super) struct Dispatcher {
    db: PgPool,
    apps: AppDirectory,
    http: reqwest::Client,
    switchboard_url: Arc<str>,
}

impl Dispatcher {
    pub fn new(db: PgPool, cipher: Cipher, switchboard_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("build the webhook HTTP client")?;
        Ok(Self {
            apps: AppDirectory::new(db.clone(), cipher),
            db,
            http,
            switchboard_url: switchboard_url.trim_end_matches('/').into(),
        })
    }

    /// Posts webhooks as they come due until `shutdown`; then lets the posts in flight finish and
    /// records them. Webhooks not yet claimed stay scheduled for the next dispatcher.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = match db::listen(&self.db, CHANNEL).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot LISTEN for sandbox webhooks; polling only");
                None
            }
        };
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut posts = JoinSet::new();
        let mut next_claim = Instant::now();
        while !shutdown.is_cancelled() {
            tokio::time::sleep_until(next_claim.into()).await;
            while posts.try_join_next().is_some() {}
            let wanted = permits.available_permits();
            let wait = if wanted == 0 {
                // Every permit is busy: the next finished post wakes the loop.
                POLL
            } else {
                match webhook_queue::claim(&self.db, wanted, LEASE).await {
                    Ok(claimed) => {
                        let full = claimed.len() == wanted;
                        for webhook in claimed {
                            // Never waits: the claim asked for no more than the free permits.
                            let Ok(permit) = permits.clone().try_acquire_owned() else {
                                break;
                            };
                            posts.spawn(self.clone().deliver(webhook, permit));
                        }
                        if full {
                            continue;
                        }
                        next_claim = Instant::now() + CLAIM_PAUSE;
                        self.next_due().await
                    }
                    Err(error) => {
                        tracing::error!(error = ?error, "claiming sandbox webhooks failed");
                        POLL
                    }
                }
            };
            tokio::select! {
                notification = db::notified(&mut listener) => if let Err(e) = notification {
                    tracing::warn!(error = ?e, "LISTEN connection lost; reconnecting");
                    // Not at once: while the database is down, every attempt fails at once.
                    tokio::time::sleep(POLL).await;
                },
                () = tokio::time::sleep(wait) => {}
                Some(_) = posts.join_next(), if !posts.is_empty() => {}
                () = shutdown.cancelled() => {}
            }
        }
        while posts.join_next().await.is_some() {}
    }

    /// How long to sleep: until the next webhook is due, at most [`POLL`].
    async fn next_due(&self) -> Duration {
        match webhook_queue::next_due(&self.db).await {
            Ok(next) => next.map_or(POLL, |next| next.min(POLL)),
            Err(error) => {
                tracing::error!(error = ?error, "finding the next sandbox webhook failed");
                POLL
            }
        }
    }

    /// Posts one claimed webhook and records the outcome; holds its permit until then.
    #[tracing::instrument(skip_all, fields(webhook_id = webhook.id, attempt = webhook.attempts))]
    async fn deliver(self, webhook: Claimed, permit: OwnedSemaphorePermit) {
        let recorded = match self.post(&webhook).await {
            Ok(()) => webhook_queue::mark_sent(&self.db, webhook.id).await,
            Err(error) if webhook.attempts >= ATTEMPTS => {
                tracing::warn!(error = ?error, attempts = webhook.attempts, "gave up on a sandbox webhook");
                webhook_queue::give_up(&self.db, webhook.id, &format!("{error:#}")).await
            }
            Err(error) => {
                tracing::debug!(error = ?error, "sandbox webhook failed; will retry");
                let wait = retry_wait(webhook.attempts);
                webhook_queue::retry_later(&self.db, webhook.id, &format!("{error:#}"), wait).await
            }
        };
        if let Err(error) = recorded {
            // The lease runs out and the webhook is posted again: Switchboard takes duplicates.
            tracing::error!(error = ?error, "could not record a sandbox webhook's attempt");
        }
        drop(permit);
    }

    /// Signs the body with the app's secret and POSTs it; an answer other than 2xx is an error.
    async fn post(&self, webhook: &Claimed) -> anyhow::Result<()> {
        let app = self
            .apps
            .credentials(&webhook.meta_app_id)
            .await?
            .with_context(|| format!("Meta app {} is not registered", webhook.meta_app_id))?;
        let body = webhook.body.to_string().into_bytes();
        let signature = signature::sign(app.app_secret.expose_secret().as_bytes(), &body);
        let url = format!(
            "{}/webhooks/whatsapp/{}",
            self.switchboard_url, webhook.meta_app_id
        );
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        if !response.status().is_success() {
            bail!("Switchboard answered {}", response.status());
        }
        Ok(())
    }
}

/// The wait after failed attempt `attempts`: [`FIRST_RETRY`], doubled for each attempt before.
fn retry_wait(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    FIRST_RETRY * 2_u32.pow(doublings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_retry_waits_twice_as_long_as_the_one_before() {
        let waits: Vec<u128> = (1..ATTEMPTS).map(|a| retry_wait(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800]);
    }
}
