//! The webhooks the fake sends to Switchboard, shaped and signed as Meta sends them: one `messages`
//! webhook per delivery status (`sent`, `delivered`, `read`, or `failed` with its error), and
//! `message_template_status_update` after a template review. Each is POSTed to
//! `{switchboard_url}/webhooks/whatsapp/{meta_app_id}` with `X-Hub-Signature-256` under the app's
//! secret, from a background task; a POST that fails is retried with backoff, as Meta retries.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components>

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::time::{Instant, sleep, sleep_until};

use super::{ids, numbers};
use crate::{
    crypto::Cipher,
    domain::apps,
    whatsapp::{errors, signature},
};

/// Attempts per webhook, and the wait before the first retry (doubled after each failure).
const ATTEMPTS: u32 = 5;
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// Posts signed webhooks to one Switchboard.
pub(super) struct Webhooks {
    http: reqwest::Client,
    db: PgPool,
    cipher: Cipher,
    switchboard_url: String,
}

/// The number a message was sent from, as status webhooks name it.
pub(super) struct Sender {
    pub number_id: i64,
    pub phone_number_id: String,
    pub waba_id: String,
    pub meta_app_id: String,
}

/// What happened to a message Meta accepted.
pub(super) enum Outcome {
    /// Delivered and read; billed in this pricing category (`service`, `utility`, `marketing`…).
    Delivered { category: String },
    /// Failed with this Meta error code (131047 when the window was closed).
    Failed { code: i64 },
}

/// A message Meta accepted, and what became of it.
pub(super) struct Report {
    pub sender: Sender,
    pub wamid: String,
    /// The recipient's `wa_id`.
    pub recipient: String,
    pub outcome: Outcome,
}

impl Report {
    /// The statuses to report, in order.
    fn kinds(&self) -> &'static [&'static str] {
        match self.outcome {
            Outcome::Delivered { .. } => &["sent", "delivered", "read"],
            Outcome::Failed { .. } => &["failed"],
        }
    }

    /// One status as Meta reports it now: priced while delivered, with the error when failed.
    fn status(&self, kind: &str, conversation: &str) -> Value {
        let now = Utc::now().timestamp();
        let mut status = json!({
            "id": self.wamid,
            "status": kind,
            "timestamp": now.to_string(),
            "recipient_id": self.recipient,
        });
        match &self.outcome {
            Outcome::Delivered { category } => {
                status["conversation"] =
                    json!({ "id": conversation, "origin": { "type": category } });
                if kind == "sent" {
                    let expires = now + 24 * 3600;
                    status["conversation"]["expiration_timestamp"] = json!(expires.to_string());
                }
                status["pricing"] =
                    json!({ "billable": true, "pricing_model": "CBP", "category": category });
            }
            Outcome::Failed { code } => status["errors"] = json!([webhook_error(*code)]),
        }
        status
    }
}

/// A template Meta finished reviewing.
pub(super) struct Review {
    pub meta_app_id: String,
    pub waba_id: String,
    pub template_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// `None` when approved; the rejection reason otherwise.
    pub rejected: Option<&'static str>,
}

impl Webhooks {
    pub fn new(db: PgPool, cipher: Cipher, switchboard_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let switchboard_url = switchboard_url.trim_end_matches('/').to_owned();
        Self {
            http,
            db,
            cipher,
            switchboard_url,
        }
    }

    /// Reports what became of a message, each status at its delay after now.
    pub async fn send_statuses(&self, report: Report, delays: [Duration; 3]) {
        let start = Instant::now();
        let (secret, display) = match self.signing(&report.sender).await {
            Ok(signing) => signing,
            Err(error) => {
                return tracing::error!(error = ?error, wamid = report.wamid, "cannot report statuses");
            }
        };
        let conversation = ids::conversation_id();
        for (&kind, delay) in report.kinds().iter().zip(delays) {
            sleep_until(start + delay).await;
            let status = report.status(kind, &conversation);
            let body = messages_envelope(&report.sender, &display, status);
            self.post(&report.sender.meta_app_id, &secret, body).await;
        }
    }

