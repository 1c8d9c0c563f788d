//! `POST /{version}/{phone_number_id}/messages`: sends a message, or marks one as read. Like Meta,
//! the answer only says the message was accepted; what happens next arrives by webhook. A queued
//! fault answers instead with its error; a template must be approved and get the right number of
//! parameters. A free-form message to a customer whose last message is 24 hours old (or who never
//! wrote) is accepted, then fails with 131047 by webhook, as Meta does it. The body is read as
//! Meta reads it ([`crate::whatsapp::graph_request`]).
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use anyhow::Context;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::template_params;
use crate::{
    domain::{
        conversations,
        ids::{NumberId, TenantId},
        numbers::NumberCredentials,
        templates::TemplateCategory,
    },
    http::extract::{Json, Path},
    sandbox::{
        FakeGraph, faults, ids, numbers,
        webhooks::{self, Outcome, Report, Sender},
    },
    whatsapp::{
        customer_id::CustomerId,
        envelope::MetaError,
        graph_request::{OutgoingMessage, SendRequest},
    },
    window::Window,
};

/// Sends a message (or marks one as read) from the number.
pub(in crate::sandbox) async fn send_message(
    State(fake): State<FakeGraph>,
    Path((_, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    let number =
        numbers::by_phone_number_id(&fake, &Method::POST, &phone_number_id, &headers).await?;
    let message = match SendRequest::parse(&body)? {
        SendRequest::MarkRead { .. } => return Ok(Json(json!({ "success": true })).into_response()),
        SendRequest::Message(message) => message,
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    if let Some(code) = faults::take(&mut conn, number.id).await? {
        return Err(MetaError::code(code));
    }
    let category = match message.template() {
        Some(template) => Some(template_params::check(&mut conn, &number, template).await?),
        None => None,
    };
    let wamid = ids::wamid(message.customer.as_str());
    report(&fake, &mut conn, number, &message, &wamid, category).await?;
    let mut accepted = json!({ "id": wamid });
    if message.template().is_some() {
        accepted["message_status"] = json!("accepted");
    }
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [message.contact()],
        "messages": [accepted],
    }))
    .into_response())
}

/// Schedules the status webhooks for an accepted message before answering, so that none is lost:
/// sent, delivered and read; or, for a free-form message outside the customer service window,
/// failed with 131047.
async fn report(
    fake: &FakeGraph,
    conn: &mut PgConnection,
    number: NumberCredentials,
    message: &OutgoingMessage,
    wamid: &str,
    template_category: Option<TemplateCategory>,
) -> anyhow::Result<()> {
    let Some(delays) = fake.status_delays() else {
        return Ok(());
    };
    let outcome = match template_category {
        Some(category) => Outcome::Delivered {
            category: category.as_str().to_lowercase(),
        },
        None => {
            // Meta knows only the customer's messages, not what Switchboard concluded.
            let last =
                last_customer_message_at(conn, number.tenant_id, number.id, &message.customer)
                    .await?;
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
        tenant_id: number.tenant_id,
        number_id: number.id,
        phone_number_id: number.phone_number_id,
        waba_id: number.waba_id,
        meta_app_id: number.meta_app_id,
    };
    let report = Report {
        sender,
        wamid: wamid.to_owned(),
        recipient: message.customer.as_str().to_owned(),
        outcome,
    };
    webhooks::schedule_statuses(conn, report, delays).await
}

/// When the customer last wrote to the number (Meta's timestamp), if ever.
/// <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows>
async fn last_customer_message_at(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    customer: &CustomerId,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "select max(c.last_customer_message_at)
         from contacts k
         join conversations c on c.tenant_id = k.tenant_id and c.contact_id = k.id
         where k.tenant_id = $1 and c.phone_number_id = $2
           and (k.wa_id = $3 or k.user_id = $4)",
        tenant_id as TenantId,
        number_id as NumberId,
        customer.wa_id(),
        customer.user_id()
    )
    .fetch_one(conn)
    .await
    .context("read the customer service window")
}
