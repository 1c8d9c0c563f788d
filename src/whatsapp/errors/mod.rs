//! Meta's Cloud API error codes: one table (`table.rs`) mapping each code we can meet (synchronously
//! from the Graph API, or in a `failed` status / `errors[]` of a webhook) to what an agent reads (a
//! short title, a plain explanation, what to do about it), how the send pipeline retries it, and how
//! the Graph API itself answers it (HTTP status, Meta's title and details, subcode), which the sandbox
//! and the Meta-compatible endpoint answer with (see [`super::envelope`]). Classify by `code` (and
//! `error_data.details`), never by the title or message text: Meta says titles are deprecated.
//! Sources: Meta's error-code page
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/>) and the cited
//! summary in `shared/corpus/error-codes.md`.

mod table;

use Retry::{Backoff, Never};
use table::TABLE;

/// How the send pipeline treats a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Transient: retry automatically with exponential backoff (network errors, 5xx, 1, 2, 4, 17, 130429, 131000, 131016, 131057, 80007).
    Backoff,
    /// Too many messages to this one recipient (131056): back off for this recipient only, then retry.
    Recipient,
    /// Permanent: never retried automatically (an agent may retry by hand).
    Never,
}

/// One row of the table: what a code means to an agent, how it is retried, and how Meta answers it.
#[derive(Debug)]
pub struct ErrorInfo {
    /// Meta's error code (200 stands for the whole 200–299 permission range).
    pub code: i64,
    /// The short title agents see (Meta's, sometimes tidied; the wire title is in `graph`).
    pub title: &'static str,
    /// What happened, in one or two sentences for a non-technical agent.
    pub explanation: &'static str,
    /// What the agent (or an admin) should do about it.
    pub action: &'static str,
    /// Whether the send pipeline retries it by itself.
    pub retry: Retry,
    /// Whether Meta's `error_data.details` name the cause (the parameter, the media problem), so
    /// they are worth showing; for the other codes they only repeat the title.
    pub detailed: bool,
    /// How the Graph API answers a request refused with this code; `None` where we have no
    /// record of its synchronous answer (webhook-only codes, and 190, whose answer has a form of
    /// its own: see [`super::envelope::MetaError::expired_token`]).
    pub graph: Option<GraphAnswer>,
}

/// A Graph API error answer for one code: its HTTP status and the fields of Meta's envelope.
#[derive(Debug)]
pub struct GraphAnswer {
    /// The HTTP status Meta answers with.
    pub status: u16,
    /// Throttling and server errors carry `"is_transient": true`.
    pub transient: bool,
    /// Meta's title, as in `"message": "(#CODE) Title"`.
    pub title: &'static str,
    /// Meta's `error_data.details` (paraphrased where Meta's text is long).
    pub details: &'static str,
    /// `error_subcode`, where Meta sends one.
    pub subcode: Option<i64>,
}

/// The table entry for `code` (codes 200..=299 share the permission entry).
pub fn info(code: i64) -> Option<&'static ErrorInfo> {
    let code = if (200..=299).contains(&code) {
        200
    } else {
        code
    };
    TABLE.iter().find(|entry| entry.code == code)
}

/// How the Graph API answers `code`, when the table records it (exactly this code: no ranges).
pub fn graph_answer(code: i64) -> Option<&'static GraphAnswer> {
    TABLE
        .iter()
        .find(|entry| entry.code == code)
        .and_then(|entry| entry.graph.as_ref())
}

/// Every row of the table, in code order.
pub fn all() -> impl Iterator<Item = &'static ErrorInfo> {
    TABLE.iter()
}

/// What an agent sees for an error: never a bare code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The code Meta sent.
    pub code: i64,
    /// A short title: the table's, else Meta's, else "Unknown error".
    pub title: String,
    /// What happened, in plain words.
    pub explanation: String,
    /// What to do about it.
    pub action: String,
    /// How the send pipeline treats it.
    pub retry: Retry,
}

impl Explanation {
    /// What happened and what to do, as one message for the agent.
    pub fn message(&self) -> String {
        format!("{} {}", self.explanation, self.action)
    }
}

