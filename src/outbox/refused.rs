//! Why the send path refuses a message: before queueing it, or right before its Graph call. Each
//! refusal has a sentence for agents, a stable code for programs, and the error Meta would have
//! answered, so every surface (the inbox, the API, the CLI) says the same thing.

use chrono::{DateTime, Utc};

use crate::{
    domain::{
        conversations,
        ids::MessageId,
        numbers::lifecycle::{REMOVED_MESSAGE, REMOVED_TITLE},
        templates::{TemplateOption, TemplateStatus},
    },
    whatsapp::template_check::TemplateMismatch,
    window::Closure,
};

/// Why a message was not queued, or not sent after all. `Display` is the sentence for agents;
/// [`code`](Self::code) is stable for programs and [`meta_code`](Self::meta_code) is the error Meta
/// would have answered.
#[derive(Debug, thiserror::Error)]
pub enum SendRefused {
    #[error("{} {}", closed_sentence(*since, *reason), offer(templates))]
    WindowClosed {
        since: DateTime<Utc>,
        reason: Closure,
        templates: Vec<TemplateOption>,
    },
    #[error(
        "This customer has not written to this number yet, so WhatsApp only delivers approved \
         templates. {}",
        offer(templates)
    )]
    WindowNeverOpened { templates: Vec<TemplateOption> },
    #[error("There is no template {name:?} in language {language} for this number.")]
    TemplateMissing { name: String, language: String },
    #[error("Template {name:?} is {status}; only approved templates can be sent.")]
    TemplateNotApproved {
        name: String,
        status: TemplateStatus,
    },
    #[error("The template's variables don't fit: {}.", .0.problems.join("; "))]
    TemplateMismatch(TemplateMismatch),
    #[error("This customer opted out of marketing messages.")]
    OptedOut,
    #[error("{0}")]
    Invalid(String),
    #[error(
        "This idempotency key was already used for a different message (message {message_id}); \
         use a new key for a new message."
    )]
    IdempotencyConflict { message_id: MessageId },
    #[error("Only failed or unconfirmed messages can be retried.")]
    NotRetryable,
    #[error("conversation not found")]
    NotFound,
    /// A send to a customer of a number the tenant does not have.
    #[error("There is no phone number {phone_number_id:?} in this account.")]
    NumberNotFound { phone_number_id: String },
    #[error("{REMOVED_MESSAGE}")]
    NumberRemoved,
}

fn closed_sentence(since: DateTime<Utc>, reason: Closure) -> String {
    let since = since.format("%Y-%m-%d %H:%M UTC");
    match reason {
        Closure::Expired => format!(
            "The 24-hour window closed on {since}: the customer last wrote more than 24 hours ago, \
             so WhatsApp only delivers approved templates until they write again."
        ),
        Closure::RefusedByMeta => format!(
            "WhatsApp refused a message on {since} as outside the 24-hour window, so it only \
             delivers approved templates until the customer writes again."
        ),
    }
}

/// What to do instead, when only templates go through.
fn offer(templates: &[TemplateOption]) -> &'static str {
    if templates.is_empty() {
        "No approved templates are synced for this number yet: an admin can fetch them from Meta \
         with `switchboard templates sync`."
    } else {
        "Send one of the approved templates instead."
    }
}

impl SendRefused {
    /// The approved templates to offer instead, when the window is the reason.
    pub fn templates(&self) -> &[TemplateOption] {
        match self {
            Self::WindowClosed { templates, .. } | Self::WindowNeverOpened { templates } => {
                templates
            }
            _ => &[],
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WindowClosed { .. } => "window_closed",
            Self::WindowNeverOpened { .. } => "window_never_opened",
            Self::TemplateMissing { .. } => "template_missing",
            Self::TemplateNotApproved { .. } => "template_not_approved",
            Self::TemplateMismatch(_) => "template_mismatch",
            Self::OptedOut => "opted_out",
            Self::Invalid(_) => "invalid",
            Self::IdempotencyConflict { .. } => "idempotency_conflict",
            Self::NotRetryable => "not_retryable",
            Self::NotFound => "not_found",
            Self::NumberNotFound { .. } => "number_not_found",
            Self::NumberRemoved => "number_removed",
        }
    }

    /// The error code Meta would have answered, where it has one.
    /// <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/>
    pub fn meta_code(&self) -> Option<i64> {
        match self {
            Self::WindowClosed { .. } | Self::WindowNeverOpened { .. } => {
                Some(conversations::RE_ENGAGEMENT)
            }
            Self::TemplateMissing { .. } => Some(132001),
            Self::TemplateNotApproved { status, .. } => Some(match status {
                TemplateStatus::Paused => 132015,
                TemplateStatus::Disabled => 132016,
                _ => 132001,
            }),
            Self::TemplateMismatch(mismatch) => Some(mismatch.code),
            Self::OptedOut => Some(conversations::MARKETING_OPT_OUT),
            Self::Invalid(_) => Some(100),
            // Meta's answer to a phone number id it does not know (or that the token may not use).
            Self::NumberNotFound { .. } => Some(100),
            Self::IdempotencyConflict { .. }
            | Self::NotRetryable
            | Self::NotFound
            | Self::NumberRemoved => None,
        }
    }

    /// A short title for a message that was not sent for this reason.
    pub fn title(&self) -> &'static str {
        match self {
            Self::WindowClosed { .. } | Self::WindowNeverOpened { .. } => {
                "Outside the 24-hour window"
            }
            Self::TemplateMissing { .. } | Self::TemplateNotApproved { .. } => {
                "Template not available"
            }
            Self::TemplateMismatch(_) => "Template variables don't fit",
            Self::OptedOut => "Customer opted out of marketing",
            Self::Invalid(_) => "Invalid message",
            Self::IdempotencyConflict { .. } => "Idempotency key reused",
            Self::NotRetryable => "Not retryable",
            Self::NotFound => "Not found",
            Self::NumberNotFound { .. } => "Number not found",
            Self::NumberRemoved => REMOVED_TITLE,
        }
    }
}
