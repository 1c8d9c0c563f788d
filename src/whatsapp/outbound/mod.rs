//! What we send: the content an agent (or an API caller) composes, checked against WhatsApp's
//! limits, and turned into the body of Meta's `POST /{phone-number-id}/messages`. Only templates
//! may go out after the 24-hour customer service window closes; everything else is free-form.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use limits::{
    required, validate_buttons, validate_frame, validate_media, validate_sections,
    validate_template,
};

mod limits;

use super::customer_id::CustomerId;

/// Content an agent (or an API caller) sends. Everything but `Template` is free-form and may only
/// go out inside the 24-hour window. Serialised as `{"type": "text", "body": …, …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outbound {
    /// Plain text; `preview_url` asks WhatsApp to render a preview of the first link.
    Text {
        body: String,
        #[serde(default)]
        preview_url: bool,
    },
    /// An image, audio, video, document or sticker, by uploaded media id or by public link.
    Media {
        kind: MediaKind,
        source: MediaSource,
        /// Image, video and document only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// Document only: the name the recipient sees.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
    /// Interactive reply buttons (1 to 3).
    Buttons {
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        buttons: Vec<ReplyButton>,
    },
    /// An interactive list: `button` opens it, the customer picks one row.
    List {
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        button: String,
        sections: Vec<ListSection>,
    },
    /// A reaction to `message_id`; an empty `emoji` removes our reaction.
    Reaction { message_id: String, emoji: String },
    /// A location, contact cards, or any other interactive message (a call-to-action URL, a flow,
    /// a product…) as Meta's Graph API takes it: the object under its type's key, passed on as
    /// given (programs calling the Meta-compatible endpoint send every kind Meta accepts).
    AsGiven { kind: GivenKind, object: Value },
    /// An approved template; `components` is Meta's components array (may be `[]`).
    Template {
        name: String,
        language: String,
        #[serde(default = "no_components")]
        components: Value,
    },
}

/// The kinds of media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
}

/// The kinds of message passed on as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GivenKind {
    Location,
    Contacts,
    Interactive,
}

impl GivenKind {
    /// The Graph `type` and the key of the object.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::Interactive => "interactive",
        }
    }
}

/// Where WhatsApp fetches the media from: `{"id": …}` (uploaded to `/media`) or `{"link": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaSource {
    Id(String),
    Link(String),
}

/// One reply button: `id` comes back in the customer's `button_reply`, `title` is what they see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

/// A titled group of rows in a list message (the title is required when there are several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

/// One choice of a list message: `id` comes back in the customer's `list_reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn no_components() -> Value {
    Value::Array(Vec::new())
}

impl MediaKind {
    /// The Graph `type` and the key of the media object (`"image"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }

    /// How the inbox labels it, as for inbound media.
    fn label(self) -> &'static str {
        match self {
            Self::Image => "Photo",
            Self::Audio => "Audio",
            Self::Video => "Video",
            Self::Document => "Document",
            Self::Sticker => "Sticker",
        }
    }

    /// Meta accepts a caption on images, videos and documents only.
    fn takes_caption(self) -> bool {
        matches!(self, Self::Image | Self::Video | Self::Document)
    }
}

impl Outbound {
    /// The body of `POST /{phone-number-id}/messages` to `to` (a wa_id, or a business-scoped user
    /// id, which Meta takes as `recipient`), optionally replying to `reply_to`
    /// (`context.message_id`).
    pub fn to_request(&self, to: &str, reply_to: Option<&str>) -> Value {
        let kind = self.kind();
        let addressed_as = match CustomerId::parse(to) {
            Ok(CustomerId::UserId(_)) => "recipient",
            _ => "to",
        };
        let mut request = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            addressed_as: to,
            "type": kind,
        });
        request[kind] = self.payload();
        if let Some(message_id) = reply_to {
            request["context"] = json!({ "message_id": message_id });
        }
        request
    }

    /// True for everything but templates.
    pub fn is_free_form(&self) -> bool {
        !matches!(self, Self::Template { .. })
    }

    /// The Graph `type` ("text", "image", …, "interactive", "reaction", "template").
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Media { kind, .. } => kind.as_str(),
            Self::Buttons { .. } | Self::List { .. } => "interactive",
            Self::AsGiven { kind, .. } => kind.as_str(),
            Self::Reaction { .. } => "reaction",
            Self::Template { .. } => "template",
        }
    }

    /// One line for the inbox: the text, "[Photo] caption", "Reacted 👍", "Template order_update", …
    pub fn summary(&self) -> String {
        match self {
            Self::Text { body, .. } | Self::Buttons { body, .. } | Self::List { body, .. } => {
                body.clone()
            }
            Self::Media {
                kind,
                caption,
                filename,
                ..
            } => match caption.as_deref().or(filename.as_deref()) {
                Some(text) if !text.is_empty() => format!("[{}] {text}", kind.label()),
                _ => format!("[{}]", kind.label()),
            },
            Self::Reaction { emoji, .. } if emoji.is_empty() => "Removed a reaction".into(),
            Self::Reaction { emoji, .. } => format!("Reacted {emoji}"),
            Self::Template { name, .. } => format!("Template {name}"),
            Self::AsGiven { kind, object } => given_summary(*kind, object),
        }
    }

    /// Checks the limits WhatsApp enforces, so an agent hears about them before anything is
    /// queued. The error is a sentence for that agent.
    /// <https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages>
    /// <https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages>
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Text { body, .. } => required("The text", body, 4096),
            Self::Media {
                kind,
                source,
                caption,
                filename,
            } => validate_media(*kind, source, caption.as_deref(), filename.as_deref()),
            Self::Buttons {
                body,
                header,
                footer,
                buttons,
            } => {
                validate_frame(body, 1024, header.as_deref(), footer.as_deref())?;
                validate_buttons(buttons)
            }
            Self::List {
                body,
                header,
                footer,
                button,
                sections,
            } => {
                validate_frame(body, 4096, header.as_deref(), footer.as_deref())?;
                required("The list button text", button, 20)?;
                validate_sections(sections)
            }
            Self::Reaction { message_id, .. } if message_id.trim().is_empty() => {
                Err("A reaction needs the message it reacts to.".into())
            }
            Self::Reaction { .. } => Ok(()),
            Self::AsGiven { kind, object } => validate_given(*kind, object),
            Self::Template {
                name,
                language,
                components,
            } => validate_template(name, language, components),
        }
    }

    /// The object under the request's `type` key.
    fn payload(&self) -> Value {
        match self {
            Self::Text { body, preview_url } => json!({ "body": body, "preview_url": preview_url }),
            Self::Media {
                source,
                caption,
                filename,
                ..
            } => media_object(source, caption.as_deref(), filename.as_deref()),
            Self::Buttons {
                body,
                header,
                footer,
                buttons,
            } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }))
                    .collect();
                let action = json!({ "buttons": buttons });
                interactive("button", body, header.as_deref(), footer.as_deref(), action)
            }
            Self::List {
                body,
                header,
                footer,
                button,
                sections,
            } => {
                let sections: Vec<Value> = sections.iter().map(section_object).collect();
                let action = json!({ "button": button, "sections": sections });
                interactive("list", body, header.as_deref(), footer.as_deref(), action)
            }
            Self::Reaction { message_id, emoji } => {
                json!({ "message_id": message_id, "emoji": emoji })
            }
            Self::Template {
                name,
                language,
                components,
            } => template_object(name, language, components),
            Self::AsGiven { object, .. } => object.clone(),
        }
    }
}

