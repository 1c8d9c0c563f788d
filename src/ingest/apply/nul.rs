//! U+0000 in a webhook. JSON may carry it (`\u0000`), but PostgreSQL's `text` and `jsonb` cannot
//! hold it, so a customer's message containing it could not be stored at all. The raw event keeps
//! the exact bytes; what is applied has each U+0000 replaced with U+FFFD (the replacement
//! character), and a message that had one says so in its JSON under [`NOTE`].

use serde_json::{Value, json};

/// The key added to a message whose text had U+0000 replaced.
pub const NOTE: &str = "switchboard_note";

/// Parses `body`, replacing U+0000 wherever it occurs, and notes it on each message that had it;
/// `None` when the body has no escaped NUL (the common case, left to the typed parser).
pub fn parse_replacing(body: &[u8]) -> Option<serde_json::Result<Value>> {
    if !contains_escaped_nul(body) {
        return None;
    }
    Some(serde_json::from_slice::<Value>(body).map(|mut value| {
        for message in messages(&mut value) {
            if replace(message) {
                message[NOTE] = json!("U+0000 characters were replaced with U+FFFD");
            }
        }
        replace(&mut value);
        value
    }))
}

/// Whether the JSON text has a `\u0000` escape (a raw NUL is not valid JSON anyway).
fn contains_escaped_nul(body: &[u8]) -> bool {
    body.windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && &w[2..] == b"0000")
}

/// Every message object of every `messages` change.
fn messages(value: &mut Value) -> impl Iterator<Item = &mut Value> {
    value
        .get_mut("entry")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get_mut("changes").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(|change| {
            change
                .pointer_mut("/value/messages")
                .and_then(Value::as_array_mut)
        })
        .flatten()
}

/// Replaces U+0000 in every string and key below `value`; whether there was any.
fn replace(value: &mut Value) -> bool {
    match value {
        Value::String(text) if text.contains('\0') => {
            *text = text.replace('\0', "\u{FFFD}");
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |found, v| replace(v) | found),
        Value::Object(map) => {
            let mut found = false;
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), v))
                    .collect();
                found = true;
            }
            map.values_mut().fold(found, |found, v| replace(v) | found)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_without_nul_is_left_to_the_typed_parser() {
        assert!(parse_replacing(br#"{"entry":[]}"#).is_none());
        // An escaped backslash followed by "u0000" is text, not a NUL; reading it as one only
        // costs the slower path, which then finds nothing to replace.
        let value = parse_replacing(br#"{"a":"\\u0000"}"#).unwrap().unwrap();
        assert_eq!(value["a"], "\\u0000");
    }

    #[test]
    fn nul_is_replaced_everywhere_and_noted_on_the_message_that_had_it() {
        let body = br#"{"entry":[{"changes":[{"field":"messages","value":{
            "contacts":[{"profile":{"name":"Da\u0000na"}}],
            "messages":[{"id":"a","text":{"body":"hi\u0000there"}},{"id":"b","text":{"body":"ok"}}]}}]}]}"#;
        let value = parse_replacing(body).unwrap().unwrap();
        let change = &value["entry"][0]["changes"][0]["value"];
        assert_eq!(change["contacts"][0]["profile"]["name"], "Da\u{FFFD}na");
        assert_eq!(change["messages"][0]["text"]["body"], "hi\u{FFFD}there");
        assert!(change["messages"][0][NOTE].is_string());
        assert!(change["messages"][1].get(NOTE).is_none());
    }
}
