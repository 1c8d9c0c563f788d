//! Webhook payload types. Meta's payloads drift between API versions and senders, so these types
//! hold only what routing and storage need, accept both string and integer timestamps and ids, and
//! leave everything else in the raw JSON that is stored whole.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components>

mod account;
mod de;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

pub use account::{
    Echo, EchoesValue, PhoneNumberEvent, PreferencesValue, TemplateEvent, UserPreference,
};
use de::{integer, optional_string_or_number, optional_timestamp, string_or_number, timestamp};

/// Reads each item as `T` beside its raw JSON (which is stored whole); `what` names the items in
/// the error.
pub fn with_raw<T: serde::de::DeserializeOwned>(
    items: Vec<Value>,
    what: &str,
) -> Result<Vec<(T, Value)>, String> {
    items
        .into_iter()
        .map(|raw| {
            let typed = T::deserialize(&raw).map_err(|e| format!("malformed {what}: {e}"))?;
            Ok((typed, raw))
        })
        .collect()
}

/// A webhook POST body: `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Notification {
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's share of a notification.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// The WABA id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// When Meta emitted the account-level events (templates, numbers); absent on `messages`.
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change: `field` names its kind, `value` its content.
#[derive(Debug, Deserialize)]
pub struct Change {
    pub field: Field,
    #[serde(default)]
    pub value: Value,
}

/// What a change is about: the fields Switchboard handles, and any other it stores unhandled.
/// <https://developers.facebook.com/docs/graph-api/webhooks/reference/whatsapp-business-account>
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum Field {
    /// Customers' messages and the delivery statuses of ours.
    Messages,
    /// Messages the business sent from the WhatsApp Business app (coexistence).
    SmbMessageEchoes,
    /// A customer's marketing preferences changed in WhatsApp.
    UserPreferences,
    MessageTemplateStatusUpdate,
    MessageTemplateQualityUpdate,
    TemplateCategoryUpdate,
    PhoneNumberQualityUpdate,
    PhoneNumberNameUpdate,
    /// A field with no handler, by Meta's name.
    Other(String),
}

impl Field {
    const HANDLED: [Self; 8] = [
        Self::Messages,
        Self::SmbMessageEchoes,
        Self::UserPreferences,
        Self::MessageTemplateStatusUpdate,
        Self::MessageTemplateQualityUpdate,
        Self::TemplateCategoryUpdate,
        Self::PhoneNumberQualityUpdate,
        Self::PhoneNumberNameUpdate,
    ];

    /// Meta's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Messages => "messages",
            Self::SmbMessageEchoes => "smb_message_echoes",
            Self::UserPreferences => "user_preferences",
            Self::MessageTemplateStatusUpdate => "message_template_status_update",
            Self::MessageTemplateQualityUpdate => "message_template_quality_update",
            Self::TemplateCategoryUpdate => "template_category_update",
            Self::PhoneNumberQualityUpdate => "phone_number_quality_update",
            Self::PhoneNumberNameUpdate => "phone_number_name_update",
            Self::Other(name) => name,
        }
    }
}

impl From<String> for Field {
    fn from(name: String) -> Self {
        Self::HANDLED
            .into_iter()
            .find(|field| field.as_str() == name)
            .unwrap_or(Self::Other(name))
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `value` of a `messages` change: inbound messages and delivery statuses for one number.
#[derive(Debug, Deserialize)]
pub struct MessagesValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<Value>,
    /// Errors not tied to one message (e.g. 130429 throughput).
    #[serde(default)]
    pub errors: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(deserialize_with = "string_or_number")]
    pub phone_number_id: String,
    #[serde(default, deserialize_with = "optional_string_or_number")]
    pub display_phone_number: Option<String>,
}

/// A customer's identity: a phone-based `wa_id`, a business-scoped `user_id`, or both.
#[derive(Debug, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub profile: Option<Profile>,
}

#[derive(Debug, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

/// What storage needs of an inbound message; its whole JSON is kept beside it.
#[derive(Debug, Deserialize)]
pub struct InboundMessage {
    pub id: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub from_user_id: Option<String>,
    #[serde(deserialize_with = "timestamp")]
    pub timestamp: DateTime<Utc>,
    #[serde(rename = "type", default = "unknown_type")]
    pub kind: String,
    #[serde(default)]
    pub context: Option<MessageContext>,
    #[serde(default)]
    pub reaction: Option<Reaction>,
    #[serde(default)]
    pub system: Option<SystemNotice>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
}

