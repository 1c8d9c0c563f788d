//! Every message of the shared corpus of Meta's payloads, stored as the ingest and send paths store
//! it, renders as something meaningful: never a panic or an empty body, the customer's words and
//! choices visible, media through the media route, a placeholder only for what Meta did not pass on.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::*;
use crate::whatsapp::payload::{
    Echo, EchoesValue, Field, InboundMessage, MessagesValue, Notification, with_raw,
};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn files(dir: &str) -> Vec<(String, Value)> {
    let path = format!("{CORPUS}/{dir}");
    let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut files: Vec<(String, Value)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The customer's messages (`messages`) and the business's echoes (`smb_message_echoes`) of every
/// webhook, each with its direction and its raw JSON, as the ingest path parses them (messages
/// whose timestamp is a documentation placeholder fail to parse there too, and are left out).
fn corpus_messages() -> Vec<(String, Direction, String, Value)> {
    let mut messages = Vec::new();
    for (name, body) in files("webhooks") {
        let notification = Notification::deserialize(&body).unwrap();
        for change in notification.entry.into_iter().flat_map(|e| e.changes) {
            if change.field == Field::Messages {
                let value = MessagesValue::deserialize(&change.value).unwrap();
                for (message, raw) in with_raw::<InboundMessage>(value.messages, "message")
                    .into_iter()
                    .flatten()
                {
                    messages.push((name.clone(), Direction::Inbound, message.kind, raw));
                }
            } else if change.field == Field::SmbMessageEchoes {
                let value = EchoesValue::deserialize(&change.value).unwrap();
                for (echo, raw) in with_raw::<Echo>(value.message_echoes, "echo").unwrap() {
                    messages.push((name.clone(), Direction::Outbound, echo.kind, raw));
                }
            }
        }
    }
    messages
}

/// What is stored for a message: edits and deletions change the message they name rather than
/// adding one (its content becomes the edit's; a deleted one is marked).
fn stored_form<'a>(kind: &'a str, raw: &'a Value) -> (&'a str, &'a Value, bool, bool) {
    match kind {
        "edit" => {
            let edited = &raw["edit"]["message"];
            (
                edited["type"].as_str().unwrap_or("unknown"),
                edited,
                true,
                false,
            )
        }
        "revoke" => (kind, raw, false, true),
        _ => (kind, raw, false, false),
    }
}

