//! The `{{…}}` placeholders of a template's text: finding them, listing them for messages, and
//! filling them in to measure the text Meta would send.

/// The distinct placeholder names in `text` (`{{1}}` → "1"), numbers in numeric order, names in
/// order of appearance.
pub(super) fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (_, name) in spans(text) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.iter().all(|n| is_number(n)) {
        names.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));
    }
    names
}

/// `text` with each known placeholder replaced by its value; unknown ones stay as written.
pub(super) fn hydrate<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let (mut out, mut rest) = (String::new(), 0);
    for (span, name) in spans(text) {
        if let Some(value) = value(name) {
            out.push_str(&text[rest..span.start]);
            out.push_str(value);
            rest = span.end;
        }
    }
    out.push_str(&text[rest..]);
    out
}

/// A piece of a template's text: as written, or a placeholder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// `text` cut into its literal pieces and its placeholders, in order (for a preview that shows
/// each value where the customer will read it).
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let (mut out, mut rest) = (Vec::new(), 0);
    for (span, name) in spans(text) {
        if span.start > rest {
            out.push(Segment::Text(&text[rest..span.start]));
        }
        out.push(Segment::Placeholder(name));
        rest = span.end;
    }
    if rest < text.len() {
        out.push(Segment::Text(&text[rest..]));
    }
    out
}

/// Every `{{name}}` in `text`, with its byte range.
fn spans(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let name = &text[open + 2..close];
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            found.push((open..close + 2, name));
            from = close + 2;
        } else {
            from = open + 1;
        }
    }
    found
}

/// Whether a placeholder name is positional (`1`, `2`, …).
pub(super) fn is_number(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_digit())
}

/// Placeholder names as they are written, for messages: `{{1}}, {{2}}`.
pub(super) fn list(names: &[&str]) -> String {
    let braced: Vec<String> = names.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    braced.join(", ")
}

#[cfg(test)]
mod tests {
    use super::{Segment, segments};

    #[test]
    fn segments_keep_text_and_placeholders_in_order() {
        assert_eq!(
            segments("Hi {{1}}, order {{order_id}} {{ bad }}."),
            [
                Segment::Text("Hi "),
                Segment::Placeholder("1"),
                Segment::Text(", order "),
                Segment::Placeholder("order_id"),
                Segment::Text(" {{ bad }}."),
            ]
        );
        assert_eq!(segments("{{1}}"), [Segment::Placeholder("1")]);
        assert!(segments("").is_empty());
    }
}
