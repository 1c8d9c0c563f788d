//! `POST /inbox/conversations/{id}/attachments`: the composer's attachment (multipart). The file's
//! type and size are checked against what WhatsApp accepts before anything is uploaded, with a
//! sentence the agent understands; then it is uploaded to Meta's media endpoint and sent through
//! the send service like any reply (window checked, idempotency key, caption). Multipart bodies
//! carry their CSRF token as a form field, which this handler checks before reading on
//! (`auth::MultipartAgent`).

use axum::{
    extract::{Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use bytes::Bytes;

use super::{
    auth::{MultipartAgent, csrf},
    compose::Draft,
    list::ListParams,
    media::Upload,
    page::render,
    pages::{Opened, conversation_page},
    thread::query as thread_query,
};
use crate::{
    domain::{ids::ConversationId, messages::SentBy},
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Path, Query},
    },
    outbox::send::{SendError, SendRefused, SendRequest, SendTo},
    whatsapp::outbound::{MediaKind, MediaSource, Outbound},
};

/// The largest file the inbox sends (WhatsApp's limit for video and audio; documents may be
/// larger at Meta, but the inbox holds the whole file in memory while it uploads).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The types WhatsApp accepts, what each is sent as, and its size limit.
/// <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types>
const ACCEPTED: &[(&str, MediaKind, usize)] = &[
    ("image/jpeg", MediaKind::Image, 5 << 20),
    ("image/png", MediaKind::Image, 5 << 20),
    ("video/mp4", MediaKind::Video, 16 << 20),
    ("video/3gpp", MediaKind::Video, 16 << 20),
    ("audio/aac", MediaKind::Audio, 16 << 20),
    ("audio/amr", MediaKind::Audio, 16 << 20),
    ("audio/mpeg", MediaKind::Audio, 16 << 20),
    ("audio/mp4", MediaKind::Audio, 16 << 20),
    ("audio/ogg", MediaKind::Audio, 16 << 20),
    ("application/pdf", MediaKind::Document, MAX_BYTES),
    ("text/plain", MediaKind::Document, MAX_BYTES),
    ("application/msword", MediaKind::Document, MAX_BYTES),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        MediaKind::Document,
        MAX_BYTES,
    ),
    ("application/vnd.ms-excel", MediaKind::Document, MAX_BYTES),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        MediaKind::Document,
        MAX_BYTES,
    ),
    (
        "application/vnd.ms-powerpoint",
        MediaKind::Document,
        MAX_BYTES,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        MediaKind::Document,
        MAX_BYTES,
    ),
];

/// What the `accept` attribute of the file input lists.
pub fn accept_attribute() -> String {
    ACCEPTED
        .iter()
        .map(|(mime, _, _)| *mime)
        .collect::<Vec<_>>()
        .join(",")
}

/// What WhatsApp would do with a file of `mime_type` and `size`, or why it would refuse it.
pub fn check(mime_type: &str, size: usize) -> std::result::Result<MediaKind, String> {
    let Some((_, kind, limit)) = ACCEPTED.iter().find(|(mime, _, _)| *mime == mime_type) else {
        return Err(format!(
            "WhatsApp does not deliver files of type {mime_type}: send a JPEG or PNG image, an \
             MP4 video, an audio file, or a PDF, Office or text document."
        ));
    };
    if size == 0 {
        return Err("The file is empty.".into());
    }
    if size > *limit {
        return Err(format!(
            "The file is {:.1} MB; WhatsApp takes at most {} MB for this type.",
            size as f64 / 1_048_576.0,
            limit >> 20
        ));
    }
    Ok(*kind)
}

/// The form's fields.
#[derive(Default)]
struct AttachmentForm {
    csrf: String,
    idempotency_key: String,
    caption: String,
    file: Option<(String, String, Bytes)>,
}

