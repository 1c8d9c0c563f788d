//! A message's content as a [`Body`]: one variant per kind of message, read from the stored JSON
//! whichever way it came (a webhook's message object, an echo, or the Graph request we sent), so
//! every type renders as something meaningful, and a type we do not know as a clear placeholder.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages>

use serde_json::Value;

use super::{
    StoredMessage,
    markup::{Markup, format},
    media_url,
    parts::{self, Choice, ContactCard, Form, Location, Order, Prompt, text_at},
    template::TemplateView,
};

/// What a message says or shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(Markup),
    Image(Media),
    Sticker(Media),
    Video(Media),
    /// Audio, and voice notes.
    Audio(Audio),
    Document(Document),
    Location(Location),
    Contacts(Vec<ContactCard>),
    /// The customer picked one of our options: a reply button, a list row, a template's button.
    Choice(Choice),
    /// The customer completed a WhatsApp Flow.
    Form(Form),
    Order(Order),
    /// Reply buttons or a list we sent.
    Prompt(Prompt),
    Template(TemplateView),
    /// Something that happened rather than something said: a changed number, a new chat, ….
    Notice(String),
    Unsupported(Unsupported),
    /// Its sender deleted it.
    Deleted,
}

/// An image, sticker or video, served by the media route.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub src: String,
    /// What the image shows, for screen readers: its caption, or what it is.
    pub alt: String,
    pub caption: Option<Markup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    pub src: String,
    /// Recorded in WhatsApp as a voice note.
    pub voice: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub src: String,
    pub filename: String,
    /// In bytes, when Meta said.
    pub size: Option<u64>,
    pub caption: Option<Markup>,
}

/// A message WhatsApp did not pass on (a poll, a new type, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// What it was, when Meta said (`unsupported.type`, or the type we did not know).
    pub kind: Option<String>,
    /// Meta's reason (the error's details or title).
    pub reason: Option<String>,
}

/// Message types whose content sits under a key of the same name.
const KINDS: [&str; 14] = [
    "text",
    "image",
    "sticker",
    "video",
    "audio",
    "voice",
    "document",
    "location",
    "contacts",
    "interactive",
    "button",
    "order",
    "template",
    "reaction",
];

impl Body {
    /// The body of a stored message; a deleted one shows only that it was deleted.
    pub(super) fn of(message: &StoredMessage<'_>) -> Self {
        if message.deleted {
            return Self::Deleted;
        }
        let content = message.content;
        let (kind, part) = content_part(message.kind, content);
        let src = || media_url(message.id);
        let caption = || text_at(part, "/caption").map(format);
        let media = |what: &str| Media {
            src: src(),
            alt: text_at(part, "/caption").unwrap_or(what).to_owned(),
            caption: caption(),
        };
        match kind {
            "text" => Self::Text(format(text_at(part, "/body").unwrap_or_default())),
            "image" => Self::Image(media("Photo")),
            "sticker" => Self::Sticker(media("Sticker")),
            "video" => Self::Video(media("Video")),
            "audio" | "voice" => Self::Audio(Audio {
                src: src(),
                voice: kind == "voice" || part.get("voice") == Some(&Value::Bool(true)),
            }),
            "document" => Self::Document(Document {
                src: src(),
                filename: text_at(part, "/filename").unwrap_or("Document").to_owned(),
                size: part.get("file_size").and_then(parts::number),
                caption: caption(),
            }),
            "location" => Self::Location(Location::of(part)),
            "contacts" => Self::Contacts(ContactCard::all(part)),
            "interactive" => parts::interactive(part).unwrap_or_else(|| unsupported(content)),
            "button" => Self::Choice(Choice {
                title: text_at(part, "/text").unwrap_or("A button").to_owned(),
                description: None,
            }),
            "order" => Self::Order(Order::of(part)),
            "template" => Self::Template(TemplateView::of(part, message.template.as_ref())),
            "reaction" => Self::Notice(match text_at(part, "/emoji") {
                Some(emoji) => format!("Reacted {emoji} to a message"),
                None => "Removed a reaction".into(),
            }),
            "system" => Self::Notice(system(part)),
            "request_welcome" => Self::Notice("Opened the chat for the first time".into()),
            "erased" => Self::Notice("Erased at the customer's request".into()),
            _ => unsupported(content),
        }
    }

    /// A short name of the variant, for CSS classes and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::Image(_) => "image",
            Self::Sticker(_) => "sticker",
            Self::Video(_) => "video",
            Self::Audio(_) => "audio",
            Self::Document(_) => "document",
            Self::Location(_) => "location",
            Self::Contacts(_) => "contacts",
            Self::Choice(_) => "choice",
            Self::Form(_) => "form",
            Self::Order(_) => "order",
            Self::Prompt(_) => "prompt",
            Self::Template(_) => "template",
            Self::Notice(_) => "notice",
            Self::Unsupported(_) => "unsupported",
            Self::Deleted => "deleted",
        }
    }
}

/// The kind a stored message shows as (`image`, `document`, `text`, …) from its `type` column and
/// content, and the part of the content that kind reads (null when there is none): the media route
/// looks for the media where the thread shows it.
pub fn content_part<'a>(column: &'a str, content: &'a Value) -> (&'a str, &'a Value) {
    let kind = kind_of(column, content);
    (kind, content.get(kind).unwrap_or(&Value::Null))
}

/// The message's type: the content's own `type` (an edit may have changed it), else the column's;
/// when neither is one we know (Meta has sent messages without a `type`), the known key the content
/// has, if any.
fn kind_of<'a>(column: &'a str, content: &'a Value) -> &'a str {
    let given = content
        .get("type")
        .and_then(Value::as_str)
        .filter(|kind| !kind.is_empty())
        .unwrap_or(column);
    if KINDS.contains(&given) || content.get(given).is_some() {
        return given;
    }
    KINDS
        .into_iter()
        .find(|kind| content.get(kind).is_some_and(Value::is_object))
        .unwrap_or(given)
}

fn system(part: &Value) -> String {
    if let Some(body) = text_at(part, "/body") {
        return body.to_owned();
    }
    match text_at(part, "/type") {
        Some("user_changed_number") => "The customer changed their phone number".into(),
        Some("user_changed_user_id") => "The customer's WhatsApp account changed".into(),
        Some("customer_identity_changed") => "The customer's security code changed".into(),
        _ => "A WhatsApp system message".into(),
    }
}

fn unsupported(content: &Value) -> Body {
    let error = content.pointer("/errors/0");
    let reason = error.and_then(|error| {
        ["/error_data/details", "/details", "/title", "/message"]
            .into_iter()
            .find_map(|pointer| text_at(error, pointer))
    });
    let kind = text_at(content, "/unsupported/type").or_else(|| {
        text_at(content, "/type").filter(|kind| !matches!(*kind, "unsupported" | "unknown"))
    });
    Body::Unsupported(Unsupported {
        kind: kind.map(str::to_owned),
        reason: reason.map(str::to_owned),
    })
}
