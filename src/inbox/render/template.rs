//! A template message we sent: with its stored definition, the text the customer read (its values
//! filled in, WhatsApp's formatting applied); without one, its name and the values it was sent with.

use serde_json::Value;

use super::{
    markup::{Markup, format},
    parts::text_at,
};
use crate::whatsapp::template_check::{TemplateDefinition, filled_text};

/// A template message.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateView {
    pub name: String,
    pub language: Option<String>,
    /// The message as the customer read it, when the template's definition is at hand.
    pub text: Option<FilledTemplate>,
    /// Otherwise the values it was sent with, in order (header, body, buttons).
    pub values: Vec<String>,
}

/// A template's text with its values filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct FilledTemplate {
    pub header: Option<String>,
    /// "Image", "Video", "Document" or "Location" for a header that is not text.
    pub header_media: Option<String>,
    pub body: Markup,
    pub footer: Option<String>,
    pub buttons: Vec<String>,
}

impl TemplateView {
    /// The view of a send's `template` object (`{"name", "language": {"code"}, "components"}`).
    pub(super) fn of(part: &Value, definition: Option<&TemplateDefinition<'_>>) -> Self {
        let components = part.get("components").unwrap_or(&Value::Null);
        let text = definition.map(|definition| {
            let text = filled_text(definition, components);
            FilledTemplate {
                header: text.header,
                header_media: text.header_media.map(|kind| capitalised(&kind)),
                body: format(&text.body),
                footer: text.footer,
                buttons: text.buttons,
            }
        });
        let values = match text {
            Some(_) => Vec::new(),
            None => values(components),
        };
        Self {
            name: text_at(part, "/name").unwrap_or("A template").to_owned(),
            language: text_at(part, "/language/code")
                .or_else(|| text_at(part, "/language"))
                .map(str::to_owned),
            text,
            values,
        }
    }
}

/// Every parameter's value, as text: text and the fallbacks of currencies and dates, the links or
/// kinds of media, button payloads and coupon codes.
fn values(components: &Value) -> Vec<String> {
    let components = components.as_array().map_or(&[][..], Vec::as_slice);
    let parameters = components
        .iter()
        .filter_map(|component| component.get("parameters").and_then(Value::as_array))
        .flatten();
    parameters
        .filter_map(|param| {
            let kind = text_at(param, "/type")?.to_ascii_lowercase();
            let value = match kind.as_str() {
                "text" => text_at(param, "/text"),
                "payload" => text_at(param, "/payload"),
                "coupon_code" => text_at(param, "/coupon_code"),
                "currency" | "date_time" => text_at(param, &format!("/{kind}/fallback_value")),
                _ => None,
            };
            Some(value.map_or_else(|| format!("[{}]", capitalised(&kind)), str::to_owned))
        })
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
