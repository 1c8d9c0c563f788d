//! How a Graph call fails, told apart by what the caller may do next: Meta refused it (an error
//! object to branch on by `code`), it never reached Meta (retry), Meta may or may not have it
//! (never resend blindly), or Meta answered something unreadable.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes>

use std::fmt;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

/// How much of an unreadable answer to keep.
const BODY_EXCERPT: usize = 512;

/// Why a Graph call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GraphFailure {
    /// Meta answered with an error object.
    #[error("Meta refused the request: {0}")]
    Api(GraphError),
    /// The request never reached Meta (connection refused, DNS): safe to retry.
    #[error("could not reach Meta (the request was not sent): {0}")]
    Unreachable(String),
    /// We don't know whether Meta received the request (timeout or connection lost after
    /// sending): do not resend blindly.
    #[error("no answer from Meta (it may have received the request): {0}")]
    Ambiguous(String),
    /// Meta answered something we could not read (status and a truncated body).
    #[error("unreadable answer from Meta (HTTP {status}): {body}")]
    Unreadable { status: u16, body: String },
}

impl GraphFailure {
    /// What went wrong, for an admin: a title and what happened and what to do, in words (the
    /// error table's, else Meta's own words for the user, else its title and details).
    pub fn in_words(&self) -> (String, String) {
        match self {
            Self::Api(error) => {
                let explained = crate::whatsapp::errors::explain(
                    error.code,
                    Some(error.user_title.as_deref().unwrap_or(error.title())),
                    error.user_message.as_deref().or(error.details.as_deref()),
                    error.is_transient,
                );
                (explained.title.clone(), explained.message())
            }
            Self::Unreachable(_) | Self::Ambiguous(_) => (
                "Could not reach WhatsApp".to_owned(),
                "Switchboard could not connect to WhatsApp's servers; try again in a moment."
                    .to_owned(),
            ),
            Self::Unreadable { .. } => ("Unreadable answer".to_owned(), self.to_string()),
        }
    }
}

/// Meta's error object (`{"error": {…}}`). Branch on `code` (and `details`), never on the text.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub http_status: u16,
    pub code: i64,
    pub subcode: Option<i64>,
    /// Usually `(#code) Title`; sometimes free text.
    pub message: String,
    /// `type`, e.g. "OAuthException" or "GraphMethodException".
    pub kind: Option<String>,
    /// `error_data.details`: what exactly was wrong.
    pub details: Option<String>,
    /// Quote this to Meta support.
    pub fbtrace_id: Option<String>,
    /// Meta's hint that the same call may succeed later (absent means false).
    pub is_transient: bool,
    pub user_title: Option<String>,
    pub user_message: Option<String>,
}

impl GraphError {
    /// Meta's title without the "(#code) " prefix of `message`.
    pub fn title(&self) -> &str {
        self.message
            .strip_prefix("(#")
            .and_then(|rest| rest.split_once(") "))
            .filter(|(code, _)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
            .map_or(self.message.as_str(), |(_, title)| title)
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code {}", self.code)?;
        if let Some(subcode) = self.subcode {
            write!(f, " (subcode {subcode})")?;
        }
        write!(f, ", HTTP {}: {}", self.http_status, self.title())
    }
}

/// The error envelope as Meta sends it; everything but `code` may be missing.
#[derive(Deserialize)]
struct Envelope {
    error: RawError,
}

#[derive(Deserialize)]
struct RawError {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    error_subcode: Option<i64>,
    #[serde(default)]
    error_data: Value,
    is_transient: Option<bool>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
    fbtrace_id: Option<String>,
}

/// Reads an answer that was not the success we expected: Meta's error object, or unreadable.
pub(super) fn from_answer(status: StatusCode, body: &[u8]) -> GraphFailure {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error }) => GraphFailure::Api(GraphError {
            http_status: status.as_u16(),
            code: error.code,
            subcode: error.error_subcode,
            message: error.message,
            kind: error.kind,
            details: error
                .error_data
                .get("details")
                .and_then(Value::as_str)
                .map(str::to_owned),
            fbtrace_id: error.fbtrace_id,
            is_transient: error.is_transient.unwrap_or(false),
            user_title: error.error_user_title,
            user_message: error.error_user_msg,
        }),
        Err(_) => GraphFailure::Unreadable {
            status: status.as_u16(),
            body: excerpt(body),
        },
    }
}

/// A failure before any answer: nothing was sent if we never connected (or could not even build
/// the request); otherwise Meta may have the request.
pub(super) fn from_send_error(error: reqwest::Error) -> GraphFailure {
    if error.is_builder() || error.is_connect() {
        GraphFailure::Unreachable(describe(error))
    } else {
        GraphFailure::Ambiguous(describe(error))
    }
}

/// A failure while reading the answer: Meta had the request.
pub(super) fn from_read_error(error: reqwest::Error) -> GraphFailure {
    GraphFailure::Ambiguous(describe(error))
}

/// The error and its causes on one line, without the URL (it may carry a media hash).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of `body` as text, cut at a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= BODY_EXCERPT {
        return text.into_owned();
    }
    let mut end = BODY_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(message: &str) -> GraphError {
        GraphError {
            http_status: 400,
            code: 100,
            subcode: None,
            message: message.into(),
            kind: None,
            details: None,
            fbtrace_id: None,
            is_transient: false,
            user_title: None,
            user_message: None,
        }
    }

    #[test]
    fn title_drops_the_code_prefix_only() {
        assert_eq!(error("(#130429) Rate limit hit").title(), "Rate limit hit");
        assert_eq!(
            error("Invalid OAuth access token").title(),
            "Invalid OAuth access token"
        );
        assert_eq!(error("(#abc) odd").title(), "(#abc) odd");
    }

    #[test]
    fn a_long_unreadable_body_is_cut_at_a_character_boundary() {
        let body = "é".repeat(BODY_EXCERPT);
        let GraphFailure::Unreadable { status, body } =
            from_answer(StatusCode::BAD_GATEWAY, body.as_bytes())
        else {
            panic!("expected Unreadable");
        };
        assert_eq!(status, 502);
        assert!(body.ends_with('…') && body.len() <= BODY_EXCERPT + '…'.len_utf8());
    }

    #[test]
    fn an_error_object_without_optional_fields_still_parses() {
        let failure = from_answer(StatusCode::NOT_FOUND, br#"{"error":{"code":803}}"#);
        let GraphFailure::Api(error) = failure else {
            panic!("expected Api");
        };
        assert_eq!(
            (error.http_status, error.code, error.title()),
            (404, 803, "")
        );
    }
}
