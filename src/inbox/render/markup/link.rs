//! Links: only `http` and `https` URLs ever become an `href`, so no `javascript:`, `data:` or other
//! scheme can reach a page from a message.

use url::Url;

/// An absolute http(s) URL, safe to put in an `href` (askama escapes it there like any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLink(Url);

impl WebLink {
    /// `text` as a link, if it is an absolute http or https URL with a host.
    pub fn parse(text: &str) -> Option<Self> {
        let url = Url::parse(text.trim()).ok()?;
        let web = matches!(url.scheme(), "http" | "https");
        (web && url.host_str().is_some_and(|host| !host.is_empty())).then_some(Self(url))
    }

    /// The URL as it goes in an `href`: normalised, with quotes and spaces percent-encoded.
    pub fn href(&self) -> &str {
        self.0.as_str()
    }
}

/// The link that `text` starts with, if any, with its length in `text`. A URL runs to the next
/// space, quote, angle bracket or backtick; punctuation at its end belongs to the sentence (as does
/// a closing bracket that closes nothing in the URL), and so do formatting markers.
pub(super) fn at(text: &str) -> Option<(usize, WebLink)> {
    let starts = |scheme: &str| {
        text.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    };
    if !starts("http://") && !starts("https://") {
        return None;
    }
    let run = text
        .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(text.len());
    // How many more `(` than `)` (and `[` than `]`) the URL has so far.
    let balance = |open: char, close: char| {
        let url = &text[..run];
        url.matches(open).count() as isize - url.matches(close).count() as isize
    };
    let (mut parens, mut brackets) = (balance('(', ')'), balance('[', ']'));
    let mut end = run;
    while let Some(last) = text[..end].chars().next_back() {
        let belongs = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_' | '~' => false,
            ')' => parens >= 0,
            ']' => brackets >= 0,
            _ => true,
        };
        if belongs {
            break;
        }
        match last {
            ')' => parens += 1,
            ']' => brackets += 1,
            _ => {}
        }
        end -= last.len_utf8();
    }
    WebLink::parse(&text[..end]).map(|link| (end, link))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<(&str, String)> {
        at(text).map(|(len, link)| (&text[..len], link.href().to_owned()))
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_links() {
        assert!(WebLink::parse("https://example.com/a").is_some());
        assert!(WebLink::parse("HTTP://EXAMPLE.COM").is_some());
        for refused in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "mailto:a@example.com",
            "//example.com",
            "/inbox",
            "http://",
            "AD_OR_POST_FB_URL",
        ] {
            assert_eq!(WebLink::parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn a_url_stops_at_spaces_quotes_and_brackets_and_leaves_trailing_punctuation() {
        assert_eq!(
            found("https://example.com/a?b=1&c=2. Next"),
            Some((
                "https://example.com/a?b=1&c=2",
                "https://example.com/a?b=1&c=2".into()
            ))
        );
        assert_eq!(
            found("https://example.com/\"onmouseover=\"alert(1)").map(|(t, _)| t),
            Some("https://example.com/")
        );
        assert_eq!(
            found("https://en.wikipedia.org/wiki/Rust_(language)), yes").map(|(t, _)| t),
            Some("https://en.wikipedia.org/wiki/Rust_(language)")
        );
        assert_eq!(
            found("https://example.com/x*").map(|(t, _)| t),
            Some("https://example.com/x")
        );
        assert_eq!(found("https://"), None);
        assert_eq!(found("ftp://example.com"), None);
    }

    #[test]
    fn the_href_is_the_normalised_url_with_unsafe_characters_encoded() {
        let (_, href) = found("https://example.com/a'b{c}").unwrap_or_default();
        assert_eq!(href, "https://example.com/a'b%7Bc%7D");
    }
}
