//! `POST /{version}/{phone_number_id}/messages`, as Meta answers it. A message becomes an
//! [`Outbound`] and goes through the send service (window, template and opt-out checks, refused at
//! once with Meta's code; pacing; the inbox shows it as sent by the key). By default the request
//! waits until the delivery worker has called Meta and answers with Meta's wamid or Meta's own
//! error; with `Prefer: respond-async` it answers 202 at once, with Switchboard's id for the
//! message (`switchboard.{id}`), whose fate then arrives by webhook. `Idempotency-Key` makes a
//! retried request the same message. A read receipt (with or without the typing indicator) is
//! passed on to Meta.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use std::time::Duration;

use anyhow::Context;
use axum::{
    Extension,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{super::idempotency_key, auth, number, usable_number};
use crate::{
    domain::{api_keys::Caller, ids::MessageId, messages::SentBy},
    http::{AppState, extract::Path},
    outbox::{
        answers::Answer,
        send::{SendError, SendRefused, SendRequest as Send, SendTo},
    },
    whatsapp::{
        envelope::MetaError,
        graph_request::{OutgoingMessage, SendRequest},
        outbound::{GivenKind, MediaKind, MediaSource, Outbound},
    },
};

/// How long a request waits, from its arrival, for Meta's answer before answering as
/// `respond-async` would: well under the server's 30-second request timeout (so a slow database
/// never turns it into a bare 503 that a client retries), and far above Meta's latency plus a
/// number's pacing.
const ANSWER_WAIT: Duration = Duration::from_secs(20);

/// Sends a message from the number, or passes a read receipt on.
pub(super) async fn send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    let deadline = Instant::now() + ANSWER_WAIT;
    let (message, request) = match read(&body, &headers, &caller, &phone_number_id) {
        Ok(Read::Message(message, request)) => (message, request),
        Ok(Read::MarkRead { message_id, typing }) => {
            return mark_read(&state, &caller, &phone_number_id, &message_id, typing).await;
        }
        Err(error) => {
            // Meta checks the object before the body: a number the key cannot use is that error.
            let mut conn = state.db.acquire().await.context("acquire connection")?;
            usable_number(&mut conn, &caller, &Method::POST, &phone_number_id).await?;
            return Err(error);
        }
    };
    let queued = state
        .sends
        .send(caller.tenant_id, *request)
        .await
        .map_err(|error| refusal(error, &phone_number_id))?;
    if responds_async(&headers) {
        return Ok(accepted(&message, queued.message_id));
    }
    let answer = state
        .answers
        .wait(&state.db, caller.tenant_id, queued.message_id, deadline)
        .await?;
    match answer {
        Answer::Accepted { wamid } => {
            let mut entry = json!({ "id": wamid });
            if message.template().is_some() {
                entry["message_status"] = json!("accepted");
            }
            Ok(axum::Json(json!({
                "messaging_product": "whatsapp",
                "contacts": [message.contact()],
                "messages": [entry],
            }))
            .into_response())
        }
        Answer::Refused { code, details } => {
            let error = MetaError::code(code.map_or(131000, i64::from));
            Err(match details {
                Some(details) => error.details(details),
                None => error,
            })
        }
        // Not transient: a client retrying by itself (often without an Idempotency-Key) could
        // send the message twice.
        Answer::Unknown => Err(MetaError::code(131000).permanent().details(
            "Switchboard could not confirm that WhatsApp received this message: check before \
             sending it again (the same Idempotency-Key never sends twice).",
        )),
        Answer::Pending => Ok(accepted(&message, queued.message_id)),
    }
}

/// What a request to `/messages` asks for.
enum Read {
    /// A message, as the send service takes it (the number checked there).
    Message(OutgoingMessage, Box<Send>),
    /// A read receipt, with the typing indicator or not.
    MarkRead { message_id: String, typing: bool },
}

fn read(
    body: &[u8],
    headers: &HeaderMap,
    caller: &Caller,
    phone_number_id: &str,
) -> Result<Read, MetaError> {
    let message = match SendRequest::parse(body)? {
        SendRequest::MarkRead { message_id, typing } => {
            let message_id = message_id
                .as_str()
                .ok_or_else(|| MetaError::invalid_parameter("message_id must be a string."))?;
            return Ok(Read::MarkRead {
                message_id: message_id.to_owned(),
                typing,
            });
        }
        SendRequest::Message(message) => message,
    };
    let content = outbound(&message)?;
    let idempotency_key = idempotency_key(headers, caller).map_err(MetaError::invalid_parameter)?;
    let request = Send {
        to: SendTo::Customer {
            phone_number_id: phone_number_id.to_owned(),
            customer: message.customer.clone(),
            numbers: caller.numbers.clone(),
        },
        content,
        reply_to: message.reply_to.clone(),
        idempotency_key,
        sent_by: SentBy::ApiKey(caller.key_id),
    };
    Ok(Read::Message(message, Box::new(request)))
}

/// Passes a read receipt (and the typing indicator) on to Meta.
async fn mark_read(
    state: &AppState,
    caller: &Caller,
    phone_number_id: &str,
    message_id: &str,
    typing: bool,
) -> Result<Response, MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let number = number(state, &mut conn, caller, &Method::POST, phone_number_id).await?;
    drop(conn);
    let urls = state.config.graph_urls();
    state
        .graph
        .read_receipt(&auth(&urls, &number), phone_number_id, message_id, typing)
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(axum::Json(json!({ "success": true })).into_response())
}