/// What an agent sees for an error: never a bare code. Unknown codes fall back to Meta's own title
/// (and details, if any); unknown codes are `Retry::Never` unless `is_transient` says otherwise.
pub fn explain(
    code: i64,
    meta_title: Option<&str>,
    details: Option<&str>,
    is_transient: bool,
) -> Explanation {
    let meta_title = meta_title.map(strip_code_prefix).filter(|t| !t.is_empty());
    let details = details
        .map(str::trim)
        .filter(|d| !d.is_empty() && Some(*d) != meta_title);
    if let Some(entry) = info(code) {
        let explanation = match details {
            Some(details) if entry.detailed => {
                format!("{} Meta says: {}", entry.explanation, sentence(details))
            }
            _ => entry.explanation.to_owned(),
        };
        return Explanation {
            code,
            title: entry.title.to_owned(),
            explanation,
            action: entry.action.to_owned(),
            retry: entry.retry,
        };
    }
    let mut explanation = match meta_title {
        Some(title) => format!("Meta rejected the message (error {code}: {title})."),
        None => format!("Meta rejected the message (error {code}) without naming the reason."),
    };
    if let Some(details) = details {
        explanation = format!("{explanation} Meta says: {}", sentence(details));
    }
    let (action, retry) = if is_transient {
        (
            format!(
                "Nothing to do yet: it is retried automatically. If it keeps failing, tell an admin (error {code})."
            ),
            Backoff,
        )
    } else {
        (
            format!(
                "Check the message and try again by hand; if it fails again, tell an admin (error {code})."
            ),
            Never,
        )
    };
    Explanation {
        code,
        title: meta_title.unwrap_or("Unknown error").to_owned(),
        explanation,
        action,
        retry,
    }
}

/// Graph API messages read "(#131047) Re-engagement message"; the code is shown separately.
fn strip_code_prefix(title: &str) -> &str {
    let title = title.trim();
    match title
        .strip_prefix("(#")
        .and_then(|rest| rest.split_once(") "))
    {
        Some((code, rest)) if code.chars().all(|c| c.is_ascii_digit()) => rest.trim(),
        _ => title,
    }
}