pub async fn attach(
    State(state): State<AppState>,
    MultipartAgent(agent): MultipartAgent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    mut multipart: Multipart,
) -> Result<Response> {
    let mut form = AttachmentForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload was cut short: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        // The token comes first in the form: nothing else is read without it.
        if name != "csrf" && !csrf::matches(&agent.csrf_token, &form.csrf) {
            return Err(AppError::Forbidden);
        }
        let read = |e: axum::extract::multipart::MultipartError| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            _ => AppError::BadRequest(format!("the upload was cut short: {e}")),
        };
        match name.as_str() {
            "csrf" => form.csrf = field.text().await.map_err(read)?,
            "idempotency_key" => form.idempotency_key = field.text().await.map_err(read)?,
            "caption" => form.caption = field.text().await.map_err(read)?,
            "file" => {
                let filename = field.file_name().unwrap_or("file").to_owned();
                let mime = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(read)?;
                form.file = Some((filename, mime, bytes));
            }
            _ => {}
        }
    }
    if !csrf::matches(&agent.csrf_token, &form.csrf) {
        return Err(AppError::Forbidden);
    }
    let caption = form.caption.trim().to_owned();
    let refuse = |error: String| (error, caption.clone());
    let outcome = match form.file {
        None => Err(refuse("Choose a file to send.".into())),
        Some((filename, mime, bytes)) => match check(&mime, bytes.len()) {
            Err(error) => Err(refuse(error)),
            Ok(kind) => send(
                &state,
                &agent,
                id,
                kind,
                (filename, mime, bytes),
                &caption,
                &form.idempotency_key,
            )
            .await?
            .map_err(refuse),
        },
    };
    match outcome {
        Ok(()) => {
            let to = format!("/inbox/conversations/{id}?{}", list.current());
            Ok(Redirect::to(&to).into_response())
        }
        Err((error, caption)) => {
            let draft = Draft {
                text: caption,
                error: Some(format!("{error} (Choose the file again to retry.)")),
                ..Draft::default()
            };
            let opened = Opened {
                id,
                before: None,
                template: None,
                draft,
            };
            let page = conversation_page(&state, agent, list, opened).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// Uploads the file and queues the message; `Err` with the agent's sentence when refused.
async fn send(
    state: &AppState,
    agent: &super::auth::Agent,
    id: ConversationId,
    kind: MediaKind,
    (filename, mime, bytes): (String, String, Bytes),
    caption: &str,
    idempotency_key: &str,
) -> Result<std::result::Result<(), String>> {
    // A resubmitted form: the file went out already; uploading it again would only waste it.
    match state
        .sends
        .sent_with_key(agent.tenant_id, id, idempotency_key)
        .await
    {
        Ok(Some(_)) => return Ok(Ok(())),
        Ok(None) => {}
        Err(SendError::Refused(refusal)) => return Ok(Err(refusal.to_string())),
        Err(SendError::Internal(error)) => return Err(AppError::from_database(error)),
    }
    let number = {
        let mut conn = state
            .db
            .acquire()
            .await
            .map_err(|e| AppError::from_database(e.into()))?;
        thread_query::conversation(&mut conn, agent.tenant_id, id)
            .await
            .map_err(AppError::from_database)?
            .ok_or(AppError::NotFound)?
            .number_id
    };
    let upload = Upload {
        bytes,
        mime_type: &mime,
        filename: &filename,
    };
    let media_id = state.media.upload(agent.tenant_id, number, upload).await?;
    let request = SendRequest {
        to: SendTo::Conversation(id),
        content: Outbound::Media {
            kind,
            source: MediaSource::Id(media_id),
            // WhatsApp shows no caption on audio.
            caption: (!caption.is_empty() && kind != MediaKind::Audio).then(|| caption.to_owned()),
            filename: (kind == MediaKind::Document).then_some(filename),
        },
        reply_to: None,
        idempotency_key: idempotency_key.to_owned(),
        sent_by: SentBy::Agent(agent.user_id),
    };
    match state.sends.send(agent.tenant_id, request).await {
        Ok(_) => Ok(Ok(())),
        Err(SendError::Refused(SendRefused::NotFound)) => Err(AppError::NotFound),
        Err(SendError::Refused(refusal)) => Ok(Err(refusal.to_string())),
        Err(SendError::Internal(error)) => Err(AppError::from_database(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_whatsapp_delivers_within_its_limits_is_accepted() {
        assert_eq!(check("image/jpeg", 1000), Ok(MediaKind::Image));
        assert_eq!(check("application/pdf", 1 << 20), Ok(MediaKind::Document));
        assert!(
            check("image/jpeg", (5 << 20) + 1)
                .unwrap_err()
                .contains("at most 5 MB")
        );
        assert!(check("text/html", 10).unwrap_err().contains("text/html"));
        assert!(check("image/svg+xml", 10).is_err());
        assert_eq!(check("image/png", 0), Err("The file is empty.".into()));
    }
}
