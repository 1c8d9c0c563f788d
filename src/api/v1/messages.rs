//! A conversation's messages, newest first and paged by id, and sending to it through the send
//! service: the same checks as an agent's send (window, template, opt-out), refused at once with
//! the reason and, for the window, the templates to send instead; queued, paced per number, shown
//! in the inbox as sent by the key; `Idempotency-Key` makes a retried request the same message.

use anyhow::Context;
use axum::{
    Extension,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::IntoParams;

use super::{
    super::idempotency_key,
    ApiError, conversation,
    conversations::invalid,
    schema::{ErrorBody, Media, MessageError, MessageOut, MessagePage, NewMessage, Queued},
};
use crate::{
    domain::{
        api_keys::Caller,
        ids::{ConversationId, MessageId, TemplateId},
        messages::{Direction, SentBy},
        templates,
    },
    error::AppError,
    http::{
        AppState,
        extract::{Json, Path, Query},
    },
    inbox::thread::query::{self as thread_query, PAGE},
    outbox::send::{SendRequest, SendTo},
    whatsapp::outbound::{MediaKind, MediaSource, Outbound},
};

/// A page's place.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the page before: messages older than it.
    #[serde(default)]
    before: Option<i64>,
}

/// The conversation's messages, 50 at a time, newest first.
#[utoipa::path(
    get, path = "/conversations/{id}/messages", tag = "messages", operation_id = "list_messages",
    params(("id" = i64, Path, description = "The conversation's id"), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 404, description = "No such conversation for this key", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    Query(page): Query<PageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    conversation(&mut conn, &caller, id).await?;
    let before = page.before.map(MessageId::new);
    let messages = thread_query::messages(&mut conn, caller.tenant_id, id, before).await?;
    let next = (messages.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
        .then(|| messages.last())
        .flatten()
        .map(|message| message.id.to_string());
    let data = messages
        .into_iter()
        .map(|message| MessageOut {
            id: message.id.get(),
            wamid: message.wamid,
            direction: match message.direction {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            },
            kind: message.kind,
            content: message.content,
            status: message.status.as_str(),
            at: message.at,
            sent_by: message.sender_name,
            error: (message.error_title.is_some() || message.error_message.is_some()).then_some(
                MessageError {
                    title: message.error_title,
                    message: message.error_message,
                },
            ),
            reply_to: message.context_wamid,
            edited: message.edited,
            deleted: message.deleted,
        })
        .collect();
    Ok(Json(MessagePage { data, next }))
}

/// Sends a message: checked against the window, templates and opt-outs, then queued.
#[utoipa::path(
    post, path = "/conversations/{id}/messages", tag = "messages", operation_id = "send_message",
    params(
        ("id" = i64, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header,
         description = "The same key (1 to 255 characters) never sends twice"),
    ),
    request_body = NewMessage,
    responses(
        (status = 202, description = "Queued (or, with an Idempotency-Key used before, the message it sent)", body = Queued),
        (status = 404, description = "No such conversation for this key", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for another message", body = ErrorBody),
        (status = 422, description = "Refused: outside the window (with the templates to send instead), a template that does not fit, an opted-out customer…", body = ErrorBody),
    )
)]
pub(super) async fn send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    headers: HeaderMap,
    Json(message): Json<NewMessage>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers, &caller)
        .map_err(|message| ApiError::App(AppError::BadRequest(message)))?;
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let found = conversation(&mut conn, &caller, id).await?;
    let (content, reply_to) = match message {
        NewMessage::Text {
            text,
            preview_url,
            reply_to,
        } => {
            let quoted = match reply_to {
                Some(message) => Some(
                    thread_query::quotable(
                        &mut conn,
                        caller.tenant_id,
                        id,
                        MessageId::new(message),
                    )
                    .await?
                    .ok_or_else(|| invalid("reply_to", "a message of this conversation"))?
                    .0,
                ),
                None => None,
            };
            let text = Outbound::Text {
                body: text,
                preview_url,
            };
            (text, quoted)
        }
        NewMessage::Image(media) => (self::media(MediaKind::Image, media)?, None),
        NewMessage::Video(media) => (self::media(MediaKind::Video, media)?, None),
        NewMessage::Audio(media) => (self::media(MediaKind::Audio, media)?, None),
        NewMessage::Document(media) => (self::media(MediaKind::Document, media)?, None),
        NewMessage::Sticker(media) => (self::media(MediaKind::Sticker, media)?, None),
        NewMessage::Template {
            template_id,
            name,
            language,
            values,
        } => (
            template(
                &mut conn,
                &caller,
                &found.waba_id,
                template_id,
                name,
                language,
                &values,
            )
            .await?,
            None,
        ),
    };
    drop(conn);
    let request = SendRequest {
        to: SendTo::Conversation(id),
        content,
        reply_to,
        idempotency_key,
        sent_by: SentBy::ApiKey(caller.key_id),
    };
    let queued = state.sends.send(caller.tenant_id, request).await?;
    let body = Queued {
        id: queued.message_id.get(),
        conversation_id: queued.conversation_id.get(),
        duplicate: queued.duplicate,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// A template message with `values` for its variables: the tenant's template `template_id`, or
/// `name` in `language` of the conversation's WABA (one it does not have is the send service's
/// `template_missing`).
async fn template(
    conn: &mut PgConnection,
    caller: &Caller,
    waba_id: &str,
    template_id: Option<i64>,
    name: Option<String>,
    language: Option<String>,
    values: &[String],
) -> Result<Outbound, ApiError> {
    let template = match (template_id, name, language) {
        (Some(template_id), _, _) => {
            templates::by_id(conn, caller.tenant_id, TemplateId::new(template_id))
                .await?
                .ok_or_else(|| invalid("template_id", "one of this account's templates"))?
        }
        (None, Some(name), Some(language)) => {
            match templates::find(conn, caller.tenant_id, waba_id, &name, &language).await? {
                Some(template) => template,
                None => {
                    return Ok(Outbound::Template {
                        name,
                        language,
                        components: serde_json::Value::Array(Vec::new()),
                    });
                }
            }
        }
        _ => {
            return Err(invalid(
                "template_id",
                "given, or name and language instead",
            ));
        }
    };
    let components = template
        .option()
        .values(values)
        .components(&template.definition());
    Ok(Outbound::Template {
        name: template.name,
        language: template.language,
        components,
    })
}

/// A media message from the request's fields: an uploaded media id or a link, not both.
fn media(kind: MediaKind, media: Media) -> Result<Outbound, ApiError> {
    let source = match (media.media_id, media.link) {
        (Some(id), None) => MediaSource::Id(id),
        (None, Some(link)) => MediaSource::Link(link),
        _ => return Err(invalid("media_id", "given, or link instead (not both)")),
    };
    Ok(Outbound::Media {
        kind,
        source,
        caption: media.caption,
        filename: media.filename,
    })
}
