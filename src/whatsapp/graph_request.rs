//! Requests as Meta's Graph API receives them, read as loosely as Meta reads them and refused with
//! Meta's own errors: the version and object of a path, and the body of a send
//! (`POST /{version}/{phone_number_id}/messages`). The sandbox reads its requests with them, and so
//! will the Meta-compatible endpoint that integrators point their WhatsApp SDKs at.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use serde_json::{Value, json};

use super::{customer_id::CustomerId, envelope::MetaError};

/// The message types the Cloud API sends.
pub const TYPES: &[&str] = &[
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

/// Whether a path segment is a Graph API version (`v23.0`).
pub fn is_version(segment: &str) -> bool {
    let Some((major, minor)) = segment.strip_prefix('v').and_then(|v| v.split_once('.')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// The object a Graph path names: the segment after the version (`/v23.0/{id}/messages`), else
/// the first one (`/latest/{id}` names `latest`, as Meta reads it).
pub fn object_in_path(path: &str) -> &str {
    let mut segments = path.trim_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    match segments.next() {
        Some(object) if is_version(first) => object,
        _ => first,
    }
}

/// The body of a send request.
#[derive(Debug, Clone, PartialEq)]
pub enum SendRequest {
    /// `{"status": "read", "message_id": …}`: marks a customer's message as read.
    MarkRead {
        /// The message to mark, as given.
        message_id: Value,
        /// `typing_indicator: {"type": "text"}`: show "typing…" too.
        typing: bool,
    },
    /// A message to a customer.
    Message(OutgoingMessage),
}

/// A message to send, as the request gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    /// `type`, one of [`TYPES`] (when absent, the type whose key the request has, else `text`).
    pub kind: String,
    /// `to` as given (a JSON string or number), else `recipient`: Meta echoes it as
    /// `contacts[].input`.
    pub to: String,
    /// Who it goes to: `to` reduced to its digits (Meta's `wa_id`), else the business-scoped user
    /// id of `recipient` (`to` wins when both are given, as at Meta).
    pub customer: CustomerId,
    /// The object under the type's key (`{"body": …}` for `text`, the template for `template`).
    pub content: Value,
    /// `context.message_id`: the message this one replies to.
    pub reply_to: Option<String>,
}

impl OutgoingMessage {
    /// The `template` object of a template message.
    pub fn template(&self) -> Option<&Value> {
        (self.kind == "template").then_some(&self.content)
    }

    /// The `contacts` entry of Meta's answer: the input, with `wa_id` for a phone number or
    /// `user_id` for a business-scoped user id.
    pub fn contact(&self) -> Value {
        match &self.customer {
            CustomerId::WaId(wa_id) => json!({ "input": self.to, "wa_id": wa_id }),
            CustomerId::UserId(user_id) => json!({ "input": self.to, "user_id": user_id }),
        }
    }
}

impl SendRequest {
    /// Reads a send request's body, checking what Meta checks before it accepts one: a
    /// `messaging_product` of `whatsapp`, a `to` with digits, a known `type` and its content
    /// object (a `text` needs a `body`).
    pub fn parse(body: &[u8]) -> Result<Self, MetaError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            MetaError::invalid_parameter(format!("Invalid JSON in request body: {e}"))
        })?;
        match value.get("messaging_product").and_then(Value::as_str) {
            None => return Err(MetaError::required("messaging_product")),
            Some(product) if !product.eq_ignore_ascii_case("whatsapp") => {
                return Err(MetaError::invalid_parameter(format!(
                    "Param messaging_product must be one of {{WHATSAPP}} - got \"{product}\"."
                )));
            }
            Some(_) => {}
        }
        if value.get("status").and_then(Value::as_str) == Some("read") {
            let message_id = value
                .get("message_id")
                .ok_or_else(|| MetaError::required("message_id"))?;
            return Ok(Self::MarkRead {
                message_id: message_id.clone(),
                typing: value
                    .pointer("/typing_indicator/type")
                    .and_then(Value::as_str)
                    == Some("text"),
            });
        }
        let (to, customer) = addressee(&value)?;
        // Without a `type`, the content's key says it (Meta's own examples leave it out).
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| TYPES.iter().copied().find(|kind| value.get(kind).is_some()))
            .unwrap_or("text")
            .to_owned();
        if !TYPES.contains(&kind.as_str()) {
            return Err(MetaError::invalid_parameter(format!(
                "Param type must be one of {{{}}} - got \"{kind}\".",
                TYPES.join(", ").to_uppercase()
            )));
        }
        // Contact cards come as an array; every other type's content is an object.
        let content = value
            .get(&kind)
            .filter(|content| content.is_object() || (kind == "contacts" && content.is_array()));
        let content = content.ok_or_else(|| MetaError::required(&kind))?;
        if kind == "text" && content.get("body").and_then(Value::as_str).is_none() {
            return Err(MetaError::required("text['body']"));
        }
        let reply_to = value
            .pointer("/context/message_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self::Message(OutgoingMessage {
            kind,
            to,
            customer,
            content: content.clone(),
            reply_to,
        }))
    }
}

