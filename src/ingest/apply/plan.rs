//! Reading a stored event into the work it carries, before anything is written, so that a
//! malformed part rejects the event whole.

use serde::Deserialize;

use super::{echoes, messages, nul, preferences};
use crate::whatsapp::payload::{
    Change, Entry, Field, Notification, PhoneNumberEvent, TemplateEvent,
};

/// The entry a change came in, as account-level events need it.
pub struct EntryInfo {
    pub waba_id: String,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    pub field: Field,
}

pub(super) enum Work {
    Messages(messages::MessagesChange),
    Echoes(echoes::EchoesChange),
    Preferences(preferences::PreferencesChange),
    Template {
        entry: EntryInfo,
        event: TemplateEvent,
    },
    Number {
        entry: EntryInfo,
        event: PhoneNumberEvent,
    },
    Other {
        field: String,
    },
}

/// Parses the whole event before anything is written, so that a malformed part rejects it whole.
pub(super) fn plan(body: &[u8]) -> Result<Vec<Work>, String> {
    let notification: Notification = match nul::parse_replacing(body) {
        None => serde_json::from_slice(body),
        Some(value) => value.and_then(serde_json::from_value),
    }
    .map_err(|e| format!("not a WhatsApp webhook notification: {e}"))?;
    let mut work = Vec::new();
    for Entry { id, time, changes } in notification.entry {
        for Change { field, value } in changes {
            let entry = EntryInfo {
                waba_id: id.clone(),
                time,
                field: field.clone(),
            };
            let malformed =
                |e: serde_json::Error| format!("malformed `{field}` change in entry {id}: {e}");
            work.push(match field {
                Field::Messages => {
                    Work::Messages(messages::parse(value).map_err(|e| format!("entry {id}: {e}"))?)
                }
                Field::SmbMessageEchoes => {
                    Work::Echoes(echoes::parse(value).map_err(|e| format!("entry {id}: {e}"))?)
                }
                Field::UserPreferences => Work::Preferences(
                    preferences::parse(value).map_err(|e| format!("entry {id}: {e}"))?,
                ),
                Field::MessageTemplateStatusUpdate
                | Field::MessageTemplateQualityUpdate
                | Field::TemplateCategoryUpdate => Work::Template {
                    event: TemplateEvent::deserialize(&value).map_err(malformed)?,
                    entry,
                },
                Field::PhoneNumberQualityUpdate | Field::PhoneNumberNameUpdate => Work::Number {
                    event: PhoneNumberEvent::deserialize(&value).map_err(malformed)?,
                    entry,
                },
                Field::Other(field) => Work::Other { field },
            });
        }
    }
    Ok(work)
}

impl Work {
    /// The `messages` change, when the set-based path can apply it whole.
    pub(super) fn plain_messages(&self) -> Option<&messages::MessagesChange> {
        match self {
            Self::Messages(change) if change.is_plain() => Some(change),
            _ => None,
        }
    }
}
