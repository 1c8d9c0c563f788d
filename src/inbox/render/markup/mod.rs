//! WhatsApp's text formatting as HTML, and the only way to get HTML that templates print unescaped.
//! A message's text is read as WhatsApp reads it: `*bold*`, `_italic_`, `~strike~`,
//! ` ```monospace``` ` and `` `inline code` `` ([`inline`]), lines starting `- ` or `* ` (bullets),
//! `1. ` (numbers) and `> ` (quotes), and http(s) URLs as links ([`link`]). The symbols are those of
//! WhatsApp's help page <https://faq.whatsapp.com/539178204879377>; where a marker counts (word
//! edges, one line) is how WhatsApp's apps behave, which the page does not spell out.
//!
//! Markers are found in the text as typed, so an escaped `&#62;` or `&#38;` can never be mistaken
//! for one or split; each piece of text is then escaped before it is written next to the tags. The
//! only markup written is this module's own tags, with attributes that are constants, digits or an
//! escaped http(s) URL.

mod inline;
mod link;

use std::fmt;

pub use link::WebLink;

/// HTML made from a message's text by [`format()`], with every character of the text escaped. It is
/// the one value templates print with `|safe`: no other code can build one, so `|safe` on anything
/// else is a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markup(String);

impl Markup {
    /// The HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` as HTML with WhatsApp's formatting applied.
pub fn format(text: &str) -> Markup {
    let lines = lines(text);
    let mut html = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = lines.as_slice();
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take_while(|line| line.kind.same_block(first.kind))
            .count();
        let (block, after) = rest.split_at(same);
        write_block(&mut html, text, block);
        rest = after;
    }
    Markup(html)
}

/// What a line starts: WhatsApp's block formats are decided line by line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Plain,
    Bullet,
    /// A numbered item, with its number as written.
    Number(u32),
    Quote,
}

impl LineKind {
    /// Whether a line of this kind continues a block of `other`'s kind.
    fn same_block(self, other: Self) -> bool {
        matches!(
            (self, other),
            (Self::Plain, Self::Plain)
                | (Self::Bullet, Self::Bullet)
                | (Self::Number(_), Self::Number(_))
                | (Self::Quote, Self::Quote)
        )
    }
}

/// One line of the text: where it starts and ends in the text, and where its content starts (after
/// a list or quote prefix). A monospace span that opens on a line and closes on a later one takes
/// those lines with it, so `end` may lie several newlines on.
struct Line {
    kind: LineKind,
    start: usize,
    content: usize,
    end: usize,
}

fn lines(text: &str) -> Vec<Line> {
    let fences = inline::fences(text);
    let mut fences = fences.iter().peekable();
    let mut lines = Vec::new();
    let mut start = 0;
    loop {
        let mut end = line_end(text, start);
        while let Some(fence) = fences.peek() {
            if fence.end <= end {
                fences.next();
            } else if fence.start < end {
                end = line_end(text, fence.end);
                fences.next();
            } else {
                break;
            }
        }
        let (kind, prefix) = classify(&text[start..end]);
        lines.push(Line {
            kind,
            start,
            content: start + prefix,
            end,
        });
        if end >= text.len() {
            return lines;
        }
        start = end + 1;
    }
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |n| from + n)
}

/// The kind of a line and the length of its prefix: `- ` or `* ` (a bullet), digits and `. ` (a
/// numbered item), `> ` (a quote).
fn classify(line: &str) -> (LineKind, usize) {
    if line.starts_with("- ") || line.starts_with("* ") {
        return (LineKind::Bullet, 2);
    }
    if line.starts_with("> ") {
        return (LineKind::Quote, 2);
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits)
        && line[digits..].starts_with(". ")
        && let Ok(number) = line[..digits].parse()
    {
        return (LineKind::Number(number), digits + 2);
    }
    (LineKind::Plain, 0)
}

fn write_block(html: &mut String, text: &str, block: &[Line]) {
    let (Some(first), Some(last)) = (block.first(), block.last()) else {
        return;
    };
    match first.kind {
        // Plain lines are one run of text: its newlines become line breaks, and a monospace span
        // may cross them.
        LineKind::Plain => inline::write(html, &text[first.start..last.end]),
        LineKind::Bullet | LineKind::Number(_) => {
            let list = if first.kind == LineKind::Bullet {
                "ul"
            } else {
                "ol"
            };
            html.push_str(&format!("<{list} class=\"wa-list\">"));
            for line in block {
                match line.kind {
                    LineKind::Number(number) => html.push_str(&format!("<li value=\"{number}\">")),
                    _ => html.push_str("<li>"),
                }
                inline::write(html, &text[line.content..line.end]);
                html.push_str("</li>");
            }
            html.push_str(&format!("</{list}>"));
        }
        LineKind::Quote => {
            html.push_str("<blockquote class=\"wa-quote\">");
            for (n, line) in block.iter().enumerate() {
                if n > 0 {
                    html.push_str("<br>");
                }
                inline::write(html, &text[line.content..line.end]);
            }
            html.push_str("</blockquote>");
        }
    }
}

/// Writes `text` escaped for HTML text and attribute values, with the entities askama uses.
fn escape(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&#38;"),
            '<' => html.push_str("&#60;"),
            '>' => html.push_str("&#62;"),
            '"' => html.push_str("&#34;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
