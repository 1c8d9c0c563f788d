//! The send service every caller uses (the inbox, the CLI, later the public API). Free-form content
//! goes out only while the window is open; templates only when approved, with parameters that fit
//! their definition, and marketing ones never to opted-out customers. Every accepted request becomes
//! a `queued` message row keyed by the caller's idempotency key, so a double click or a client retry
//! returns the same message and causes one Meta call. The checks read committed data and the
//! queueing is one statement, so a send needs no transaction of its own.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::CHANNEL;
use crate::{
    domain::{
        conversations::{self, SendContext},
        templates::{self, TemplateOption},
    },
    whatsapp::{
        outbound::Outbound,
        template_check::{self, TemplateMismatch},
    },
    window::{Clock, Window},
};

/// A request to send `content` in a conversation.
pub struct SendRequest {
    pub conversation_id: i64,
    pub content: Outbound,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    /// Chosen by the caller; the same key always means the same message.
    pub idempotency_key: String,
    /// The agent sending, if any.
    pub sent_by: Option<i64>,
}

/// The queued message; `duplicate` when the idempotency key had been used before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub message_id: i64,
    pub duplicate: bool,
}

/// Why a message was not queued. The message is written for agents.
#[derive(Debug, thiserror::Error)]
pub enum SendRefused {
    #[error(
        "The 24-hour window closed on {}: the customer last wrote more than 24 hours ago, so WhatsApp \
         only delivers approved templates until they write again.",
        since.format("%Y-%m-%d %H:%M UTC")
    )]
    WindowClosed {
        since: DateTime<Utc>,
        templates: Vec<TemplateOption>,
    },
    #[error(
        "This customer has not written to this number yet, so WhatsApp only delivers approved templates."
    )]
    WindowNeverOpened { templates: Vec<TemplateOption> },
    #[error("There is no template {name:?} in language {language} for this number.")]
    TemplateMissing { name: String, language: String },
    #[error("Template {name:?} is {status}; only approved templates can be sent.")]
    TemplateNotApproved { name: String, status: String },
    #[error("The template's variables don't fit: {}.", .0.problems.join("; "))]
    TemplateMismatch(TemplateMismatch),
    #[error("This customer opted out of marketing messages.")]
    OptedOut,
    #[error("{0}")]
    Invalid(String),
    #[error("Only failed or unconfirmed messages can be retried.")]
    NotRetryable,
    #[error("conversation not found")]
    NotFound,
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
}

/// A refusal, or a failure of ours.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Refused(#[from] SendRefused),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Checks and queues a message; see the module docs.
#[tracing::instrument(skip_all, fields(tenant_id, conversation_id = request.conversation_id))]
pub async fn send(
    db: &PgPool,
    clock: &dyn Clock,
    tenant_id: i64,
    request: SendRequest,
) -> Result<Queued, SendError> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    if let Some(message_id) = find_by_key(&mut conn, tenant_id, &request.idempotency_key).await? {
        return Ok(Queued {
            message_id,
            duplicate: true,
        });
    }
    let context = conversations::send_context(&mut conn, tenant_id, request.conversation_id)
        .await?
        .ok_or(SendRefused::NotFound)?;
    request.content.validate().map_err(SendRefused::Invalid)?;
    let template_id = match &request.content {
        Outbound::Template {
            name,
            language,
            components,
        } => {
            Some(check_template(&mut conn, tenant_id, &context, name, language, components).await?)
        }
        _ => {
            check_window(&mut conn, tenant_id, &context, clock.now()).await?;
            None
        }
    };
    match insert_queued(&mut conn, tenant_id, &context, &request, template_id).await? {
        Some(message_id) => Ok(Queued {
            message_id,
            duplicate: false,
        }),
        None => {
            // A concurrent request with the same key won the insert: answer with its message.
            let existing = find_by_key(&mut conn, tenant_id, &request.idempotency_key).await?;
            let message_id = existing.context("the message with this idempotency key vanished")?;
            Ok(Queued {
                message_id,
                duplicate: true,
            })
        }
    }
}