#[test]
fn every_corpus_message_renders_meaningfully() {
    let mut kinds = BTreeSet::new();
    let mut reactions = Reactions::default();
    let messages = corpus_messages();
    assert!(messages.len() > 100, "{} messages", messages.len());
    for (name, direction, kind, raw) in &messages {
        if let Some(reaction) = raw.get("reaction") {
            let target = reaction["message_id"].as_str().unwrap();
            let emoji = reaction["emoji"].as_str();
            reactions.add(target, *direction, emoji);
            let shown = reactions.on(target);
            match emoji.filter(|e| !e.is_empty()) {
                Some(emoji) => assert!(shown.iter().any(|g| g.emoji == emoji), "{name}"),
                None => assert!(shown.iter().all(|g| !g.from_customer), "{name}"),
            }
            kinds.insert("reaction".to_owned());
            continue;
        }
        let (kind, content, edited, deleted) = stored_form(kind, raw);
        let message = StoredMessage {
            id: MessageId::new(42),
            direction: *direction,
            kind,
            content,
            edited,
            deleted,
            template: None,
            reply_to: None,
        };
        let view = MessageView::new(&message);
        let html = render(&view);
        assert!(
            html.contains(&format!(r#"data-kind="{}""#, view.body.kind())),
            "{name}"
        );
        assert_meaningful(name, kind, content, &view, &html);
        kinds.insert(format!("{kind}{}", if deleted { " (deleted)" } else { "" }));
    }
    for expected in [
        "audio",
        "button",
        "contacts",
        "document",
        "image",
        "interactive",
        "location",
        "order",
        "reaction",
        "revoke (deleted)",
        "sticker",
        "system",
        "text",
        "unknown",
        "unsupported",
        "video",
    ] {
        assert!(kinds.contains(expected), "no {expected} in {kinds:?}");
    }
}

/// `text` as askama and the markup escape it.
fn escaped(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&#38;"),
            '<' => escaped.push_str("&#60;"),
            '>' => escaped.push_str("&#62;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn assert_meaningful(name: &str, kind: &str, content: &Value, view: &MessageView, html: &str) {
    let part = &content[kind];
    let shows = |text: &str| {
        let escaped = escaped(text);
        assert!(html.contains(&escaped), "{name}: {text:?} not in {html}");
    };
    match (&view.body, kind) {
        (Body::Deleted, "revoke") => shows("This message was deleted"),
        (Body::Text(_), "text") => {
            // The words survive formatting (markers and links aside).
            let words = part["body"].as_str().unwrap().split_whitespace();
            for word in words.filter(|w| w.chars().all(char::is_alphanumeric)) {
                shows(word);
            }
        }
        (Body::Image(_) | Body::Sticker(_) | Body::Video(_) | Body::Audio(_), _)
        | (Body::Document(_), _) => {
            shows("/inbox/media/42");
            if let Some(caption) = part["caption"].as_str() {
                shows(caption);
            }
        }
        (Body::Location(location), _) => {
            assert!(location.map.is_some() || location.name.is_some(), "{name}");
            for field in ["name", "address"] {
                if let Some(text) = part[field].as_str() {
                    shows(text);
                }
            }
        }
        (Body::Contacts(cards), "contacts") => {
            assert!(!cards.is_empty(), "{name}");
            for card in cards {
                shows(&card.name);
            }
        }
        (Body::Choice(choice), "button") => {
            assert_eq!(Some(choice.title.as_str()), part["text"].as_str())
        }
        (Body::Choice(choice), "interactive") => {
            let reply = &part[part["type"].as_str().unwrap()];
            assert_eq!(
                Some(choice.title.as_str()),
                reply["title"].as_str(),
                "{name}"
            );
            shows(&choice.title);
        }
        (Body::Form(_), _) => shows("Form submitted"),
        (Body::Order(order), "order") => {
            assert!(!order.items.is_empty(), "{name}");
            for item in &order.items {
                shows(&item.product);
            }
        }
        (Body::Notice(notice), "system" | "interactive") => {
            assert!(!notice.is_empty(), "{name}");
            shows(notice);
        }
        (Body::Unsupported(_), "unsupported" | "unknown") => {
            assert!(
                html.contains(r#"data-testid="message-unsupported">This message can't be shown"#)
            );
            if let Some(details) = content.pointer("/errors/0/error_data/details") {
                shows(details.as_str().unwrap());
            }
        }
        // An interactive message that came without its content (a pywa fixture).
        (Body::Unsupported(_), "interactive") if part.is_null() => {
            assert!(html.contains(r#"data-testid="message-unsupported""#))
        }
        (body, kind) => panic!("{name}: a {kind} message shows as {body:?}"),
    }
}

#[test]
fn every_corpus_send_request_renders_as_the_message_we_sent() {
    let mut count = 0;
    for (name, request) in files("graph") {
        let Some(kind) = request.get("type").and_then(Value::as_str) else {
            continue;
        };
        if !name.contains("send_request") {
            continue;
        }
        let view = MessageView::new(&StoredMessage {
            kind,
            ..super::outbound(&request)
        });
        assert!(
            !matches!(view.body, Body::Unsupported(_)),
            "{name}: {:?}",
            view.body
        );
        let html = render(&view);
        assert!(html.contains("message-body"), "{name}");
        if let Some(text) = request
            .pointer("/interactive/body/text")
            .and_then(Value::as_str)
        {
            assert!(html.contains(&escaped(text)), "{name}: {html}");
        }
        count += 1;
    }
    assert!(count > 60, "{count} send requests");
}

#[test]
fn corpus_templates_read_with_their_values_filled_in() {
    let pairs = [
        (
            "bindambc__create_template_request__expectedTemplate5.json",
            "bindambc__send_request__template__expectedMessage5.json",
        ),
        (
            "bindambc__create_template_request__expectedTemplate6.json",
            "bindambc__send_request__template__expectedMessage6.json",
        ),
    ];
    let templates = files("templates");
    let sends = files("graph");
    let find = |files: &[(String, Value)], name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    for (template, send) in pairs {
        let template = find(&templates, template);
        let send = find(&sends, send);
        let message = StoredMessage {
            template: Some(TemplateDefinition {
                components: &template["components"],
                parameter_format: None,
            }),
            ..super::outbound(&send)
        };
        let Body::Template(view) = MessageView::new(&message).body else {
            panic!("{send}")
        };
        let text = view.text.expect("filled in");
        assert!(!text.body.as_str().is_empty(), "{send}");
        assert!(!text.body.as_str().contains("{{"), "{}", text.body);
    }
}