    /// The app secret that signs the number's webhooks, and its display number (digits only).
    async fn signing(&self, sender: &Sender) -> anyhow::Result<(SecretString, String)> {
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let display = numbers::profile(&mut conn, sender.number_id)
            .await?
            .display_digits();
        drop(conn);
        Ok((self.app_secret(&sender.meta_app_id).await?, display))
    }

    /// Reports a template review after `delay`.
    pub async fn send_review(&self, review: Review, delay: Duration) {
        sleep(delay).await;
        let secret = match self.app_secret(&review.meta_app_id).await {
            Ok(secret) => secret,
            Err(error) => return tracing::error!(error = ?error, "cannot report template review"),
        };
        // Meta sends the template id as a JSON number.
        let template_id = review.template_id.parse::<u64>();
        let value = json!({
            "event": if review.rejected.is_some() { "REJECTED" } else { "APPROVED" },
            "message_template_id": template_id.map_or(json!(review.template_id), |id| json!(id)),
            "message_template_name": review.name,
            "message_template_language": review.language,
            "reason": review.rejected.unwrap_or("NONE"),
            "message_template_category": review.category,
        });
        let body = json!({
            "entry": [{
                "id": review.waba_id,
                "time": Utc::now().timestamp(),
                "changes": [{ "value": value, "field": "message_template_status_update" }],
            }],
            "object": "whatsapp_business_account",
        });
        self.post(&review.meta_app_id, &secret, body).await;
    }

    async fn app_secret(&self, meta_app_id: &str) -> anyhow::Result<SecretString> {
        let mut conn = self.db.acquire().await.context("acquire connection")?;
        let app = apps::find_credentials(&mut conn, &self.cipher, meta_app_id).await?;
        Ok(app
            .with_context(|| format!("Meta app {meta_app_id} is not registered"))?
            .app_secret)
    }

    /// POSTs `body` signed with `secret`, retrying with backoff; logs and gives up after that.
    async fn post(&self, meta_app_id: &str, secret: &SecretString, body: Value) {
        let body = body.to_string().into_bytes();
        let signature = signature::sign(secret.expose_secret().as_bytes(), &body);
        let url = format!("{}/webhooks/whatsapp/{meta_app_id}", self.switchboard_url);
        let mut wait = FIRST_RETRY;
        for attempt in 1..=ATTEMPTS {
            match self.try_post(&url, &signature, &body).await {
                Ok(()) => return,
                Err(error) if attempt == ATTEMPTS => {
                    tracing::warn!(error = ?error, url, attempts = ATTEMPTS, "gave up on a webhook");
                }
                Err(error) => {
                    tracing::debug!(error = ?error, url, attempt, "webhook failed, retrying");
                    sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }

    async fn try_post(&self, url: &str, signature: &str, body: &[u8]) -> anyhow::Result<()> {
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .context("POST webhook")?;
        if !response.status().is_success() {
            bail!("Switchboard answered {}", response.status());
        }
        Ok(())
    }
}

/// `{"object":"whatsapp_business_account","entry":[{"id":WABA,"changes":[{"value":{…},"field":"messages"}]}]}`.
fn messages_envelope(sender: &Sender, display: &str, status: Value) -> Value {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": display, "phone_number_id": sender.phone_number_id },
        "statuses": [status],
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": sender.waba_id, "changes": [{ "value": value, "field": "messages" }] }],
    })
}

/// An error as a failed status carries it.
fn webhook_error(code: i64) -> Value {
    let (title, details) = errors::graph_answer(code)
        .map_or(("Unknown error", "An unknown error occurred."), |answer| {
            (answer.title, answer.details)
        });
    json!({
        "code": code,
        "title": title,
        "message": title,
        "error_data": { "details": details },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    })
}
