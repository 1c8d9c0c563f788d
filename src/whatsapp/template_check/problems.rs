//! The problems a check collects, each tagged with the Meta error code it prevents, and how they
//! become a [`TemplateMismatch`].

use super::TemplateMismatch;

const COUNT: i64 = 132000;
const LENGTH: i64 = 132005;
const FORMAT: i64 = 132012;

/// Problems found so far, each with the Meta code it prevents.
#[derive(Default)]
pub(super) struct Problems(Vec<(i64, String)>);

impl Problems {
    /// A wrong number of parameters or components (132000).
    pub(super) fn count(&mut self, message: impl Into<String>) {
        self.0.push((COUNT, message.into()));
    }

    /// A parameter of the wrong type, name or content (132012).
    pub(super) fn format(&mut self, message: impl Into<String>) {
        self.0.push((FORMAT, message.into()));
    }

    /// Text too long once filled in (132005).
    pub(super) fn length(&mut self, message: impl Into<String>) {
        self.0.push((LENGTH, message.into()));
    }

    /// Ok when nothing was found; otherwise the mismatch, with the first code that applies in the
    /// order count, format, length.
    pub(super) fn finish(self) -> Result<(), TemplateMismatch> {
        let codes = [COUNT, FORMAT, LENGTH];
        match codes
            .into_iter()
            .find(|c| self.0.iter().any(|(code, _)| code == c))
        {
            None => Ok(()),
            Some(code) => Err(TemplateMismatch {
                code,
                problems: self.0.into_iter().map(|(_, message)| message).collect(),
            }),
        }
    }
}

/// A type as given, or "nothing" when none was.
pub(super) fn or_nothing(kind: &str) -> &str {
    if kind.is_empty() { "nothing" } else { kind }
}
