//! Outbound content against Meta's own request examples and WhatsApp's limits.

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

mod meta_examples;
mod rules;