/// A `system` message: the customer's number or business-scoped id changed (the new one is here).
#[derive(Debug, Deserialize)]
pub struct SystemNotice {
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

pub(super) fn unknown_type() -> String {
    "unknown".into()
}

/// The message an inbound message replies to (or the product it asks about).
#[derive(Debug, Deserialize)]
pub struct MessageContext {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    /// Absent or empty when the customer removed the reaction.
    #[serde(default)]
    pub emoji: Option<String>,
}

/// A delivery status for a message the business sent.
#[derive(Debug, Deserialize)]
pub struct Status {
    pub id: String,
    pub status: String,
    #[serde(deserialize_with = "timestamp")]
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<WebhookError>,
    #[serde(default)]
    pub pricing: Option<Value>,
    #[serde(default)]
    pub conversation: Option<Value>,
}

/// Meta's error object as webhooks carry it (older payloads put `details` at the top level).
#[derive(Debug, Deserialize)]
pub struct WebhookError {
    #[serde(deserialize_with = "integer")]
    pub code: i64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    #[serde(default)]
    pub details: Option<String>,
}

impl WebhookError {
    /// `error_data.details`, or the legacy top-level `details`.
    pub fn details(&self) -> Option<&str> {
        self.error_data
            .as_ref()
            .and_then(|data| data.details.as_deref())
            .or(self.details.as_deref())
    }
}

#[derive(Debug, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEBHOOKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/webhooks");

    fn corpus() -> Vec<(String, Vec<u8>)> {
        let dir = std::fs::read_dir(WEBHOOKS)
            .unwrap_or_else(|e| panic!("read {WEBHOOKS} (is ../shared beside the repo?): {e}"));
        let mut files: Vec<_> = dir
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        assert!(files.len() > 200, "the webhook corpus looks incomplete");
        files
    }

    /// Meta's documentation pages use placeholders such as `"timestamp": "TIMESTAMP"`.
    fn has_placeholder_timestamp(item: &Value) -> bool {
        item["timestamp"]
            .as_str()
            .is_some_and(|t| t.parse::<i64>().is_err())
    }

    #[test]
    fn fields_we_handle_read_as_themselves_and_others_keep_their_name() {
        for field in Field::HANDLED {
            assert_eq!(Field::from(field.as_str().to_owned()), field);
        }
        let other = Field::from("business_capability_update".to_owned());
        assert_eq!(other, Field::Other("business_capability_update".into()));
        assert_eq!(other.to_string(), "business_capability_update");
    }

    #[test]
    fn every_corpus_webhook_parses_down_to_its_messages_and_statuses() {
        let (mut messages, mut statuses) = (0, 0);
        for (name, body) in corpus() {
            let notification: Notification =
                serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            for change in notification.entry.iter().flat_map(|e| &e.changes) {
                if change.field != Field::Messages {
                    continue;
                }
                let value = MessagesValue::deserialize(&change.value)
                    .unwrap_or_else(|e| panic!("{name}: messages value: {e}"));
                for message in &value.messages {
                    let parsed = InboundMessage::deserialize(message);
                    if has_placeholder_timestamp(message) {
                        let error = parsed.expect_err(&name).to_string();
                        assert!(
                            error.contains("timestamp: expected an integer"),
                            "{name}: {error}"
                        );
                        continue;
                    }
                    parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                    messages += 1;
                }
                for status in &value.statuses {
                    if !has_placeholder_timestamp(status) {
                        Status::deserialize(status).unwrap_or_else(|e| panic!("{name}: {e}"));
                        statuses += 1;
                    }
                }
            }
        }
        assert!(
            messages > 100 && statuses > 30,
            "{messages} messages, {statuses} statuses"
        );
    }

    #[test]
    fn string_and_integer_timestamps_mean_the_same_instant() {
        let a: Status =
            serde_json::from_str(r#"{"id":"w","status":"sent","timestamp":"1697043223"}"#).unwrap();
        let b: Status =
            serde_json::from_str(r#"{"id":"w","status":"sent","timestamp":1697043223}"#).unwrap();
        assert_eq!(a.timestamp, b.timestamp);
        assert_eq!(a.timestamp.timestamp(), 1_697_043_223);
    }

    #[test]
    fn legacy_error_details_are_read_from_the_top_level() {
        let error: WebhookError = serde_json::from_str(
            r#"{"code":131051,"details":"Message type is not currently supported"}"#,
        )
        .unwrap();
        assert_eq!(
            error.details(),
            Some("Message type is not currently supported")
        );
    }
}