/// Who a message goes to: `to` (a phone number, read as its digits), else `recipient` (a
/// business-scoped user id). <https://developers.facebook.com/docs/whatsapp/business-scoped-user-ids>
fn addressee(request: &Value) -> Result<(String, CustomerId), MetaError> {
    let to = match request.get("to") {
        Some(Value::String(to)) => Some(to.clone()),
        Some(Value::Number(to)) => Some(to.to_string()),
        _ => None,
    };
    if let Some(to) = to {
        let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
        if wa_id.is_empty() {
            return Err(MetaError::code(131009).details(format!("Invalid 'to' parameter: {to}")));
        }
        return Ok((to, CustomerId::WaId(wa_id)));
    }
    let Some(recipient) = request.get("recipient").and_then(Value::as_str) else {
        return Err(MetaError::required("to"));
    };
    match CustomerId::parse(recipient) {
        Ok(customer @ CustomerId::UserId(_)) => Ok((recipient.to_owned(), customer)),
        _ => {
            Err(MetaError::code(131009)
                .details(format!("Invalid 'recipient' parameter: {recipient}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<SendRequest, MetaError> {
        SendRequest::parse(body.to_string().as_bytes())
    }

    fn message(body: Value) -> OutgoingMessage {
        match parse(body) {
            Ok(SendRequest::Message(message)) => message,
            other => panic!("not a message: {other:?}"),
        }
    }

    fn refusal(body: Value) -> Value {
        match parse(body) {
            Err(error) => error.body()["error"].clone(),
            Ok(request) => panic!("accepted: {request:?}"),
        }
    }

    #[test]
    fn versions_are_v_major_dot_minor() {
        assert!(is_version("v23.0"));
        assert!(is_version("v9.12"));
        assert!(!is_version("v23"));
        assert!(!is_version("23.0"));
        assert!(!is_version("v23.x"));
        assert!(!is_version("media"));
    }

    #[test]
    fn the_object_of_a_path_follows_its_version() {
        assert_eq!(object_in_path("/v23.0/1122/messages"), "1122");
        assert_eq!(object_in_path("/v23.0/1122"), "1122");
        assert_eq!(object_in_path("/latest/1122"), "latest");
        assert_eq!(object_in_path("/v23.0"), "v23.0");
        assert_eq!(object_in_path("/"), "");
    }

    #[test]
    fn to_may_be_a_number_and_is_reduced_to_digits() {
        let sent = message(
            json!({ "messaging_product": "whatsapp", "to": 15550001111_u64, "text": { "body": "Hi" } }),
        );
        assert_eq!(
            (sent.to.as_str(), sent.customer.wa_id()),
            ("15550001111", Some("15550001111"))
        );
        let sent = message(
            json!({ "messaging_product": "WhatsApp", "to": "+1 555-000-1111", "text": { "body": "Hi" } }),
        );
        assert_eq!(
            sent.contact(),
            json!({ "input": "+1 555-000-1111", "wa_id": "15550001111" })
        );
        assert_eq!(sent.kind, "text");
        assert_eq!(sent.template(), None);
    }

    #[test]
    fn a_business_scoped_user_is_addressed_by_recipient_and_to_wins() {
        let sent = message(json!({ "messaging_product": "whatsapp",
            "recipient": "US.13491208655302741918", "text": { "body": "Hi" },
            "context": { "message_id": "wamid.IN" } }));
        assert_eq!(
            sent.contact(),
            json!({ "input": "US.13491208655302741918", "user_id": "US.13491208655302741918" })
        );
        assert_eq!(sent.reply_to.as_deref(), Some("wamid.IN"));
        let sent = message(
            json!({ "messaging_product": "whatsapp", "to": "15550001111",
            "recipient": "US.13491208655302741918", "text": { "body": "Hi" } }),
        );
        assert_eq!(sent.customer, CustomerId::WaId("15550001111".into()));
        let error = refusal(
            json!({ "messaging_product": "whatsapp", "recipient": "1555",
            "text": { "body": "Hi" } }),
        );
        assert_eq!(
            (&error["code"], &error["error_data"]["details"]),
            (
                &json!(131009),
                &json!("Invalid 'recipient' parameter: 1555")
            )
        );
    }

    #[test]
    fn a_read_receipt_needs_a_message_id() {
        let read =
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN" });
        assert_eq!(
            parse(read).ok(),
            Some(SendRequest::MarkRead {
                message_id: json!("wamid.IN"),
                typing: false,
            })
        );
        let error = refusal(json!({ "messaging_product": "whatsapp", "status": "read" }));
        assert_eq!(
            error["message"],
            "(#100) The parameter message_id is required."
        );
    }

    #[test]
    fn a_template_message_carries_its_template() {
        let template = json!({ "name": "hello", "language": { "code": "en_US" } });
        let sent = message(
            json!({ "messaging_product": "whatsapp", "to": "1555", "type": "template", "template": template }),
        );
        assert_eq!(sent.template(), Some(&template));
    }

    #[test]
    fn requests_meta_refuses_get_metas_errors() {
        let error = refusal(json!({ "to": "1555", "text": { "body": "Hi" } }));
        assert_eq!(
            error["message"],
            "(#100) The parameter messaging_product is required."
        );
        let error = refusal(
            json!({ "messaging_product": "whatsapp", "to": "abc", "text": { "body": "Hi" } }),
        );
        assert_eq!(
            (&error["code"], &error["error_data"]["details"]),
            (&json!(131009), &json!("Invalid 'to' parameter: abc"))
        );
        let error = refusal(
            json!({ "messaging_product": "whatsapp", "to": "1555", "type": "fax", "fax": {} }),
        );
        assert!(
            error["error_data"]["details"]
                .as_str()
                .is_some_and(|d| d.contains("TEXT, IMAGE"))
        );
        let error = refusal(json!({ "messaging_product": "whatsapp", "to": "1555", "text": {} }));
        assert_eq!(
            error["message"],
            "(#100) The parameter text['body'] is required."
        );
        let error =
            refusal(json!({ "messaging_product": "whatsapp", "to": "1555", "type": "image" }));
        assert_eq!(error["message"], "(#100) The parameter image is required.");
        let error = SendRequest::parse(b"{").err().map(|e| e.body());
        assert_eq!(
            error.map(|body| body["error"]["code"].clone()),
            Some(json!(100))
        );
    }
}
