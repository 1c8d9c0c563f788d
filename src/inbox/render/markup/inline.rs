//! Formatting within a line: `*bold*`, `_italic_`, `~strike~`, `` `inline code` ``, ` ```monospace``` `
//! (which alone may span lines) and links. A marker counts where WhatsApp's apps count it: the
//! opening one at a word's start (not after a letter or digit) with the text right after it, the
//! closing one right after the text and at a word's end (not before a letter or digit); a span never
//! holds another of its own kind. Markers that form no pair stay as typed. Code and monospace show
//! their text as typed, unformatted.

use std::ops::Range;

use super::{escape, link};

/// Writes `text` as HTML: formatting as tags, newlines as `<br>`, everything else escaped.
pub(super) fn write(html: &mut String, text: &str) {
    let mut unmatched = Unmatched::default();
    let (mut written, mut at) = (0, 0);
    while let Some(c) = text[at..].chars().next() {
        let token = if is_edge(text[..at].chars().next_back()) {
            token_at(text, at, c, &mut unmatched)
        } else {
            None
        };
        let Some(token) = token else {
            at += c.len_utf8();
            continue;
        };
        write_text(html, &text[written..at]);
        token.write(html, text);
        at = token.end;
        written = at;
    }
    write_text(html, &text[written..]);
}

/// Where ` ```monospace``` ` spans start and end in `text`, in order: the only formatting that may
/// cross lines, so the line-based block formats must not cut through them.
pub(super) fn fences(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find("```").map(|n| at + n) {
        if !is_edge(text[..open].chars().next_back()) {
            at = open + 1;
            continue;
        }
        // When one finds no partner, no later one can (see `Unmatched`).
        let Some(close) = fence_close(text, open) else {
            break;
        };
        found.push(open..close + 3);
        at = close + 3;
    }
    found
}

/// Whether a marker next to `c` sits at a word's edge: nothing, a space or punctuation.
fn is_edge(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_alphanumeric())
}

/// Positions from which a marker is known to have no closing partner. Whether a marker can close
/// does not depend on where its span opened (beyond being after it), so when one opening marker finds
/// no partner, a later one of the same kind cannot either: long texts of lone markers stay linear.
#[derive(Default)]
struct Unmatched {
    /// For `*`, `_`, `~` and `` ` ``: the end of the line searched in vain.
    single: [Option<usize>; 4],
    /// For ` ``` `: searched in vain to the end of the text.
    fence: bool,
}

const SINGLE: [char; 4] = ['*', '_', '~', '`'];

enum Kind {
    Style(&'static str),
    Code,
    Fence,
    Link(link::WebLink),
}

/// A formatted span: its kind, the text it shows, and where it ends.
struct Token {
    kind: Kind,
    inner: Range<usize>,
    end: usize,
}

fn token_at(text: &str, at: usize, c: char, unmatched: &mut Unmatched) -> Option<Token> {
    if c == '`' && text[at..].starts_with("```") {
        if unmatched.fence {
            return None;
        }
        let close = fence_close(text, at);
        unmatched.fence = close.is_none();
        return close.map(|close| Token {
            kind: Kind::Fence,
            inner: at + 3..close,
            end: close + 3,
        });
    }
    if let Some(slot) = SINGLE.iter().position(|&marker| marker == c) {
        let dead = unmatched.single[slot].is_some_and(|until| at < until);
        if dead || !opens(text, at, c) {
            return None;
        }
        let close = single_close(text, at, c);
        if close.is_none() {
            unmatched.single[slot] = Some(line_end(text, at));
        }
        let kind = match c {
            '*' => Kind::Style("strong"),
            '_' => Kind::Style("em"),
            '~' => Kind::Style("s"),
            _ => Kind::Code,
        };
        return close.map(|close| Token {
            kind,
            inner: at + 1..close,
            end: close + 1,
        });
    }
    let (len, url) = link::at(&text[at..])?;
    Some(Token {
        kind: Kind::Link(url),
        inner: at..at + len,
        end: at + len,
    })
}

/// Whether the single-character marker at `at` may open a span: text follows it right away (not a
/// space, not the marker again).
fn opens(text: &str, at: usize, marker: char) -> bool {
    let next = text[at + marker.len_utf8()..].chars().next();
    next.is_some_and(|c| !c.is_whitespace() && c != marker)
}

/// The closing partner of the opening marker at `open`, on the same line: right after text (not a
/// space, not the marker again) and at a word's end.
fn single_close(text: &str, open: usize, marker: char) -> Option<usize> {
    let start = open + marker.len_utf8();
    let line = &text[start..line_end(text, start)];
    line.char_indices()
        .map(|(n, c)| (start + n, c))
        .skip(1)
        .find(|&(close, c)| {
            let before = text[..close].chars().next_back();
            c == marker
                && before.is_some_and(|b| !b.is_whitespace() && b != marker)
                && is_edge(text[close + marker.len_utf8()..].chars().next())
        })
        .map(|(close, _)| close)
}

/// The closing ` ``` ` of the one at `open`: the next one at a word's end with some text between.
fn fence_close(text: &str, open: usize) -> Option<usize> {
    let start = open + 3;
    text[start..]
        .match_indices("```")
        .map(|(n, _)| start + n)
        .find(|&close| {
            !text[start..close].trim().is_empty() && is_edge(text[close + 3..].chars().next())
        })
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |n| from + n)
}

impl Token {
    fn write(&self, html: &mut String, text: &str) {
        let inner = &text[self.inner.clone()];
        match &self.kind {
            Kind::Style(tag) => {
                html.push_str(&format!("<{tag}>"));
                write(html, inner);
                html.push_str(&format!("</{tag}>"));
            }
            Kind::Code => {
                html.push_str("<code class=\"wa-code\">");
                escape(html, inner);
                html.push_str("</code>");
            }
            Kind::Fence => {
                html.push_str("<code class=\"wa-mono\">");
                write_text(html, inner);
                html.push_str("</code>");
            }
            Kind::Link(url) => {
                html.push_str("<a href=\"");
                escape(html, url.href());
                html.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
                escape(html, inner);
                html.push_str("</a>");
            }
        }
    }
}

/// Plain text: escaped, with each newline a `<br>` (and carriage returns dropped).
fn write_text(html: &mut String, text: &str) {
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            html.push_str("<br>");
        }
        escape(html, line.strip_suffix('\r').unwrap_or(line));
    }
}
