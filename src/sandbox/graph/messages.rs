//! `POST /{version}/{phone_number_id}/messages`: sends a message, or marks one as read. Like Meta,
//! the answer only says the message was accepted; what happens next arrives by webhook. A queued
//! fault answers instead with its error; a template must be approved and get the right number of
//! parameters. A free-form message to a customer whose last message is 24 hours old (or who never
//! wrote) is accepted, then fails with 131047 by webhook, as Meta does it.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use anyhow::Context;
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::template_params;
use crate::{
    domain::{conversations, numbers::NumberCredentials},
    sandbox::{
        FakeGraph,
        errors::GraphError,
        faults, ids, numbers,
        webhooks::{self, Outcome, Report, Sender},
    },
    window::Window,
};

/// The message types the Cloud API sends.
const TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
    "template",
];

/// Sends a message (or marks one as read) from the number.
pub(in crate::sandbox) async fn send_message(
    State(fake): State<FakeGraph>,
    Path((_, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let number =
        numbers::by_phone_number_id(&fake, &Method::POST, &phone_number_id, &headers).await?;
    let request = SendRequest::parse(&body)?;
    if request.kind == "read" {
        return Ok(Json(json!({ "success": true })).into_response());
    }
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    if let Some(code) = faults::take(&mut conn, number.id).await? {
        return Err(GraphError::code(code));
    }
    let category = match &request.template {
        Some(template) => Some(template_params::check(&mut conn, &number, template).await?),
        None => None,
    };
    let wamid = ids::wamid(&request.wa_id);
    report(&fake, &mut conn, number, &request, &wamid, category).await?;
    let mut message = json!({ "id": wamid });
    if request.template.is_some() {
        message["message_status"] = json!("accepted");
    }
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": request.input, "wa_id": request.wa_id }],
        "messages": [message],
    }))
    .into_response())
}

/// A send request, read as loosely as Meta reads it (`to` may be a JSON number).
struct SendRequest {
    /// `read` for a read receipt, else the message type.
    kind: String,
    /// `to` as given.
    input: String,
    /// `to` normalised to digits, as Meta's `wa_id`.
    wa_id: String,
    template: Option<Value>,
}

impl SendRequest {
    fn parse(body: &[u8]) -> Result<Self, GraphError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            GraphError::invalid_parameter(format!("Invalid JSON in request body: {e}"))
        })?;
        match value.get("messaging_product").and_then(Value::as_str) {
            None => return Err(GraphError::required("messaging_product")),
            Some(product) if !product.eq_ignore_ascii_case("whatsapp") => {
                return Err(GraphError::invalid_parameter(format!(
                    "Param messaging_product must be one of {{WHATSAPP}} - got \"{product}\"."
                )));
            }
            Some(_) => {}
        }
        if value.get("status").and_then(Value::as_str) == Some("read") {
            value
                .get("message_id")
                .ok_or_else(|| GraphError::required("message_id"))?;
            return Ok(Self {
                kind: "read".into(),
                input: String::new(),
                wa_id: String::new(),
                template: None,
            });
        }
        let input = match value.get("to") {
            Some(Value::String(to)) => to.clone(),
            Some(Value::Number(to)) => to.to_string(),
            _ => return Err(GraphError::required("to")),
        };
        let wa_id: String = input.chars().filter(char::is_ascii_digit).collect();
        if wa_id.is_empty() {
            return Err(
                GraphError::code(131009).details(format!("Invalid 'to' parameter: {input}"))
            );
        }
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("text")
            .to_owned();
        if !TYPES.contains(&kind.as_str()) {
            return Err(GraphError::invalid_parameter(format!(
                "Param type must be one of {{{}}} - got \"{kind}\".",
                TYPES.join(", ").to_uppercase()
            )));
        }
        let content = value.get(&kind).filter(|content| content.is_object());
        let content = content.ok_or_else(|| GraphError::required(&kind))?;
        if kind == "text" && content.get("body").and_then(Value::as_str).is_none() {
            return Err(GraphError::required("text['body']"));
        }
        let template = (kind == "template").then(|| content.clone());
        Ok(Self {
            kind,
            input,
            wa_id,
            template,
        })
    }
}

/// Schedules the status webhooks for an accepted message before answering, so that none is lost:
/// sent, delivered and read; or, for a free-form message outside the customer service window,
/// failed with 131047.
async fn report(
    fake: &FakeGraph,
    conn: &mut PgConnection,
    number: NumberCredentials,
    request: &SendRequest,
    wamid: &str,
    template_category: Option<String>,
) -> anyhow::Result<()> {
    let Some(delays) = fake.status_delays() else {
        return Ok(());
    };
    let outcome = match template_category {
        Some(category) => Outcome::Delivered {
            category: category.to_lowercase(),
        },
        None => {
            // Meta knows only the customer's messages, not what Switchboard concluded.
            let last = last_customer_message_at(conn, number.id, &request.wa_id).await?;
            if Window::at(last, None, Utc::now()).is_open() {
                Outcome::Delivered {
                    category: "service".into(),
                }
            } else {
                Outcome::Failed {
                    code: conversations::RE_ENGAGEMENT,
                }
            }
        }
    };
    let sender = Sender {
        number_id: number.id,
        phone_number_id: number.phone_number_id,
        waba_id: number.waba_id,
        meta_app_id: number.meta_app_id,
    };
    let report = Report {
        sender,
        wamid: wamid.to_owned(),
        recipient: request.wa_id.clone(),
        outcome,
    };
    webhooks::schedule_statuses(conn, report, delays).await
}

/// When the customer `wa_id` last wrote to the number (Meta's timestamp), if ever.
/// <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows>
async fn last_customer_message_at(
    conn: &mut PgConnection,
    number_id: i64,
    wa_id: &str,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "select max(c.last_customer_message_at)
         from conversations c join contacts k on k.id = c.contact_id
         where c.phone_number_id = $1 and k.wa_id = $2",
        number_id,
        wa_id
    )
    .fetch_one(conn)
    .await
    .context("read the customer service window")
}
