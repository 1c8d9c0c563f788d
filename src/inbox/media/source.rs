//! Where a stored message's media is, read from `messages.content` the way the thread reads it
//! ([`content_part`]): Meta's media id (the customer's message, an echo, or a send by id), or the
//! http(s) link a send gave Meta instead. Pure: no SQL, no I/O.

use serde_json::Value;
use url::Url;

use crate::inbox::render::content_part;

/// What the thread shows the media as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Sticker,
    Video,
    /// Audio, and voice notes.
    Audio,
    Document,
}

impl MediaKind {
    /// The kind of a message's shown type, if it carries media.
    fn of(kind: &str) -> Option<Self> {
        match kind {
            "image" => Some(Self::Image),
            "sticker" => Some(Self::Sticker),
            "video" => Some(Self::Video),
            "audio" | "voice" => Some(Self::Audio),
            "document" => Some(Self::Document),
            _ => None,
        }
    }

    /// The name of a download that has none of its own.
    pub fn default_filename(self) -> &'static str {
        match self {
            Self::Image => "photo",
            Self::Sticker => "sticker",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }
}

/// Where the bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Meta's media id, to look up with the number's token.
    Id(String),
    /// The http(s) URL a send gave Meta to fetch (`image.link`).
    Link(Url),
}

/// A message's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSource {
    pub kind: MediaKind,
    pub origin: Origin,
    /// The document's file name, as the sender gave it.
    pub filename: Option<String>,
}

impl MediaSource {
    /// The media of a message of type `column` with `content`; `None` when it has none (a text,
    /// a location…) or names it in a way we will not use (an id that is not one, a link that is
    /// not http(s) or carries credentials).
    pub fn of(column: &str, content: &Value) -> Option<Self> {
        let (kind, part) = content_part(column, content);
        let kind = MediaKind::of(kind)?;
        let origin = match part.get("id") {
            Some(id) => Origin::Id(media_id(id)?),
            None => Origin::Link(link(part.get("link")?.as_str()?)?),
        };
        let filename = part
            .get("filename")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        Some(Self {
            kind,
            origin,
            filename,
        })
    }
}

/// Meta's media ids are digits; an id goes into a Graph URL (with the token), so anything but
/// letters, digits, `_` and `-` is refused rather than sent.
fn media_id(value: &Value) -> Option<String> {
    let id = match value {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        _ => return None,
    };
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    valid.then_some(id)
}

/// A link to redirect a browser to: http(s) with a host and without credentials.
fn link(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none();
    usable.then_some(url)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn source(column: &str, content: Value) -> Option<MediaSource> {
        MediaSource::of(column, &content)
    }

    #[test]
    fn a_customers_media_is_found_by_its_id_with_its_filename() {
        let found = source(
            "document",
            json!({ "type": "document", "document": {
                "id": "1003383421387256", "mime_type": "application/pdf", "filename": " receipt.pdf "
            }}),
        );
        assert_eq!(
            found,
            Some(MediaSource {
                kind: MediaKind::Document,
                origin: Origin::Id("1003383421387256".into()),
                filename: Some("receipt.pdf".into()),
            })
        );
        let voice = source("audio", json!({ "audio": { "id": 42, "voice": true } })).unwrap();
        assert_eq!(
            (voice.kind, voice.origin),
            (MediaKind::Audio, Origin::Id("42".into()))
        );
    }

    #[test]
    fn a_send_by_link_keeps_its_link() {
        let sent = source(
            "image",
            json!({ "messaging_product": "whatsapp", "to": "15550001111", "type": "image",
                    "image": { "link": "https://cdn.example.com/a.jpg?x=1" } }),
        )
        .unwrap();
        assert_eq!(
            sent.origin,
            Origin::Link(Url::parse("https://cdn.example.com/a.jpg?x=1").unwrap())
        );
        assert_eq!(sent.kind, MediaKind::Image);
    }

    #[test]
    fn links_other_than_plain_http_are_refused() {
        for link in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "https://user:secret@example.com/a.jpg",
            "ftp://example.com/a.jpg",
            "/relative.jpg",
        ] {
            assert_eq!(
                source("image", json!({ "image": { "link": link } })),
                None,
                "{link}"
            );
        }
    }

    #[test]
    fn odd_ids_are_refused_rather_than_put_in_a_url() {
        for id in [
            json!(""),
            json!("../1"),
            json!("1?fields=x"),
            json!("a b"),
            json!({}),
        ] {
            assert_eq!(
                source("video", json!({ "video": { "id": id } })),
                None,
                "{id}"
            );
        }
    }

    #[test]
    fn messages_without_media_have_none() {
        assert_eq!(source("text", json!({ "text": { "body": "hi" } })), None);
        assert_eq!(source("image", json!({ "image": {} })), None);
        assert_eq!(
            source("location", json!({ "location": { "latitude": 1 } })),
            None
        );
        // An edit may change the type: the content's own type wins, as in the thread.
        assert_eq!(
            source(
                "image",
                json!({ "type": "text", "text": { "body": "hi" }, "image": { "id": "1" } })
            ),
            None
        );
    }
}
