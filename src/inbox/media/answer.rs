//! How the media route answers a browser: the bytes under a type it may show, or as a download
//! it must not open; a range of them for seeking; or a redirect to a link we sent.
//!
//! Everything is served from the inbox's own origin, where a page could reach the agent's
//! session, so the type is never simply Meta's: only image, video and audio types that a browser
//! shows and never runs are served inline; a document is always an attachment, under its own
//! type only if it is one WhatsApp accepts and no browser runs, else as
//! `application/octet-stream`; so is anything else (`text/html`, `image/svg+xml`, …). The answer
//! also carries a `sandbox` Content-Security-Policy, so that even a file opened as a page has no
//! origin and runs nothing.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use url::Url;

use super::{
    fetch::MediaFile,
    range::{self, Ranged},
    source::{MediaKind, MediaSource},
};

/// How long the agent's browser may keep a file (or a redirect) without asking again; the file
/// behind a message never changes.
const CACHE_CONTROL: &str = "private, max-age=3600";
/// Even opened as a page (a direct link, a new tab), the file runs nothing and has no origin.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";
/// Any other type is served as a download of bytes.
const OCTET_STREAM: &str = "application/octet-stream";

/// Types a browser shows as an image, a video or a sound and never runs: served inline. Meta's
/// media types, and GIF. <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types>
const INLINE: [&str; 11] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/3gpp",
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
];

/// The document types WhatsApp accepts; none is run by a browser from a download.
const DOCUMENTS: [&str; 8] = [
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// The file, whole or the range the request asks for.
pub fn file(source: &MediaSource, file: &MediaFile, request: &HeaderMap) -> Response {
    let (content_type, inline) = served_type(source.kind, &file.mime_type);
    let disposition = if inline {
        HeaderValue::from_static("inline")
    } else {
        let name = source
            .filename
            .as_deref()
            .unwrap_or(source.kind.default_filename());
        HeaderValue::from_str(&attachment(name))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
    };
    let etag = file.sha256.as_deref().and_then(etag);
    let len = file.bytes.len() as u64;
    let (status, body, content_range) = match range::wanted(request, etag.as_deref(), len) {
        Ranged::Whole => (StatusCode::OK, file.bytes.clone(), None),
        Ranged::Part { start, end } => {
            // Both ends lie within the bytes (`range::wanted` cuts them to `len`).
            let part = usize::try_from(start).unwrap_or(usize::MAX)
                ..=usize::try_from(end).unwrap_or(usize::MAX);
            let bytes = file.bytes.get(part).map(|b| file.bytes.slice_ref(b));
            let bytes = bytes.unwrap_or_default();
            (
                StatusCode::PARTIAL_CONTENT,
                bytes,
                Some(format!("bytes {start}-{end}/{len}")),
            )
        }
        Ranged::Unsatisfiable => {
            let range = format!("bytes */{len}");
            let headers = [(header::CONTENT_RANGE, range)];
            return (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response();
        }
    };
    let body_len = body.len();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        headers.insert(header::CONTENT_RANGE, range);
    }
    if let Some(etag) = etag.and_then(|etag| HeaderValue::from_str(&etag).ok()) {
        headers.insert(header::ETAG, etag);
    }
    private_headers(headers);
    response
}

/// 302 to a link we sent the media by: the customer got what is there, and the browser fetches it
/// itself, so the server never fetches a URL someone else chose.
pub fn redirect(link: &Url) -> Response {
    let Ok(location) = HeaderValue::from_str(link.as_str()) else {
        // A parsed URL is ASCII; this is only here so nothing can panic.
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    private_headers(response.headers_mut());
    response
}

fn private_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // Only the inbox's own pages may embed it.
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

/// The type to serve a file of `mime_type` under, and whether it may be shown inline.
fn served_type(kind: MediaKind, mime_type: &str) -> (&'static str, bool) {
    let essence = mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if let Some(known) = INLINE.into_iter().find(|known| *known == essence) {
        return (known, kind != MediaKind::Document);
    }
    let document = DOCUMENTS.into_iter().find(|known| *known == essence);
    (document.unwrap_or(OCTET_STREAM), false)
}

/// `Content-Disposition` for a download named `name`: an ASCII `filename` for old browsers and
/// the exact name as `filename*` (RFC 6266, RFC 8187).
fn attachment(name: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .take(200)
        .collect();
    let name = match name.trim() {
        "" => "download",
        name => name,
    };
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' ' => ' ',
            '"' | '\\' | '%' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        // RFC 8187's attr-char.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// A strong entity tag from Meta's checksum of the file, if it looks like one (hex or base64).
fn etag(sha256: &str) -> Option<String> {
    let plausible = !sha256.is_empty()
        && sha256.len() <= 128
        && sha256
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    plausible.then(|| format!("\"{sha256}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_a_browser_shows_are_inline_and_the_rest_are_downloads() {
        use MediaKind::*;
        assert_eq!(served_type(Image, "image/jpeg"), ("image/jpeg", true));
        assert_eq!(served_type(Sticker, "image/webp"), ("image/webp", true));
        assert_eq!(
            served_type(Audio, "audio/ogg; codecs=opus"),
            ("audio/ogg", true)
        );
        assert_eq!(served_type(Video, "VIDEO/MP4"), ("video/mp4", true));
        for dangerous in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/javascript",
            "multipart/x-mixed-replace",
            "",
            "image/jpeg\r\nSet-Cookie: x",
        ] {
            for kind in [Image, Sticker, Video, Audio, Document] {
                assert_eq!(
                    served_type(kind, dangerous),
                    (OCTET_STREAM, false),
                    "{dangerous}"
                );
            }
        }
    }

    #[test]
    fn documents_are_downloads_under_their_type_when_it_is_a_known_one() {
        use MediaKind::Document;
        assert_eq!(
            served_type(Document, "application/pdf"),
            ("application/pdf", false)
        );
        assert_eq!(served_type(Document, "image/png"), ("image/png", false));
        assert_eq!(
            served_type(Document, "application/x-msdownload"),
            (OCTET_STREAM, false)
        );
    }

    #[test]
    fn a_download_keeps_its_exact_name_and_an_ascii_fallback() {
        assert_eq!(
            attachment("receipt.pdf"),
            "attachment; filename=\"receipt.pdf\"; filename*=UTF-8''receipt.pdf"
        );
        assert_eq!(
            attachment("Quittung März \"1\".pdf"),
            "attachment; filename=\"Quittung M_rz _1_.pdf\"; \
             filename*=UTF-8''Quittung%20M%C3%A4rz%20%221%22.pdf"
        );
        assert_eq!(
            attachment("../../etc/passwd\r\n"),
            "attachment; filename=\".._.._etc_passwd\"; filename*=UTF-8''.._.._etc_passwd"
        );
        assert_eq!(
            attachment(" \u{7} "),
            "attachment; filename=\"download\"; filename*=UTF-8''download"
        );
        assert!(HeaderValue::from_str(&attachment("名前 100%.pdf")).is_ok());
    }

    #[test]
    fn only_plausible_checksums_become_entity_tags() {
        assert_eq!(etag("abc123=").as_deref(), Some("\"abc123=\""));
        assert_eq!(etag("a\"b"), None);
        assert_eq!(etag(""), None);
    }
}
