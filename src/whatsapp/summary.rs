//! How a message reads in one line: the conversation list, notifications and the thread's plain-text
//! fallback all use this. Unknown types still read as something ("Unsupported message"), never blank.

use serde_json::Value;

/// A readable one-line summary of a WhatsApp message object (`messages[]` of a webhook).
pub fn summarize(message: &Value) -> String {
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let text = |pointer: &str| {
        message
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let with_caption = |label: &str, caption: Option<&str>| match caption {
        Some(caption) => format!("[{label}] {caption}"),
        None => format!("[{label}]"),
    };
    match kind {
        "text" => text("/text/body").unwrap_or_default().to_owned(),
        "image" => with_caption("Photo", text("/image/caption")),
        "video" => with_caption("Video", text("/video/caption")),
        "sticker" => "[Sticker]".into(),
        "audio" if message.pointer("/audio/voice") == Some(&Value::Bool(true)) => {
            "[Voice message]".into()
        }
        "audio" => "[Audio]".into(),
        "voice" => "[Voice message]".into(),
        "document" => with_caption(
            "Document",
            text("/document/caption").or_else(|| text("/document/filename")),
        ),
        "location" => summarize_location(message),
        "contacts" => summarize_contacts(message),
        "interactive" => summarize_interactive(message),
        "button" => text("/button/text").unwrap_or("[Button]").to_owned(),
        "reaction" => match text("/reaction/emoji") {
            Some(emoji) => format!("Reacted {emoji}"),
            None => "Removed a reaction".into(),
        },
        "order" => {
            let items = message
                .pointer("/order/product_items")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            with_caption(&format!("Order of {items} item(s)"), text("/order/text"))
        }
        "system" => text("/system/body")
            .unwrap_or("[System message]")
            .to_owned(),
        "edit" => match message.pointer("/edit/message") {
            Some(edited) => format!("[Edited] {}", summarize(edited)),
            None => "[Edited a message]".into(),
        },
        "revoke" => "[Deleted a message]".into(),
        "request_welcome" => "[Opened the chat]".into(),
        _ => match text("/errors/0/title") {
            Some(title) => format!("[Unsupported message: {title}]"),
            None => "[Unsupported message]".into(),
        },
    }
}

fn summarize_location(message: &Value) -> String {
    let field = |name: &str| message.pointer(&format!("/location/{name}"));
    let label = [field("name"), field("address")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if !label.is_empty() {
        return format!("[Location] {label}");
    }
    match (field("latitude"), field("longitude")) {
        (Some(lat), Some(long)) => format!("[Location] {lat}, {long}"),
        _ => "[Location]".into(),
    }
}

fn summarize_contacts(message: &Value) -> String {
    let contacts = message
        .get("contacts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let names: Vec<&str> = contacts
        .iter()
        .filter_map(|c| c.pointer("/name/formatted_name").and_then(Value::as_str))
        .collect();
    if names.is_empty() {
        format!("[{} contact(s)]", contacts.len())
    } else {
        format!("[Contact] {}", names.join(", "))
    }
}

fn summarize_interactive(message: &Value) -> String {
    let text = |pointer: &str| {
        message
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match text("/interactive/type") {
        Some("button_reply") => text("/interactive/button_reply/title")
            .unwrap_or("[Button]")
            .to_owned(),
        Some("list_reply") => text("/interactive/list_reply/title")
            .unwrap_or("[List choice]")
            .to_owned(),
        Some("nfm_reply") => match text("/interactive/nfm_reply/body") {
            Some(body) => format!("[Form submitted] {body}"),
            None => "[Form submitted]".into(),
        },
        _ => "[Interactive reply]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_message_type_reads_as_a_person_would_say_it() {
        let cases = [
            (
                json!({"type":"text","text":{"body":"Hi there"}}),
                "Hi there",
            ),
            (
                json!({"type":"image","image":{"caption":"My receipt","id":"1"}}),
                "[Photo] My receipt",
            ),
            (
                json!({"type":"audio","audio":{"id":"1","voice":true}}),
                "[Voice message]",
            ),
            (json!({"type":"audio","audio":{"id":"1"}}), "[Audio]"),
            (
                json!({"type":"document","document":{"filename":"invoice.pdf"}}),
                "[Document] invoice.pdf",
            ),
            (json!({"type":"sticker","sticker":{"id":"1"}}), "[Sticker]"),
            (
                json!({"type":"location","location":{"latitude":1.5,"longitude":2.5}}),
                "[Location] 1.5, 2.5",
            ),
            (
                json!({"type":"location","location":{"name":"HQ","address":"Main St 1"}}),
                "[Location] HQ, Main St 1",
            ),
            (
                json!({"type":"contacts","contacts":[{"name":{"formatted_name":"Ana"}}]}),
                "[Contact] Ana",
            ),
            (
                json!({"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"y","title":"Yes"}}}),
                "Yes",
            ),
            (
                json!({"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"2","title":"Tuesday"}}}),
                "Tuesday",
            ),
            (
                json!({"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"body":"Sent"}}}),
                "[Form submitted] Sent",
            ),
            (
                json!({"type":"button","button":{"text":"Stop promotions","payload":"x"}}),
                "Stop promotions",
            ),
            (
                json!({"type":"reaction","reaction":{"message_id":"w","emoji":"👍"}}),
                "Reacted 👍",
            ),
            (
                json!({"type":"reaction","reaction":{"message_id":"w"}}),
                "Removed a reaction",
            ),
            (
                json!({"type":"order","order":{"product_items":[{},{}]}}),
                "[Order of 2 item(s)]",
            ),
            (
                json!({"type":"system","system":{"body":"User A changed from 1 to 2"}}),
                "User A changed from 1 to 2",
            ),
            (
                json!({"type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}),
                "[Unsupported message: Message type unknown]",
            ),
            (json!({"type":"brand_new_type"}), "[Unsupported message]"),
        ];
        for (message, expected) in cases {
            assert_eq!(summarize(&message), expected, "{message}");
        }
    }
}
