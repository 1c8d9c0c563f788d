//! The webhooks the fake sends to Switchboard, shaped as Meta sends them: one `messages` webhook per
//! delivery status (`sent`, `delivered`, `read`, or `failed` with its error), and
//! `message_template_status_update` after a template review. Each is built when the fake decides
//! the outcome, timestamped for when it is due, and scheduled in `sandbox_webhooks` (see
//! [`webhook_queue`](super::webhook_queue)); the [`dispatcher`](super::dispatcher) signs and posts
//! it when due.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components>

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::{
    ids, numbers,
    webhook_queue::{self, Recipient, Scheduled},
};
use crate::{
    domain::{
        ids::{NumberId, TenantId},
        messages::MessageStatus,
    },
    whatsapp::errors,
};

/// The number a message was sent from, as status webhooks name it.
pub(super) struct Sender {
    pub tenant_id: TenantId,
    pub number_id: NumberId,
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
    fn kinds(&self) -> &'static [MessageStatus] {
        match self.outcome {
            Outcome::Delivered { .. } => &[
                MessageStatus::Sent,
                MessageStatus::Delivered,
                MessageStatus::Read,
            ],
            Outcome::Failed { .. } => &[MessageStatus::Failed],
        }
    }

    /// One status as Meta reports it at `at`: priced while delivered, with the error when failed.
    fn status(&self, kind: MessageStatus, conversation: &str, at: DateTime<Utc>) -> Value {
        let at = at.timestamp();
        let mut status = json!({
            "id": self.wamid,
            "status": kind.as_str(),
            "timestamp": at.to_string(),
            "recipient_id": self.recipient,
        });
        match &self.outcome {
            Outcome::Delivered { category } => {
                status["conversation"] =
                    json!({ "id": conversation, "origin": { "type": category } });
                if kind == MessageStatus::Sent {
                    let expires = at + 24 * 3600;
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
    /// The row id of the WABA's number that created it.
    pub number_id: NumberId,
    pub meta_app_id: String,
    pub waba_id: String,
    pub template_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// `None` when approved; the rejection reason otherwise.
    pub rejected: Option<&'static str>,
}

/// Schedules what became of a message, each status at its delay after now, in order.
pub(super) async fn schedule_statuses(
    conn: &mut PgConnection,
    report: Report,
    delays: [Duration; 3],
) -> anyhow::Result<()> {
    let display = numbers::profile(conn, report.sender.tenant_id, report.sender.number_id)
        .await?
        .display_digits();
    let now = Utc::now();
    let conversation = ids::conversation_id();
    let webhooks = report
        .kinds()
        .iter()
        .zip(delays)
        .map(|(&kind, delay)| {
            let status = report.status(kind, &conversation, now + delay);
            Scheduled {
                delay,
                body: messages_envelope(&report.sender, &display, status),
            }
        })
        .collect();
    let recipient = Recipient {
        number_id: report.sender.number_id,
        meta_app_id: &report.sender.meta_app_id,
        series: Some(&report.wamid),
    };
    webhook_queue::schedule(conn, recipient, webhooks).await
}

/// Schedules a template review's verdict `delay` after now.
pub(super) async fn schedule_review(
    conn: &mut PgConnection,
    review: Review,
    delay: Duration,
) -> anyhow::Result<()> {
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
            "time": (Utc::now() + delay).timestamp(),
            "changes": [{ "value": value, "field": "message_template_status_update" }],
        }],
        "object": "whatsapp_business_account",
    });
    let recipient = Recipient {
        number_id: review.number_id,
        meta_app_id: &review.meta_app_id,
        series: None,
    };
    webhook_queue::schedule(conn, recipient, vec![Scheduled { delay, body }]).await
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
