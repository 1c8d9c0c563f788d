//! What we send: the content an agent (or an API caller) composes, checked against WhatsApp's
//! limits, and turned into the body of Meta's `POST /{phone-number-id}/messages`. Only templates
//! may go out after the 24-hour customer service window closes; everything else is free-form.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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
    /// The body of `POST /{phone-number-id}/messages` to `to` (a wa_id), optionally replying to
    /// `reply_to` (`context.message_id`).
    pub fn to_request(&self, to: &str, reply_to: Option<&str>) -> Value {
        let kind = self.kind();
        let mut request = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
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
        }
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

/// `what` must be non-blank and at most `max` characters.
fn required(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} is empty."));
    }
    at_most(what, value, max)
}

fn at_most(what: &str, value: &str, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "{what} is {length} characters long; WhatsApp allows at most {max}."
        ));
    }
    Ok(())
}

fn validate_media(
    kind: MediaKind,
    source: &MediaSource,
    caption: Option<&str>,
    filename: Option<&str>,
) -> Result<(), String> {
    match source {
        MediaSource::Id(id) if id.trim().is_empty() => return Err("The media id is empty.".into()),
        MediaSource::Link(link)
            if !(link.starts_with("https://") || link.starts_with("http://")) =>
        {
            return Err("The media link must be an http(s) URL.".into());
        }
        _ => {}
    }
    if let Some(caption) = caption {
        if !kind.takes_caption() {
            return Err(format!(
                "WhatsApp does not show a caption on {}.",
                kind.as_str()
            ));
        }
        at_most("The caption", caption, 1024)?;
    }
    if filename.is_some() && kind != MediaKind::Document {
        return Err("Only documents have a file name.".into());
    }
    Ok(())
}

fn validate_frame(
    body: &str,
    max_body: usize,
    header: Option<&str>,
    footer: Option<&str>,
) -> Result<(), String> {
    required("The message text", body, max_body)?;
    if let Some(header) = header {
        required("The header", header, 60)?;
    }
    if let Some(footer) = footer {
        required("The footer", footer, 60)?;
    }
    Ok(())
}

fn validate_buttons(buttons: &[ReplyButton]) -> Result<(), String> {
    if buttons.is_empty() || buttons.len() > 3 {
        return Err(format!(
            "A message has 1 to 3 reply buttons, not {}.",
            buttons.len()
        ));
    }
    for (i, button) in buttons.iter().enumerate() {
        required("A button id", &button.id, 256)?;
        required("A button title", &button.title, 20)?;
        if buttons[..i].iter().any(|earlier| earlier.id == button.id) {
            return Err(format!("Two buttons have the id {:?}.", button.id));
        }
    }
    Ok(())
}

fn validate_sections(sections: &[ListSection]) -> Result<(), String> {
    if sections.is_empty() || sections.len() > 10 {
        return Err(format!(
            "A list has 1 to 10 sections, not {}.",
            sections.len()
        ));
    }
    let rows: Vec<&ListRow> = sections.iter().flat_map(|s| &s.rows).collect();
    if rows.is_empty() || rows.len() > 10 {
        return Err(format!(
            "A list has 1 to 10 rows in all, not {}.",
            rows.len()
        ));
    }
    for section in sections {
        match &section.title {
            Some(title) => required("A section title", title, 24)?,
            None if sections.len() > 1 => {
                return Err("Each section needs a title when there are several.".into());
            }
            None => {}
        }
    }
    for (i, row) in rows.iter().enumerate() {
        required("A row id", &row.id, 200)?;
        required("A row title", &row.title, 24)?;
        if let Some(description) = &row.description {
            at_most("A row description", description, 72)?;
        }
        if rows[..i].iter().any(|earlier| earlier.id == row.id) {
            return Err(format!("Two rows have the id {:?}.", row.id));
        }
    }
    Ok(())
}

