//! What the API answers and takes, as JSON and as the OpenAPI document describes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{
    domain::templates::TemplateOption,
    window::{Closure, Window},
};

/// The document's head: what the API is, how to authenticate, where it is served.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        version = "1",
        description = "Work the shared WhatsApp inbox from a program: conversations with the \
            inbox's views and filters, their messages, sends checked against the 24-hour window \
            (refused with the templates to send instead), assignment, status, labels, notes, \
            contacts' marketing opt-out, templates and numbers. Authenticate with an API key of \
            the tenant: `Authorization: Bearer sbk_…`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    tags(
        (name = "conversations", description = "The inbox's conversations and their teamwork."),
        (name = "messages", description = "A conversation's messages, and sending."),
        (name = "contacts", description = "Customers."),
        (name = "account", description = "The tenant's templates and numbers."),
    )
)]
pub struct Document;

/// The `api_key` security scheme: a bearer token.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sbk_…")
                    .description(Some(
                        "An API key of the tenant, made by an admin (console or \
                         `switchboard apikey create`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// An error: `code` is stable, `message` is for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `not_found`, `unauthorized`, `too_many_requests`, `unprocessable`…, or for a refused
    /// send: `window_closed`, `window_never_opened`, `template_missing`,
    /// `template_not_approved`, `template_mismatch`, `opted_out`, `invalid`,
    /// `idempotency_conflict`, `number_removed`.
    #[schema(example = "window_closed")]
    pub code: String,
    pub message: String,
    /// For a refused send, the code Meta would have answered (131047 for the window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_code: Option<i64>,
    /// When the window is why a send was refused: the approved templates to send instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<TemplateOut>>,
}

/// The 24-hour customer service window of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowOut {
    /// `open` (free-form messages go through until `closes_at`), `closed` (only templates, since
    /// `closed_since`) or `never_opened` (the customer has not written: only templates).
    #[schema(example = "open")]
    pub state: &'static str,
    pub closes_at: Option<DateTime<Utc>>,
    pub closed_since: Option<DateTime<Utc>>,
    /// Why it closed: `expired` (24 hours passed) or `refused_by_meta` (WhatsApp said so).
    pub closed_because: Option<&'static str>,
}

impl From<Window> for WindowOut {
    fn from(window: Window) -> Self {
        match window {
            Window::Open { closes_at } => Self {
                state: "open",
                closes_at: Some(closes_at),
                closed_since: None,
                closed_because: None,
            },
            Window::Closed { since, reason } => Self {
                state: "closed",
                closes_at: None,
                closed_since: Some(since),
                closed_because: Some(match reason {
                    Closure::Expired => "expired",
                    Closure::RefusedByMeta => "refused_by_meta",
                }),
            },
            Window::NeverOpened => Self {
                state: "never_opened",
                closes_at: None,
                closed_since: None,
                closed_because: None,
            },
        }
    }
}

/// A customer: by phone (`wa_id`) or by business-scoped user id.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    /// Their WhatsApp profile name.
    pub name: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub language: Option<String>,
    /// Since when they opted out of marketing messages (none: they have not).
    pub marketing_opted_out_at: Option<DateTime<Utc>>,
    /// Erased at their request: nothing of theirs is kept.
    pub erased: bool,
}

/// A conversation as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationRow {
    pub id: i64,
    /// Meta's id of the number it is on.
    pub phone_number_id: String,
    /// `open`, `pending` or `resolved`.
    pub status: &'static str,
    pub contact: RowContact,
    pub assignee: Option<Assignee>,
    pub last_message_at: DateTime<Utc>,
    /// The last message's text (or its kind).
    pub last_message: Option<String>,
    pub last_message_outbound: bool,
    pub labels: Vec<String>,
    pub window: WindowOut,
}

/// The customer of a listed conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowContact {
    pub name: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

/// Who a conversation is assigned to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignee {
    pub id: i64,
    pub name: Option<String>,
}

/// A page of conversations; `next` continues it (pass it as `after`), none on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    pub data: Vec<ConversationRow>,
    pub next: Option<String>,
}

/// A conversation with its customer, labels and window.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: i64,
    pub phone_number_id: String,
    /// `open`, `pending` or `resolved`.
    pub status: &'static str,
    pub contact: ContactOut,
    pub assignee: Option<Assignee>,
    pub labels: Vec<LabelOut>,
    pub window: WindowOut,
    /// An admin paused sending from the number: sends wait in the queue.
    pub number_paused: bool,
    /// The number was removed: the conversation is read-only.
    pub number_removed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelOut {
    pub id: i64,
    pub name: String,
}

