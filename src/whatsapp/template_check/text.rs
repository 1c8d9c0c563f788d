//! A template send as its recipient reads it: the definition's header, body, footer and buttons,
//! with the send's parameters in the `{{…}}` placeholders, matched to them as [`check`] matches
//! them (by name for named templates, in order otherwise). Placeholders without a value stay as
//! written.
//!
//! [`check`]: super::check

use serde_json::Value;

use super::TemplateDefinition;
use super::definition::Template;
use super::json::{param_type, parameters, str_at, str_of};
use super::placeholders::{hydrate, placeholders};

/// The text parts of a template message, filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateText {
    /// A text header.
    pub header: Option<String>,
    /// The kind of a header that is not text: `image`, `video`, `document` or `location`.
    pub header_media: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    /// The buttons' labels, in order.
    pub buttons: Vec<String>,
}

/// `definition` filled in with `send_components` (the send's `template.components`).
pub fn filled_text(definition: &TemplateDefinition<'_>, send_components: &Value) -> TemplateText {
    let template = Template::read(definition);
    let sent = send_components.as_array().map_or(&[][..], Vec::as_slice);
    let sent_parameters = |kind: &str| {
        let component = sent
            .iter()
            .find(|c| str_of(c, "type").eq_ignore_ascii_case(kind));
        component.map_or(&[][..], |c| parameters(c))
    };
    let fill = |component: &Value, params: &[Value]| {
        let text = str_of(component, "text");
        let names = placeholders(text);
        hydrate(text, |name| {
            let param = if template.named {
                params
                    .iter()
                    .find(|p| p.get("parameter_name").and_then(Value::as_str) == Some(name))
            } else {
                names
                    .iter()
                    .position(|n| *n == name)
                    .and_then(|i| params.get(i))
            };
            param.and_then(text_value)
        })
    };
    let header_format = template.header.map(|header| {
        let format = header.get("format").and_then(Value::as_str);
        format.unwrap_or("TEXT").to_ascii_lowercase()
    });
    let non_empty = |text: String| (!text.trim().is_empty()).then_some(text);
    let footer = template
        .components
        .iter()
        .find(|c| str_of(c, "type").eq_ignore_ascii_case("FOOTER"));
    TemplateText {
        header: template
            .header
            .filter(|_| header_format.as_deref() == Some("text"))
            .and_then(|header| non_empty(fill(header, sent_parameters("header")))),
        header_media: header_format.filter(|format| format != "text"),
        body: template
            .body
            .map(|body| fill(body, sent_parameters("body")))
            .unwrap_or_default(),
        footer: footer.and_then(|footer| non_empty(str_of(footer, "text").to_owned())),
        buttons: template
            .buttons
            .iter()
            .filter_map(|button| non_empty(str_of(button, "text").to_owned()))
            .collect(),
    }
}

/// The text a text, currency or date_time parameter puts in the message.
fn text_value(param: &Value) -> Option<&str> {
    match param_type(param).as_str() {
        "text" => str_at(param, "/text"),
        "currency" => str_at(param, "/currency/fallback_value"),
        "date_time" => str_at(param, "/date_time/fallback_value"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::whatsapp::template_check::fixtures::*;

    #[test]
    fn positional_values_fill_the_body_in_order() {
        let components = schedule_confirmation3();
        let text = filled_text(
            &positional(&components),
            &json!([body(&["Ana", "04/11", "13:30"])]),
        );
        assert!(text.body.contains("Ana"), "{text:?}");
        assert!(!text.body.contains("{{"), "{text:?}");
    }

    #[test]
    fn named_values_fill_their_placeholders_in_any_order() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: Some("NAMED"),
        };
        let send = json!([{"type": "body", "parameters": [named("order_number", "860198"), named("name", "Ana")]}]);
        let text = filled_text(&definition, &send);
        assert!(text.body.contains("Ana"), "{text:?}");
        assert!(text.body.contains("860198"), "{text:?}");
    }

    #[test]
    fn header_footer_buttons_and_fallback_values_read_as_sent() {
        let definition = json!([
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}" },
            { "type": "BODY", "text": "Total {{1}} due {{2}}, ref {{3}}" },
            { "type": "FOOTER", "text": "Reply STOP to opt out" },
            { "type": "BUTTONS", "buttons": [{ "type": "QUICK_REPLY", "text": "Track" }] }
        ]);
        let send = json!([
            { "type": "header", "parameters": [{ "type": "text", "text": "#1042" }] },
            { "type": "body", "parameters": [
                { "type": "currency", "currency": { "fallback_value": "$10.50", "code": "USD", "amount_1000": 10500 } },
                { "type": "date_time", "date_time": { "fallback_value": "May 1" } }
            ]}
        ]);
        let text = filled_text(&positional(&definition), &send);
        assert_eq!(
            text,
            TemplateText {
                header: Some("Order #1042".into()),
                header_media: None,
                body: "Total $10.50 due May 1, ref {{3}}".into(),
                footer: Some("Reply STOP to opt out".into()),
                buttons: vec!["Track".into()],
            }
        );
        let media =
            json!([{ "type": "HEADER", "format": "IMAGE" }, { "type": "BODY", "text": "Hi" }]);
        let text = filled_text(&positional(&media), &json!([]));
        assert_eq!(
            (
                text.header,
                text.header_media.as_deref(),
                text.body.as_str()
            ),
            (None, Some("image"), "Hi")
        );
    }
}