fn validate_template(name: &str, language: &str, components: &Value) -> Result<(), String> {
    required("The template name", name, 512)?;
    required("The template language", language, 16)?;
    if !(components.is_array() || components.is_null()) {
        return Err("Template components must be a list.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/graph");
    /// The `to` of Meta's OpenAPI examples.
    const TO: &str = "{{Recipient-Phone-Number}}";

    fn corpus(name: &str) -> Value {
        let text = std::fs::read_to_string(format!("{GRAPH}/{name}"))
            .unwrap_or_else(|e| panic!("read {name} (is ../shared beside the repo?): {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The ruby cassettes send `to` as a JSON number; we always send the wa_id as a string.
    fn ruby(name: &str) -> (String, Value) {
        let mut request = corpus(name);
        let to = request["to"].as_u64().unwrap().to_string();
        request["to"] = to.clone().into();
        (to, request)
    }

    fn text(body: &str) -> Outbound {
        Outbound::Text {
            body: body.into(),
            preview_url: false,
        }
    }

    fn media(kind: MediaKind, source: MediaSource) -> Outbound {
        Outbound::Media {
            kind,
            source,
            caption: None,
            filename: None,
        }
    }

    fn button(id: &str, title: &str) -> ReplyButton {
        ReplyButton {
            id: id.into(),
            title: title.into(),
        }
    }

    fn row(id: &str, title: &str, description: Option<&str>) -> ListRow {
        ListRow {
            id: id.into(),
            title: title.into(),
            description: description.map(Into::into),
        }
    }

    fn buttons(buttons: Vec<ReplyButton>) -> Outbound {
        Outbound::Buttons {
            body: "Pick one".into(),
            header: None,
            footer: None,
            buttons,
        }
    }

    fn list(button: &str, sections: Vec<ListSection>) -> Outbound {
        Outbound::List {
            body: "Pick one".into(),
            header: None,
            footer: None,
            button: button.into(),
            sections,
        }
    }

    fn section(title: &str, rows: usize) -> ListSection {
        let rows = (0..rows)
            .map(|i| row(&format!("{title}-{i}"), &format!("Row {i}"), None))
            .collect();
        ListSection {
            title: Some(title.into()),
            rows,
        }
    }

    #[test]
    fn text_matches_meta_example() {
        let request = text("text-message-content").to_request(TO, None);
        assert_eq!(request, corpus("openapi__send_request__text_message.json"));
    }

    #[test]
    fn text_with_preview_url_matches_meta_example() {
        let expected = corpus("openapi__send_request__text_message_with_preview_url.json");
        let message = Outbound::Text {
            body: "Please visit https://youtu.be/hpltvTEiRrY.".into(),
            preview_url: true,
        };
        let request = message.to_request(TO, None);
        assert_eq!(request["text"], expected["text"]);
        assert_eq!(request["to"], expected["to"]);
    }

    #[test]
    fn a_reply_carries_the_context_message_id() {
        let request = text("<TEXT_MSG_CONTENT>").to_request(TO, Some("<MSGID_OF_PREV_MSG>"));
        assert_eq!(
            request,
            corpus("openapi__send_request__reply_to_text_message.json")
        );
        let (to, expected) =
            ruby("ruby__messages__send_message_accept_message_id_to_reply_a_message__request.json");
        let request = text("gracias").to_request(&to, expected["context"]["message_id"].as_str());
        assert_eq!(request["context"], expected["context"]);
    }

    #[test]
    fn media_by_id_and_by_link_match_meta_examples() {
        use MediaKind::*;
        let cases = [
            (
                Image,
                MediaSource::Id("<IMAGE_OBJECT_ID>".into()),
                "image_message_by_id",
            ),
            (
                Image,
                MediaSource::Link("http(s)://image-url".into()),
                "image_message_by_url",
            ),
            (
                Audio,
                MediaSource::Id("<AUDIO_OBJECT_ID>".into()),
                "audio_message_by_id",
            ),
            (
                Audio,
                MediaSource::Link("<http(s)://audio-url>".into()),
                "audio_message_by_url",
            ),
            (
                Sticker,
                MediaSource::Id("<MEDIA_OBJECT_ID>".into()),
                "sticker_message_by_id",
            ),
        ];
        for (kind, source, name) in cases {
            let expected = corpus(&format!("openapi__send_request__{name}.json"));
            assert_eq!(media(kind, source).to_request(TO, None), expected, "{name}");
        }
    }

    #[test]
    fn a_reply_with_an_image_matches_meta_example() {
        let request = media(
            MediaKind::Image,
            MediaSource::Id("<IMAGE_OBJECT_ID>".into()),
        )
        .to_request(TO, Some("<MSGID_OF_PREV_MSG>"));
        assert_eq!(
            request,
            corpus("openapi__send_request__reply_to_image_message_by_id.json")
        );
    }

    #[test]
    fn captioned_video_and_document_with_filename_match_meta_examples() {
        let video = Outbound::Media {
            kind: MediaKind::Video,
            source: MediaSource::Id("<VIDEO_OBJECT_ID>".into()),
            caption: Some("<VIDEO_CAPTION_TEXT>".into()),
            filename: None,
        };
        assert_eq!(
            video.to_request(TO, None),
            corpus("openapi__send_request__video_message_by_id.json")
        );
        let document = Outbound::Media {
            kind: MediaKind::Document,
            source: MediaSource::Id("<DOCUMENT_OBJECT_ID>".into()),
            caption: Some("<DOCUMENT_CAPTION_TO_SEND>".into()),
            filename: Some("<DOCUMENT_FILENAME>".into()),
        };
        assert_eq!(
            document.to_request(TO, None),
            corpus("openapi__send_request__document_message_by_id.json")
        );
        let (to, expected) =
            ruby("ruby__messages__send_document_message_with_file_name__request.json");
        let document = Outbound::Media {
            kind: MediaKind::Document,
            source: MediaSource::Id("1753306975419607".into()),
            caption: Some("Ignacio Chiazzo Profile".into()),
            filename: Some("custom_name".into()),
        };
        assert_eq!(document.to_request(&to, None), expected);
    }

    #[test]
    fn reply_buttons_match_meta_examples() {
        let message = Outbound::Buttons {
            body: "<BUTTON_TEXT>".into(),
            header: None,
            footer: None,
            buttons: vec![
                button("<UNIQUE_BUTTON_ID_1>", "<BUTTON_TITLE_1>"),
                button("<UNIQUE_BUTTON_ID_2>", "<BUTTON_TITLE_2>"),
            ],
        };
        assert_eq!(
            message.to_request(TO, None),
            corpus("openapi__send_request__reply_button.json")
        );
        let (to, expected) = ruby(
            "ruby__messages__send_interactive_reply_buttons_with_success_response_by_passing_interactive_json__request.json",
        );
        let message = Outbound::Buttons {
            body: "I am the body!".into(),
            header: Some("I am the header!".into()),
            footer: Some("I am the footer!".into()),
            buttons: vec![
                button("button_1", "This is button 1!"),
                button("button_2", "This is button 2!"),
            ],
        };
        assert_eq!(message.to_request(&to, None), expected);
    }

    #[test]
    fn list_matches_meta_example() {
        let section = |n: u8| ListSection {
            title: Some(format!("<LIST_SECTION_{n}_TITLE>")),
            rows: (1..=2)
                .map(|r| {
                    row(
                        &format!("<LIST_SECTION_{n}_ROW_{r}_ID>"),
                        &format!("<SECTION_{n}_ROW_{r}_TITLE>"),
                        Some(&format!("<SECTION_{n}_ROW_{r}_DESC>")),
                    )
                })
                .collect(),
        };
        let message = Outbound::List {
            body: "<BODY_TEXT>".into(),
            header: Some("<HEADER_TEXT>".into()),
            footer: Some("<FOOTER_TEXT>".into()),
            button: "<BUTTON_TEXT>".into(),
            sections: vec![section(1), section(2)],
        };
        assert_eq!(
            message.to_request(TO, None),
            corpus("openapi__send_request__list_message.json")
        );
    }

    #[test]
    fn reaction_matches_meta_examples() {
        let message = Outbound::Reaction {
            message_id: "wamid.HBgLM...".into(),
            emoji: "😀".into(),
        };
        let expected = corpus("openapi__send_request__reply_with_reaction_message.json");
        assert_eq!(message.to_request(TO, None), expected);
        let (to, expected) =
            ruby("ruby__messages__send_reaction_with_success_response__request.json");
        let message = Outbound::Reaction {
            message_id: "wamid.HBgLMTM0Mzc3NzI5MTAVAgARGBI2REVCOTdDQkIyMTcyQUQ1MkUA".into(),
            emoji: "🕐".into(),
        };
        assert_eq!(message.to_request(&to, None), expected);
    }

    #[test]
    fn template_with_components_matches_meta_examples() {
        for name in [
            "openapi__send_request__message_template_interactive.json",
            "openapi__send_request__message_template_media.json",
        ] {
            let expected = corpus(name);
            let message = Outbound::Template {
                name: "template-name".into(),
                language: "language-and-locale-code".into(),
                components: expected["template"]["components"].clone(),
            };
            assert_eq!(message.to_request(TO, None), expected, "{name}");
        }
        let (to, expected) = ruby(
            "ruby__messages__send_template_with_success_response_by_passing_components_json__request.json",
        );
        let message = Outbound::Template {
            name: "sample_shipping_confirmation".into(),
            language: "en_US".into(),
            components: serde_json::json!([{ "type": "body", "parameters": [{ "type": "TEXT", "text": "2 hours" }] }]),
        };
        assert_eq!(message.to_request(&to, None), expected);
    }

    #[test]
    fn a_template_without_parameters_sends_no_components() {
        let message = Outbound::Template {
            name: "hello_world".into(),
            language: "en_US".into(),
            components: json!([]),
        };
        let request = message.to_request("15550001111", None);
        assert_eq!(
            request["template"],
            json!({ "name": "hello_world", "language": { "code": "en_US" } })
        );
    }

    #[test]
    fn kind_free_form_and_summary_read_as_in_the_inbox() {
        let photo = Outbound::Media {
            kind: MediaKind::Image,
            source: MediaSource::Id("1".into()),
            caption: Some("Receipt".into()),
            filename: None,
        };
        let document = Outbound::Media {
            kind: MediaKind::Document,
            source: MediaSource::Link("https://example.com/a.pdf".into()),
            caption: None,
            filename: Some("invoice.pdf".into()),
        };
        let reaction = Outbound::Reaction {
            message_id: "wamid.1".into(),
            emoji: "👍".into(),
        };
        let unreaction = Outbound::Reaction {
            message_id: "wamid.1".into(),
            emoji: String::new(),
        };
        let template = Outbound::Template {
            name: "order_update".into(),
            language: "en".into(),
            components: json!([]),
        };
        let cases = [
            (text("Hi"), "text", true, "Hi"),
            (photo, "image", true, "[Photo] Receipt"),
            (document, "document", true, "[Document] invoice.pdf"),
            (
                media(MediaKind::Sticker, MediaSource::Id("2".into())),
                "sticker",
                true,
                "[Sticker]",
            ),
            (
                buttons(vec![button("y", "Yes")]),
                "interactive",
                true,
                "Pick one",
            ),
            (
                list("Open", vec![section("a", 1)]),
                "interactive",
                true,
                "Pick one",
            ),
            (reaction, "reaction", true, "Reacted 👍"),
            (unreaction, "reaction", true, "Removed a reaction"),
            (template, "template", false, "Template order_update"),
        ];
        for (message, kind, free_form, summary) in cases {
            assert_eq!(message.kind(), kind, "{message:?}");
            assert_eq!(message.is_free_form(), free_form, "{message:?}");
            assert_eq!(message.summary(), summary, "{message:?}");
        }
    }

    #[test]
    fn stored_content_round_trips_through_json() {
        let message = Outbound::Media {
            kind: MediaKind::Image,
            source: MediaSource::Id("42".into()),
            caption: None,
            filename: None,
        };
        let stored = serde_json::to_value(&message).unwrap();
        assert_eq!(
            stored,
            json!({ "type": "media", "kind": "image", "source": { "id": "42" } })
        );
        assert_eq!(serde_json::from_value::<Outbound>(stored).unwrap(), message);
        let parsed: Outbound =
            serde_json::from_value(json!({ "type": "text", "body": "Hi" })).unwrap();
        assert_eq!(parsed, text("Hi"));
    }

    #[test]
    fn text_must_have_1_to_4096_characters() {
        assert!(text(&"é".repeat(4096)).validate().is_ok());
        assert!(
            text(&"a".repeat(4097))
                .validate()
                .unwrap_err()
                .contains("4097")
        );
        assert!(text("").validate().is_err());
        assert!(text("  \n").validate().is_err());
    }

    #[test]
    fn reply_buttons_are_1_to_3_with_unique_ids_and_short_titles() {
        let three = vec![
            button("a", "A"),
            button("b", "B"),
            button("c", &"c".repeat(20)),
        ];
        assert!(buttons(three).validate().is_ok());
        assert!(buttons(vec![]).validate().is_err());
        let four = vec![
            button("a", "A"),
            button("b", "B"),
            button("c", "C"),
            button("d", "D"),
        ];
        assert!(buttons(four).validate().is_err());
        assert!(
            buttons(vec![button("a", "A"), button("a", "B")])
                .validate()
                .unwrap_err()
                .contains("\"a\"")
        );
        assert!(
            buttons(vec![button("a", &"x".repeat(21))])
                .validate()
                .is_err()
        );
        assert!(buttons(vec![button("a", "")]).validate().is_err());
    }

    #[test]
    fn lists_have_a_short_button_and_at_most_10_rows_in_all() {
        assert!(
            list("Choose", vec![section("a", 4), section("b", 6)])
                .validate()
                .is_ok()
        );
        assert!(
            list(&"b".repeat(21), vec![section("a", 1)])
                .validate()
                .is_err()
        );
        let eleven = list("Choose", vec![section("a", 5), section("b", 6)]);
        assert!(eleven.validate().unwrap_err().contains("11"));
        assert!(list("Choose", vec![]).validate().is_err());
        let untitled = ListSection {
            title: None,
            rows: vec![row("x", "X", None)],
        };
        assert!(list("Choose", vec![untitled.clone()]).validate().is_ok());
        assert!(
            list("Choose", vec![untitled, section("b", 1)])
                .validate()
                .is_err()
        );
        let duplicate = ListSection {
            title: Some("b".into()),
            rows: vec![row("a-0", "Again", None)],
        };
        assert!(
            list("Choose", vec![section("a", 1), duplicate])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn captions_are_at_most_1024_characters_and_only_where_whatsapp_shows_them() {
        let captioned = |kind, caption: String| Outbound::Media {
            kind,
            source: MediaSource::Id("1".into()),
            caption: Some(caption),
            filename: None,
        };
        assert!(
            captioned(MediaKind::Image, "c".repeat(1024))
                .validate()
                .is_ok()
        );
        assert!(
            captioned(MediaKind::Image, "c".repeat(1025))
                .validate()
                .is_err()
        );
        assert!(
            captioned(MediaKind::Sticker, "hi".into())
                .validate()
                .is_err()
        );
        assert!(
            media(MediaKind::Image, MediaSource::Link("ftp://x".into()))
                .validate()
                .is_err()
        );
        assert!(
            media(MediaKind::Image, MediaSource::Id(String::new()))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn templates_need_a_name_a_language_and_a_components_list() {
        let template = |name: &str, components| Outbound::Template {
            name: name.into(),
            language: "en".into(),
            components,
        };
        assert!(template("hello_world", json!([])).validate().is_ok());
        assert!(template("", json!([])).validate().is_err());
        assert!(
            template("hello_world", json!({ "type": "body" }))
                .validate()
                .is_err()
        );
    }
}
