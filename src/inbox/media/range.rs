//! Byte ranges of a file held in memory, so that a browser can seek in a video or a voice note
//! (Safari plays media only from a server that answers ranges). One range per request: a
//! request for several is answered whole, which RFC 9110 allows. Pure.
//! <https://www.rfc-editor.org/rfc/rfc9110#name-range-requests>

use axum::http::{HeaderMap, header};

/// What part of a file of a known length to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// 200 with all of it: no `Range`, one we ignore, or a stale `If-Range`.
    Whole,
    /// 206 with bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// 416: the range starts past the end.
    Unsatisfiable,
}

/// The part of a file of `len` bytes, whose entity tag is `etag` (if it has one), that the
/// request asks for.
pub fn wanted(request: &HeaderMap, etag: Option<&str>, len: u64) -> Ranged {
    let Some(range) = request.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ranged::Whole;
    };
    // A range of another version of the file is no use: send the whole of this one. Without an
    // entity tag we cannot tell, so the same.
    if let Some(condition) = request.get(header::IF_RANGE) {
        let current = etag.is_some_and(|etag| condition.as_bytes() == etag.as_bytes());
        if !current {
            return Ranged::Whole;
        }
    }
    parse(range, len).unwrap_or(Ranged::Whole)
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`; `None` for anything else (ignored, as RFC 9110 says).
fn parse(range: &str, len: u64) -> Option<Ranged> {
    let (unit, spec) = range.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let number = |text: &str| -> Option<u64> {
        if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        }
    };
    if first.is_empty() {
        // The last `suffix` bytes.
        let suffix = number(last)?;
        if suffix == 0 || len == 0 {
            return Some(Ranged::Unsatisfiable);
        }
        return Some(Ranged::Part {
            start: len.saturating_sub(suffix),
            end: len - 1,
        });
    }
    let start = number(first)?;
    let end = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    if start >= len {
        return Some(Ranged::Unsatisfiable);
    }
    Some(Ranged::Part {
        start,
        end: end.map_or(len - 1, |end| end.min(len - 1)),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn asked(range: &str, len: u64) -> Ranged {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        wanted(&headers, None, len)
    }

    #[test]
    fn the_three_forms_of_a_byte_range() {
        assert_eq!(asked("bytes=0-1", 10), Ranged::Part { start: 0, end: 1 });
        assert_eq!(asked("bytes=4-", 10), Ranged::Part { start: 4, end: 9 });
        assert_eq!(asked("bytes=-3", 10), Ranged::Part { start: 7, end: 9 });
        assert_eq!(asked("Bytes = 2-5", 10), Ranged::Part { start: 2, end: 5 });
    }

    #[test]
    fn ranges_past_the_end_are_cut_or_unsatisfiable() {
        assert_eq!(asked("bytes=5-100", 10), Ranged::Part { start: 5, end: 9 });
        assert_eq!(asked("bytes=-100", 10), Ranged::Part { start: 0, end: 9 });
        assert_eq!(asked("bytes=10-", 10), Ranged::Unsatisfiable);
        assert_eq!(asked("bytes=-0", 10), Ranged::Unsatisfiable);
        assert_eq!(asked("bytes=0-", 0), Ranged::Unsatisfiable);
    }

    #[test]
    fn what_we_do_not_serve_as_a_range_is_answered_whole() {
        for range in [
            "bytes=0-1,4-5",
            "bytes=5-2",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=-",
            "bytes",
        ] {
            assert_eq!(asked(range, 10), Ranged::Whole, "{range}");
        }
        assert_eq!(wanted(&HeaderMap::new(), None, 10), Ranged::Whole);
    }

    #[test]
    fn if_range_must_name_the_current_file() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-1"));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert_eq!(
            wanted(&headers, Some("\"abc\""), 10),
            Ranged::Part { start: 0, end: 1 }
        );
        assert_eq!(wanted(&headers, Some("\"other\""), 10), Ranged::Whole);
        assert_eq!(wanted(&headers, None, 10), Ranged::Whole);
    }
}
