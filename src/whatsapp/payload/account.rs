//! The other fields we apply besides `messages`: template and number events, the business's own
//! messages from the WhatsApp Business app (echoes), and customers' marketing preferences.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{
    MessageContext, Metadata,
    de::{optional_string_or_number, string_or_number, timestamp},
    unknown_type,
};

/// The `value` of a `smb_message_echoes` change: messages the business sent from the WhatsApp
/// Business app on a number it shares with the Cloud API.
/// <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/smb_message_echoes>
#[derive(Debug, Deserialize)]
pub struct EchoesValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub message_echoes: Vec<Value>,
}

/// What storage needs of an echo; its whole JSON is kept beside it.
#[derive(Debug, Deserialize)]
pub struct Echo {
    pub id: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub to_user_id: Option<String>,
    #[serde(deserialize_with = "timestamp")]
    pub timestamp: DateTime<Utc>,
    #[serde(rename = "type", default = "unknown_type")]
    pub kind: String,
    #[serde(default)]
    pub context: Option<MessageContext>,
}

/// The `value` of a `user_preferences` change: a customer changed their marketing preferences in
/// WhatsApp itself.
/// <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/user_preferences>
#[derive(Debug, Deserialize)]
pub struct PreferencesValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub user_preferences: Vec<UserPreference>,
}

#[derive(Debug, Deserialize)]
pub struct UserPreference {
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// `marketing_messages` for marketing opt-outs.
    pub category: String,
    /// `stop` or `resume`.
    pub value: String,
    #[serde(deserialize_with = "timestamp")]
    pub timestamp: DateTime<Utc>,
}

/// `message_template_status_update`, `message_template_quality_update`,
/// `template_category_update` and `message_template_components_update` share these fields.
#[derive(Debug, Deserialize)]
pub struct TemplateEvent {
    #[serde(default, deserialize_with = "optional_string_or_number")]
    pub message_template_id: Option<String>,
    pub message_template_name: String,
    pub message_template_language: String,
    /// Status updates: APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, …
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message_template_category: Option<String>,
    #[serde(default)]
    pub rejection_info: Option<Value>,
    #[serde(default)]
    pub new_quality_score: Option<String>,
    #[serde(default)]
    pub new_category: Option<String>,
}

/// `phone_number_quality_update` and `phone_number_name_update`.
#[derive(Debug, Deserialize)]
pub struct PhoneNumberEvent {
    #[serde(deserialize_with = "string_or_number")]
    pub display_phone_number: String,
    /// Quality updates: FLAGGED, UNFLAGGED, THROUGHPUT_UPGRADE, …
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub current_limit: Option<String>,
    /// Name updates: APPROVED, REJECTED, …
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub requested_verified_name: Option<String>,
}