/// One line for the inbox about a message passed on as given.
fn given_summary(kind: GivenKind, object: &Value) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    };
    match kind {
        GivenKind::Location => match text("/name").or_else(|| text("/address")) {
            Some(place) => format!("[Location] {place}"),
            None => "[Location]".into(),
        },
        GivenKind::Contacts => match text("/0/name/formatted_name") {
            Some(name) => format!("[Contact] {name}"),
            None => "[Contact]".into(),
        },
        GivenKind::Interactive => text("/body/text")
            .map(str::to_owned)
            .unwrap_or_else(|| "[Interactive message]".into()),
    }
}

/// What Meta needs before it looks further: a location's coordinates, at least one contact card,
/// an interactive message's type. The rest is Meta's to check.
fn validate_given(kind: GivenKind, object: &Value) -> Result<(), String> {
    let ok = match kind {
        GivenKind::Location => {
            object.get("latitude").is_some() && object.get("longitude").is_some()
        }
        GivenKind::Contacts => object.as_array().is_some_and(|cards| !cards.is_empty()),
        GivenKind::Interactive => object.get("type").and_then(Value::as_str).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(match kind {
            GivenKind::Location => "A location needs its latitude and longitude.",
            GivenKind::Contacts => "A contacts message needs at least one contact card.",
            GivenKind::Interactive => "An interactive message needs its type.",
        }
        .into())
    }
}

fn media_object(source: &MediaSource, caption: Option<&str>, filename: Option<&str>) -> Value {
    let mut media = Map::new();
    match source {
        MediaSource::Id(id) => media.insert("id".into(), id.as_str().into()),
        MediaSource::Link(link) => media.insert("link".into(), link.as_str().into()),
    };
    insert_some(&mut media, "caption", caption);
    insert_some(&mut media, "filename", filename);
    Value::Object(media)
}

/// Reply buttons and lists share this frame; both take a text header only.
fn interactive(
    kind: &str,
    body: &str,
    header: Option<&str>,
    footer: Option<&str>,
    action: Value,
) -> Value {
    let mut interactive = Map::new();
    interactive.insert("type".into(), kind.into());
    if let Some(header) = header {
        interactive.insert("header".into(), json!({ "type": "text", "text": header }));
    }
    interactive.insert("body".into(), json!({ "text": body }));
    if let Some(footer) = footer {
        interactive.insert("footer".into(), json!({ "text": footer }));
    }
    interactive.insert("action".into(), action);
    Value::Object(interactive)
}

fn section_object(section: &ListSection) -> Value {
    let rows: Vec<Value> = section
        .rows
        .iter()
        .map(|row| {
            let mut object = Map::new();
            object.insert("id".into(), row.id.as_str().into());
            object.insert("title".into(), row.title.as_str().into());
            insert_some(&mut object, "description", row.description.as_deref());
            Value::Object(object)
        })
        .collect();
    let mut object = Map::new();
    insert_some(&mut object, "title", section.title.as_deref());
    object.insert("rows".into(), rows.into());
    Value::Object(object)
}

/// Templates without parameters leave `components` out rather than send an empty array.
fn template_object(name: &str, language: &str, components: &Value) -> Value {
    let mut template = json!({ "name": name, "language": { "code": language } });
    let empty = components.is_null() || components.as_array().is_some_and(Vec::is_empty);
    if !empty {
        template["components"] = components.clone();
    }
    template
}

fn insert_some(object: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        object.insert(key.into(), value.into());
    }
}

#[cfg(test)]
mod tests;