/// A message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    /// Meta's id, once Meta has one.
    pub wamid: Option<String>,
    /// `inbound` (the customer's) or `outbound`.
    pub direction: &'static str,
    /// Meta's message type: `text`, `image`, `template`, `reaction`…
    #[serde(rename = "type")]
    pub kind: String,
    /// The message as Meta's Graph API shapes it under its type.
    pub content: Value,
    /// `received` (inbound), or `queued`, `sent`, `delivered`, `read`, `played`, `failed`,
    /// `unknown` (we could not confirm it was sent: check before sending again).
    pub status: &'static str,
    pub at: DateTime<Utc>,
    /// The agent, or the API key (`"Order system (API)"`), that sent it.
    pub sent_by: Option<String>,
    /// Why it failed, in words.
    pub error: Option<MessageError>,
    /// The wamid of the message it replies to.
    pub reply_to: Option<String>,
    pub edited: bool,
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageError {
    pub title: Option<String>,
    pub message: Option<String>,
}

/// A page of messages, newest first; `next` continues to older ones (pass it as `before`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub data: Vec<MessageOut>,
    pub next: Option<String>,
}

/// A message to send. `type` says which of the other fields apply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum NewMessage {
    /// Free-form text: only while the window is open.
    Text {
        text: String,
        #[serde(default)]
        preview_url: bool,
        /// The id of a message of this conversation to reply to (quote).
        #[serde(default)]
        reply_to: Option<i64>,
    },
    /// Media by an id from Meta's media upload, or by a public HTTPS link: only while the window
    /// is open.
    Image(Media),
    Video(Media),
    Audio(Media),
    Document(Media),
    Sticker(Media),
    /// An approved template: by `template_id`, or by `name` and `language`; `values` in the
    /// order of the template's `variables` (see `GET /templates`).
    Template {
        #[serde(default)]
        template_id: Option<i64>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        language: Option<String>,
        #[serde(default)]
        values: Vec<String>,
    },
}

/// Where a media message's file comes from, and what goes with it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Media {
    #[serde(default)]
    pub media_id: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// Image, video and document only.
    #[serde(default)]
    pub caption: Option<String>,
    /// Document only: the name the customer sees.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A message taken: queued, sent from the number at its pace; its ticks arrive on the message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub id: i64,
    pub conversation_id: i64,
    /// The `Idempotency-Key` had been used for this message before: nothing new was queued.
    pub duplicate: bool,
}

/// `{"assignee_id": 3}`, or `null` for nobody.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Assignment {
    pub assignee_id: Option<i64>,
}

/// `{"status": "resolved"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `open`, `pending` or `resolved`.
    #[schema(example = "resolved")]
    pub status: String,
}

/// `{"name": "refund"}`: the tenant's label by that name (any case), created if it has none.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLabel {
    pub name: String,
}

/// `{"body": "…"}`: a private note, never sent to WhatsApp.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewNote {
    pub body: String,
}

/// `{"opted_out": true}`: the customer opts out of marketing messages (`false`: back in).
#[derive(Debug, Deserialize, ToSchema)]
pub struct OptChange {
    pub opted_out: bool,
}

/// What a change did: `changed` false when it was already so.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub changed: bool,
}

/// An approved template with what a send of it needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: i64,
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: Option<&'static str>,
    /// The values a send gives, in order.
    pub variables: Vec<VariableOut>,
}

impl From<&TemplateOption> for TemplateOut {
    fn from(option: &TemplateOption) -> Self {
        Self {
            id: option.id.get(),
            name: option.name.clone(),
            language: option.language.clone(),
            category: option.category.map(|category| category.as_str()),
            variables: option
                .variables
                .iter()
                .map(|variable| VariableOut {
                    component: variable.component,
                    name: variable.name.clone(),
                    kind: variable.kind,
                    example: variable.example.clone(),
                })
                .collect(),
        }
    }
}

/// One value of a template send.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariableOut {
    /// `header`, `body` or `button`.
    pub component: &'static str,
    /// The placeholder (`1`, `first_name`), or the kind where there is none.
    pub name: String,
    /// `text`, `image`, `video`, `document`, `location` or `coupon_code`.
    pub kind: &'static str,
    /// The template's sample.
    pub example: Option<String>,
}

/// The templates of a number's WABA.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub data: Vec<TemplateOut>,
}

/// A number of the tenant, with its health and how many windows are open on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberOut {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    /// Meta's quality rating: `GREEN`, `YELLOW`, `RED`, `UNKNOWN`.
    pub quality_rating: Option<String>,
    /// Meta's messaging limit tier (`TIER_1K`…).
    pub messaging_tier: Option<String>,
    /// The sandbox stands in for Meta.
    pub sandbox: bool,
    pub paused: bool,
    pub removed: bool,
    /// Messages waiting to be sent from it.
    pub queued: i64,
    /// Open conversations whose window is open now.
    pub open_windows: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberList {
    pub data: Vec<NumberOut>,
}