/// Queues a failed or unconfirmed message again: an agent's explicit retry, which really sends
/// again. Free-form content is checked against the window once more.
pub async fn retry(
    db: &PgPool,
    clock: &dyn Clock,
    tenant_id: i64,
    message_id: i64,
) -> Result<(), SendError> {
    let mut tx = db.begin().await.context("begin retry")?;
    let row = sqlx::query!(
        "select conversation_id, type, status from messages
         where tenant_id = $1 and id = $2 and direction = 'outbound' for update",
        tenant_id,
        message_id
    )
    .fetch_optional(&mut *tx)
    .await
    .context("load message to retry")?
    .ok_or(SendRefused::NotFound)?;
    if !matches!(row.status.as_str(), "failed" | "unknown") {
        return Err(SendRefused::NotRetryable.into());
    }
    if row.r#type != "template" {
        let context = conversations::send_context(&mut tx, tenant_id, row.conversation_id)
            .await?
            .ok_or(SendRefused::NotFound)?;
        check_window(&mut tx, tenant_id, &context, clock.now()).await?;
    }
    sqlx::query!(
        "update messages set status = 'queued', wamid = null, attempts = 0, next_attempt_at = now(),
             sending_started_at = null, error_code = null, error_title = null, error_message = null,
             error_details = null
         where id = $1",
        message_id
    )
    .execute(&mut *tx)
    .await
    .context("queue message again")?;
    notify_workers(&mut tx).await?;
    tx.commit().await.context("commit retry")?;
    Ok(())
}

async fn check_window(
    conn: &mut PgConnection,
    tenant_id: i64,
    context: &SendContext,
    now: DateTime<Utc>,
) -> Result<(), SendError> {
    let window = Window::at(
        context.last_customer_message_at,
        context.window_closed_by_meta_at,
        now,
    );
    if window.is_open() {
        return Ok(());
    }
    let language = context.contact_language.as_deref();
    let templates =
        templates::approved_options(conn, tenant_id, &context.waba_id, language).await?;
    Err(match window {
        Window::Closed { since } => SendRefused::WindowClosed { since, templates },
        _ => SendRefused::WindowNeverOpened { templates },
    }
    .into())
}

async fn check_template(
    conn: &mut PgConnection,
    tenant_id: i64,
    context: &SendContext,
    name: &str,
    language: &str,
    components: &serde_json::Value,
) -> Result<i64, SendError> {
    let template = templates::find(conn, tenant_id, &context.waba_id, name, language)
        .await?
        .ok_or_else(|| SendRefused::TemplateMissing {
            name: name.into(),
            language: language.into(),
        })?;
    if template.status != "APPROVED" {
        return Err(SendRefused::TemplateNotApproved {
            name: template.name,
            status: template.status,
        }
        .into());
    }
    if template.is_marketing() && context.opted_out_at.is_some() {
        return Err(SendRefused::OptedOut.into());
    }
    template_check::check(&template.definition(), components)
        .map_err(SendRefused::TemplateMismatch)?;
    Ok(template.id)
}

async fn find_by_key(
    conn: &mut PgConnection,
    tenant_id: i64,
    key: &str,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select id from messages where tenant_id = $1 and idempotency_key = $2",
        tenant_id,
        key
    )
    .fetch_optional(conn)
    .await
    .context("look up idempotency key")
}

/// Queues the message, brings the conversation to the top and wakes the delivery workers, in one
/// statement; `None` when the idempotency key is taken.
async fn insert_queued(
    conn: &mut PgConnection,
    tenant_id: i64,
    context: &SendContext,
    request: &SendRequest,
    template_id: Option<i64>,
) -> anyhow::Result<Option<i64>> {
    let content = request
        .content
        .to_request(&context.recipient, request.reply_to.as_deref());
    sqlx::query_scalar!(
        r#"with queued as (
               insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body,
                   content, context_wamid, status, idempotency_key, sent_by, template_id,
                   next_attempt_at)
               values ($1, $2, $3, 'outbound', $4, $5, $6, $7, 'queued', $8, $9, $10, now())
               on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
               returning id, conversation_id
           ),
           touched as (
               update conversations c
               set last_message_at = greatest(c.last_message_at, now()), updated_at = now()
               from queued where c.id = queued.conversation_id
           )
           select queued.id as "id!" from queued, pg_notify($11, '')"#,
        tenant_id,
        context.conversation_id,
        context.number_id,
        request.content.kind(),
        request.content.summary(),
        content,
        request.reply_to,
        request.idempotency_key,
        request.sent_by,
        template_id,
        CHANNEL
    )
    .fetch_optional(conn)
    .await
    .context("queue message")
}

/// Wakes the delivery workers of every instance when the transaction commits.
async fn notify_workers(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query!("select pg_notify($1, '')", CHANNEL)
        .execute(conn)
        .await
        .context("notify delivery workers")?;
    Ok(())
}