fn sentence(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::{Retry::Recipient, *};

    const LISTED: &[i64] = &[
        0, 1, 2, 3, 4, 10, 17, 100, 104, 190, 200, 250, 299, 368, 80007, 130429, 130472, 131000,
        131005, 131008, 131009, 131016, 131021, 131026, 131030, 131031, 131042, 131045, 131047,
        131048, 131049, 131050, 131051, 131052, 131053, 131056, 131057, 132000, 132001, 132005,
        132007, 132008, 132012, 132015, 132016, 133010,
    ];

    #[test]
    fn every_listed_code_has_an_explanation_and_an_action() {
        for &code in LISTED {
            let entry = info(code).unwrap_or_else(|| panic!("no entry for {code}"));
            assert!(!entry.title.trim().is_empty(), "{code}");
            assert!(!entry.explanation.trim().is_empty(), "{code}");
            assert!(!entry.action.trim().is_empty(), "{code}");
        }
    }

    #[test]
    fn the_table_has_no_duplicate_codes() {
        for (i, entry) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|other| other.code != entry.code),
                "{} twice",
                entry.code
            );
        }
    }

    #[test]
    fn the_table_is_in_code_order() {
        let codes: Vec<i64> = all().map(|entry| entry.code).collect();
        assert!(codes.is_sorted(), "{codes:?}");
    }

    #[test]
    fn every_graph_answer_has_a_status_a_title_and_details() {
        for entry in all() {
            let Some(answer) = &entry.graph else { continue };
            assert!(
                StatusCode::from_u16(answer.status)
                    .is_ok_and(|s| s.is_client_error() || s.is_server_error()),
                "{}",
                entry.code
            );
            assert!(!answer.title.trim().is_empty(), "{}", entry.code);
            assert!(!answer.details.trim().is_empty(), "{}", entry.code);
        }
    }

    #[test]
    fn what_meta_calls_transient_the_pipeline_retries() {
        for entry in all() {
            if entry.graph.as_ref().is_some_and(|answer| answer.transient) {
                assert_ne!(entry.retry, Never, "{}", entry.code);
            }
        }
    }

    #[test]
    fn graph_answers_are_for_the_exact_code_only() {
        assert_eq!(graph_answer(200).map(|answer| answer.status), Some(403));
        assert!(
            graph_answer(250).is_none(),
            "the sandbox answers 250 generically"
        );
        assert!(graph_answer(190).is_none(), "190 has an answer of its own");
        assert_eq!(
            graph_answer(130429).and_then(|answer| answer.subcode),
            Some(2494055)
        );
    }

    #[test]
    fn transient_codes_are_retried_with_backoff() {
        for code in [1, 2, 4, 17, 130429, 131000, 131016, 131057, 80007] {
            assert_eq!(info(code).map(|e| e.retry), Some(Backoff), "{code}");
        }
    }

    #[test]
    fn permanent_codes_are_never_retried_automatically() {
        for code in [
            0, 100, 190, 368, 131026, 131047, 131050, 132000, 132012, 133010,
        ] {
            assert_eq!(info(code).map(|e| e.retry), Some(Never), "{code}");
        }
    }

    #[test]
    fn pair_rate_limit_backs_off_for_the_recipient_only() {
        assert_eq!(info(131056).map(|e| e.retry), Some(Recipient));
    }

    #[test]
    fn closed_window_tells_the_agent_to_send_a_template() {
        let explained = explain(131047, Some("Re-engagement message"), None, false);
        assert!(explained.action.contains("template"));
        assert!(explained.explanation.contains("24-hour"));
        assert!(
            !explained.explanation.contains("since the customer last"),
            "true even when the customer wrote minutes ago by our clock"
        );
    }

    #[test]
    fn codes_200_to_299_map_to_permissions() {
        for code in [200, 201, 230, 299] {
            assert_eq!(
                info(code).map(|e| e.title),
                Some("API Permission"),
                "{code}"
            );
            assert_eq!(explain(code, None, None, false).code, code);
        }
        assert!(info(300).is_none());
    }

    #[test]
    fn unknown_codes_fall_back_to_metas_title_and_details() {
        let explained = explain(
            139999,
            Some("(#139999) Something new"),
            Some("The new thing failed"),
            false,
        );
        assert_eq!(explained.title, "Something new");
        assert!(explained.explanation.contains("139999"));
        assert!(explained.explanation.contains("The new thing failed"));
        assert_eq!(explained.retry, Never);
    }

    #[test]
    fn unknown_transient_codes_are_retried_with_backoff() {
        assert_eq!(explain(139999, None, None, true).retry, Backoff);
    }

    #[test]
    fn an_unknown_code_without_a_title_still_says_what_happened() {
        let explained = explain(139999, None, None, false);
        assert_eq!(explained.title, "Unknown error");
        assert!(
            explained
                .explanation
                .starts_with("Meta rejected the message (error 139999)")
        );
        assert!(explained.action.contains("139999"));
    }

    #[test]
    fn details_naming_the_parameter_are_appended() {
        let explained = explain(
            131009,
            Some("Parameter value is not valid"),
            Some("Invalid parameter: to"),
            false,
        );
        assert!(
            explained
                .explanation
                .ends_with("Meta says: Invalid parameter: to.")
        );
    }

    #[test]
    fn details_that_only_repeat_the_window_rule_are_not_appended() {
        let details = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
        let explained = explain(131047, None, Some(details), false);
        assert!(!explained.explanation.contains("Meta says"));
    }

    #[test]
    fn no_explanation_is_just_a_number() {
        let codes = LISTED.iter().copied().chain([5, 139999, -1]);
        for code in codes {
            let explained = explain(code, None, Some(""), false);
            for text in [&explained.title, &explained.explanation, &explained.action] {
                assert!(
                    text.chars().filter(|c| c.is_alphabetic()).count() > 3,
                    "{code}: {text:?}"
                );
            }
        }
    }
}