/// The message as the send service takes it: text, media, reactions and templates in their own
/// shape (so the inbox and the checks read them), anything else passed on as given.
fn outbound(message: &OutgoingMessage) -> Result<Outbound, MetaError> {
    let content = &message.content;
    let text = |key: &str| content.get(key).and_then(Value::as_str).map(str::to_owned);
    let media = |kind: MediaKind| {
        let source = match (text("id"), text("link")) {
            (Some(id), _) => MediaSource::Id(id),
            (None, Some(link)) => MediaSource::Link(link),
            (None, None) => {
                return Err(MetaError::required(&format!("{}['id']", kind.as_str())));
            }
        };
        Ok(Outbound::Media {
            kind,
            source,
            caption: text("caption"),
            filename: text("filename"),
        })
    };
    Ok(match message.kind.as_str() {
        "text" => Outbound::Text {
            body: text("body").unwrap_or_default(),
            preview_url: content.get("preview_url").and_then(Value::as_bool) == Some(true),
        },
        "image" => media(MediaKind::Image)?,
        "audio" => media(MediaKind::Audio)?,
        "video" => media(MediaKind::Video)?,
        "document" => media(MediaKind::Document)?,
        "sticker" => media(MediaKind::Sticker)?,
        "reaction" => Outbound::Reaction {
            message_id: text("message_id").ok_or_else(|| MetaError::required("message_id"))?,
            emoji: text("emoji").unwrap_or_default(),
        },
        "template" => Outbound::Template {
            name: text("name").ok_or_else(|| MetaError::required("template['name']"))?,
            language: content
                .pointer("/language/code")
                .and_then(Value::as_str)
                .ok_or_else(|| MetaError::required("template['language']['code']"))?
                .to_owned(),
            components: components(content.get("components")),
        },
        "location" => given(GivenKind::Location, content),
        "contacts" => given(GivenKind::Contacts, content),
        _ => given(GivenKind::Interactive, content),
    })
}

fn given(kind: GivenKind, object: &Value) -> Outbound {
    Outbound::AsGiven {
        kind,
        object: object.clone(),
    }
}

/// A template's components with every `type` and `sub_type` in lower case: SDKs send `BODY` or
/// `body`, and Meta takes either.
fn components(components: Option<&Value>) -> Value {
    fn lower(object: &mut Map<String, Value>) {
        for key in ["type", "sub_type"] {
            if let Some(Value::String(value)) = object.get_mut(key) {
                *value = value.to_lowercase();
            }
        }
    }
    let mut components = components.cloned().unwrap_or_else(|| json!([]));
    for component in components.as_array_mut().into_iter().flatten() {
        let Some(component) = component.as_object_mut() else {
            continue;
        };
        lower(component);
        let parameters = component
            .get_mut("parameters")
            .and_then(Value::as_array_mut);
        for parameter in parameters.into_iter().flatten() {
            if let Some(parameter) = parameter.as_object_mut() {
                lower(parameter);
            }
        }
    }
    components
}

/// Whether the caller asked not to wait for Meta (`Prefer: respond-async`, RFC 7240).
fn responds_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|preference| preference.trim().eq_ignore_ascii_case("respond-async"))
}

/// 202: the message is queued; its id is Switchboard's, and its fate arrives by webhook.
fn accepted(message: &OutgoingMessage, id: MessageId) -> Response {
    let body = json!({
        "messaging_product": "whatsapp",
        "contacts": [message.contact()],
        "messages": [{ "id": format!("switchboard.{id}"), "message_status": "queued" }],
    });
    let mut response = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
    response.headers_mut().insert(
        "preference-applied",
        HeaderValue::from_static("respond-async"),
    );
    response
}

/// A refusal in Meta's words: Meta's code where it has one, with our sentence as the details; a
/// number the caller cannot send from is Meta's "no such object".
fn refusal(error: SendError, phone_number_id: &str) -> MetaError {
    let refused = match error {
        SendError::Refused(refused) => refused,
        SendError::Internal(error) => return MetaError::from(error),
    };
    match &refused {
        SendRefused::NumberNotFound { .. } | SendRefused::NumberRemoved => {
            MetaError::unsupported(&Method::POST, phone_number_id)
        }
        _ => match refused.meta_code() {
            Some(code) => MetaError::code(code).details(refused.to_string()),
            None => MetaError::invalid_parameter(refused.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_types_are_read_in_any_case() {
        let sent = json!([
            { "type": "BODY", "parameters": [{ "type": "TEXT", "text": "Ana" }] },
            { "type": "Button", "sub_type": "URL", "index": "0",
              "parameters": [{ "type": "text", "text": "ABC" }] }
        ]);
        assert_eq!(
            components(Some(&sent)),
            json!([
                { "type": "body", "parameters": [{ "type": "text", "text": "Ana" }] },
                { "type": "button", "sub_type": "url", "index": "0",
                  "parameters": [{ "type": "text", "text": "ABC" }] }
            ])
        );
        assert_eq!(components(None), json!([]));
    }

    #[test]
    fn respond_async_is_one_preference_among_others() {
        let mut headers = HeaderMap::new();
        assert!(!responds_async(&headers));
        headers.insert("prefer", HeaderValue::from_static("wait=5, Respond-Async"));
        assert!(responds_async(&headers));
    }
}
