//! Meta's Cloud API error codes in words a support agent understands: one table mapping each code we
//! can meet (synchronously from the Graph API, or in a `failed` status / `errors[]` of a webhook) to
//! Meta's short title, a plain explanation, what to do about it, and how the send pipeline retries it.
//! Classify by `code` (and `error_data.details`), never by the title or message text: Meta says titles
//! are deprecated. Sources: Meta's error-code page
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/>) and the cited
//! summary in `shared/corpus/error-codes.md`.

use Retry::{Backoff, Never, Recipient};

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

/// One row of the table: what a code means to an agent and how it is retried.
#[derive(Debug)]
pub struct ErrorInfo {
    /// Meta's error code (200 stands for the whole 200–299 permission range).
    pub code: i64,
    /// Meta's short title for the code.
    pub title: &'static str,
    /// What happened, in one or two sentences for a non-technical agent.
    pub explanation: &'static str,
    /// What the agent (or an admin) should do about it.
    pub action: &'static str,
    /// Whether the send pipeline retries it by itself.
    pub retry: Retry,
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
            Some(details) if DETAILED.contains(&entry.code) => {
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

/// Codes whose `error_data.details` name the cause (the parameter, the media problem), so they are
/// worth showing; for the others Meta's details only repeat the title.
const DETAILED: &[i64] = &[
    100, 131000, 131008, 131009, 131051, 131053, 132000, 132007, 132008, 132012, 135000,
];

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

const FIX_CONFIG: &str = "Tell an admin: the number's setup in Switchboard or Meta needs fixing.";

static TABLE: &[ErrorInfo] = &[
    ErrorInfo {
        code: 0,
        title: "AuthException",
        explanation: "Meta could not sign in with this number's access token: it expired, was revoked, or the app was blocked.",
        action: "Tell an admin to refresh the number's access token; nothing can be sent until then.",
        retry: Never,
    },
    ErrorInfo {
        code: 1,
        title: "API Unknown",
        explanation: "Meta had an unexpected problem on its side.",
        action: "Nothing to do: it is retried automatically. If it keeps failing, check Meta's status page.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 2,
        title: "API Service",
        explanation: "Meta's service is temporarily down or overloaded.",
        action: "Nothing to do: it is retried automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 3,
        title: "API Method",
        explanation: "The Meta app is not allowed to use this feature.",
        action: "Tell an admin to check the Meta app's permissions and features.",
        retry: Never,
    },
    ErrorInfo {
        code: 4,
        title: "API Too Many Calls",
        explanation: "The Meta app made too many requests in a short time.",
        action: "Nothing to do: sending slows down and retries automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 10,
        title: "Permission Denied",
        explanation: "The Meta app lacks a permission it needs (or it was revoked).",
        action: "Tell an admin to grant whatsapp_business_messaging (and related permissions) to the app.",
        retry: Never,
    },
    ErrorInfo {
        code: 17,
        title: "User request limit reached",
        explanation: "Too many requests were made with this access token in a short time.",
        action: "Nothing to do: sending slows down and retries automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 100,
        title: "Invalid parameter",
        explanation: "Meta rejected the request because a field is missing, misspelled or has a wrong value (or an id, such as the phone number's, is wrong).",
        action: "Check the message content; if it looks right, tell an admin, who can check the number's ids.",
        retry: Never,
    },
    ErrorInfo {
        code: 104,
        title: "Access token required",
        explanation: "The request reached Meta without an access token.",
        action: FIX_CONFIG,
        retry: Never,
    },
    ErrorInfo {
        code: 190,
        title: "Access token has expired",
        explanation: "This number's access token has expired or is invalid, so Meta refuses every message.",
        action: "Tell an admin to refresh the number's access token; nothing can be sent until then.",
        retry: Never,
    },
    ErrorInfo {
        code: 200,
        title: "API Permission",
        explanation: "The Meta app is missing a permission for this number or account, or it was revoked.",
        action: "Tell an admin to check the app's permissions and that the number is assigned to it.",
        retry: Never,
    },
    ErrorInfo {
        code: 368,
        title: "Temporarily blocked for policy violations",
        explanation: "Meta restricted this WhatsApp Business Account for breaking its policies.",
        action: "Stop sending and tell an admin: the restriction must be resolved in Meta Business Manager.",
        retry: Never,
    },
    ErrorInfo {
        code: 803,
        title: "Object does not exist",
        explanation: "Meta does not know the phone number or account id this message was sent from.",
        action: FIX_CONFIG,
        retry: Never,
    },
    ErrorInfo {
        code: 80007,
        title: "Rate limit issues",
        explanation: "The WhatsApp Business Account reached its request limit for now.",
        action: "Nothing to do: sending slows down and retries automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 130429,
        title: "Rate limit hit",
        explanation: "This number is sending more messages per second than Meta allows.",
        action: "Nothing to do: the message is queued and retried automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 130472,
        title: "User's number is part of an experiment",
        explanation: "Meta held back this marketing message because the customer is in one of its experiment groups.",
        action: "Nothing to fix; don't resend it. Reach the customer another way if it matters.",
        retry: Never,
    },
    ErrorInfo {
        code: 130497,
        title: "Business account is restricted from messaging users in this country",
        explanation: "Meta does not let this business message customers in the recipient's country.",
        action: "Reach the customer another way; tell an admin if this is unexpected.",
        retry: Never,
    },
    ErrorInfo {
        code: 131000,
        title: "Something went wrong",
        explanation: "Meta failed to send the message for an unknown reason.",
        action: "Nothing to do: it is retried a few times. If it still fails, try again later or tell an admin.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 131005,
        title: "Access denied",
        explanation: "The Meta app is not allowed to send from this number (permission missing or removed).",
        action: "Tell an admin to check the app's permissions for this number.",
        retry: Never,
    },
    ErrorInfo {
        code: 131008,
        title: "Required parameter is missing",
        explanation: "The message was sent to Meta without a field it requires.",
        action: "Check the message is complete; if it is, tell an admin (this is a bug).",
        retry: Never,
    },
    ErrorInfo {
        code: 131009,
        title: "Parameter value is not valid",
        explanation: "One of the values in the message was not accepted by Meta.",
        action: "Correct the value and send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 131016,
        title: "Service unavailable",
        explanation: "A Meta service is temporarily unavailable.",
        action: "Nothing to do: it is retried automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 131021,
        title: "Recipient cannot be sender",
        explanation: "The message was addressed to the business's own number.",
        action: "Send it to the customer's number instead.",
        retry: Never,
    },
    ErrorInfo {
        code: 131026,
        title: "Message undeliverable",
        explanation: "WhatsApp could not deliver the message: the number may not use WhatsApp, the app may be outdated, or the customer has not accepted WhatsApp's terms.",
        action: "Check the number with the customer, or reach them by another channel; resending won't help.",
        retry: Never,
    },
    ErrorInfo {
        code: 131030,
        title: "Recipient phone number not in allowed list",
        explanation: "This is a test number, and it may only message numbers on its allowed list.",
        action: "Tell an admin to add the recipient to the allowed list, or use a production number.",
        retry: Never,
    },
    ErrorInfo {
        code: 131031,
        title: "Business Account locked",
        explanation: "Meta locked or restricted this business account, or could not verify its details (such as the two-step PIN).",
        action: "Stop sending and tell an admin: it must be resolved in Meta Business Manager.",
        retry: Never,
    },
    ErrorInfo {
        code: 131037,
        title: "Display name approval needed",
        explanation: "This number's display name has not been approved by Meta yet.",
        action: "Tell an admin to get the display name approved in WhatsApp Manager.",
        retry: Never,
    },
    ErrorInfo {
        code: 131042,
        title: "Business eligibility payment issue",
        explanation: "Meta could not charge the business for messages: the payment method is missing or has a problem.",
        action: "Tell an admin to fix the payment method in Meta Business Manager, then resend.",
        retry: Never,
    },
    ErrorInfo {
        code: 131045,
        title: "Incorrect certificate",
        explanation: "This number's registration with Meta is not valid.",
        action: "Tell an admin to register the number again.",
        retry: Never,
    },
    ErrorInfo {
        code: 131047,
        title: "Re-engagement message",
        explanation: "WhatsApp refused this message as outside the 24-hour customer service window, so until the customer writes again it only delivers approved templates.",
        action: "Send an approved template message instead; you can write freely again once the customer replies.",
        retry: Never,
    },
    ErrorInfo {
        code: 131048,
        title: "Spam rate limit hit",
        explanation: "Meta restricted sending from this number because earlier messages were blocked or reported as spam.",
        action: "Stop bulk sends and tell an admin to review the number's quality rating.",
        retry: Never,
    },
    ErrorInfo {
        code: 131049,
        title: "Message not delivered to maintain healthy ecosystem engagement",
        explanation: "Meta held back this marketing message because the customer has recently received enough of them.",
        action: "Don't resend now; wait at least a day, or reach the customer another way.",
        retry: Never,
    },
    ErrorInfo {
        code: 131050,
        title: "User stopped marketing messages",
        explanation: "The customer chose not to receive marketing messages from this business.",
        action: "Don't send them marketing messages; service messages are still fine.",
        retry: Never,
    },
    ErrorInfo {
        code: 131051,
        title: "Unsupported message type",
        explanation: "This kind of message is not supported by WhatsApp.",
        action: "Send it as a different kind of message (for example text, or as a document).",
        retry: Never,
    },
    ErrorInfo {
        code: 131052,
        title: "Media download error",
        explanation: "The photo or file the customer sent could not be downloaded from WhatsApp.",
        action: "Ask the customer to send it again.",
        retry: Never,
    },
    ErrorInfo {
        code: 131053,
        title: "Media upload error",
        explanation: "WhatsApp could not fetch or accept the attached file (unsupported type, or its web link did not answer).",
        action: "Check the file type and size, attach it again and resend.",
        retry: Never,
    },
    ErrorInfo {
        code: 131056,
        title: "(Business Account, Consumer Account) pair rate limit hit",
        explanation: "Too many messages were sent to this customer in a short time.",
        action: "Nothing to do: messages to this customer are slowed down and retried automatically.",
        retry: Recipient,
    },
    ErrorInfo {
        code: 131057,
        title: "Account in maintenance mode",
        explanation: "This business account is briefly in maintenance (for example a capacity upgrade).",
        action: "Nothing to do: it is retried automatically.",
        retry: Backoff,
    },
    ErrorInfo {
        code: 132000,
        title: "Number of parameters does not match the expected number of params",
        explanation: "The template was sent with a different number of variables than it has.",
        action: "Fill in every variable of the template (and no extra ones), then send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 132001,
        title: "Template does not exist",
        explanation: "No approved template with this name exists in this language.",
        action: "Pick another template or language; an admin can check its name and approval status.",
        retry: Never,
    },
    ErrorInfo {
        code: 132005,
        title: "Translated text too long",
        explanation: "With the variables filled in, the template's text is longer than WhatsApp allows.",
        action: "Shorten the variable values and send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 132007,
        title: "Format character policy violated",
        explanation: "The template or its variable values break WhatsApp's content rules.",
        action: "Change the variable values (remove unusual formatting or characters) and send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 132008,
        title: "Template parameter value invalid",
        explanation: "One of the template's variable values is in the wrong format.",
        action: "Correct the variable value and send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 132012,
        title: "Parameter format does not match format in the created template",
        explanation: "A template variable was given in the wrong form (for example an image where the template expects a video).",
        action: "Fill in each variable with the kind of value the template expects, then send again.",
        retry: Never,
    },
    ErrorInfo {
        code: 132015,
        title: "Template is paused",
        explanation: "Meta paused this template for a few hours because of its low quality rating.",
        action: "Use another template, or try again after the pause ends.",
        retry: Never,
    },
    ErrorInfo {
        code: 132016,
        title: "Template is disabled",
        explanation: "Meta permanently disabled this template after pausing it too often.",
        action: "Use another template; an admin can create a replacement.",
        retry: Never,
    },
    ErrorInfo {
        code: 132068,
        title: "Flow is in blocked state",
        explanation: "The form (WhatsApp Flow) in this message is blocked.",
        action: "Tell an admin to fix or republish the flow.",
        retry: Never,
    },
    ErrorInfo {
        code: 132069,
        title: "Flow is in throttled state",
        explanation: "The form (WhatsApp Flow) in this message was sent too often and is limited for now.",
        action: "Try again in an hour, or send without the flow.",
        retry: Never,
    },
    ErrorInfo {
        code: 133010,
        title: "Phone number not registered",
        explanation: "This business number is not registered with the WhatsApp Cloud API.",
        action: "Tell an admin to register the number with Meta (it needs the two-step PIN).",
        retry: Never,
    },
    ErrorInfo {
        code: 133016,
        title: "Account has been registered or deregistered too many times",
        explanation: "The number was registered or deregistered too often in a short time.",
        action: "Tell an admin to wait before registering the number again.",
        retry: Never,
    },
    ErrorInfo {
        code: 135000,
        title: "Generic user error",
        explanation: "Meta rejected the message for a reason it did not specify.",
        action: "Check the message and try again by hand; if it fails again, tell an admin.",
        retry: Never,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

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
