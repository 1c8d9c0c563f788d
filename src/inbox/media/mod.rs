//! `GET /inbox/media/{message_id}`: the image, sticker, video, audio or document of a message,
//! where the thread's `<img>`, players and download links point ([`render::media_url`]).
//!
//! The message is found by id and the agent's tenant; another tenant's message, an unknown or
//! deleted one, or one without media is 404 alike. Media Meta holds (what customers send, echoes,
//! what we sent by id) are fetched from Meta with the number's token and kept a while
//! ([`fetch`]); media Meta no longer has is 410, Meta out of reach 502, each as a page that says
//! so. The answer's type and disposition never let a file act as a page of the inbox
//! ([`answer`]), and a single byte range is served for seeking ([`range`]).
//!
//! Media we sent by link (`image: {link}`) are answered with a 302 to that link, not fetched:
//! fetching a URL the server is handed would make it a proxy into wherever it runs (an open proxy,
//! or worse, a way into internal addresses). The redirect sends the agent's browser where the
//! customer's WhatsApp went, and only for an http(s) link the agent's own tenant sent (a link in a
//! customer's message is 404: Meta sends their media by id). A
//! document link downloads from there; an `<img>`, `<video>` or `<audio>` shows nothing, because
//! the inbox's Content-Security-Policy (`img-src 'self'`, `media-src 'self'`) applies to the
//! redirect's target too. We keep that: a thread cannot then load third-party content (a tracking
//! pixel) into the agent's page, and the caption and the alt text still say what was sent.
//!
//! [`render::media_url`]: super::render::media_url

mod answer;
mod fetch;
mod range;
mod source;
mod upload;

use anyhow::Context;
use axum::{extract::State, http::HeaderMap, response::Response};
use serde_json::Value;
use sqlx::PgConnection;

pub use fetch::MediaFiles;
pub use upload::Upload;

use super::auth::Agent;
use crate::{
    domain::{
        ids::{MessageId, NumberId, TenantId},
        messages::Direction,
    },
    error::{AppError, Result},
    http::{AppState, extract::Path},
};
use fetch::{Fetched, Wanted};
use source::{MediaSource, Origin};

/// What the agent sees when WhatsApp no longer has the file.
const GONE: &str = "WhatsApp no longer has this file: it keeps media for 30 days";

/// `GET /inbox/media/{id}`: the media of the tenant's message `id`.
pub async fn show_media(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<MessageId>,
    request: HeaderMap,
) -> Result<Response> {
    let message = {
        let mut conn = state.db.acquire().await?;
        find(&mut conn, agent.tenant_id, id)
            .await
            .map_err(AppError::from_database)?
    };
    let message = message.ok_or(AppError::NotFound)?;
    let source = MediaSource::of(&message.kind, &message.content).ok_or(AppError::NotFound)?;
    let media_id = match &source.origin {
        Origin::Id(media_id) => media_id,
        Origin::Link(link) if message.direction == Direction::Outbound => {
            return Ok(answer::redirect(link));
        }
        // Meta gives customers' media by id; a link there was never Meta's, nor ours.
        Origin::Link(_) => return Err(AppError::NotFound),
    };
    let wanted = Wanted {
        tenant_id: agent.tenant_id,
        message_id: id,
        number_id: message.number_id,
        media_id,
    };
    match &*state.media.get(&wanted).await? {
        Fetched::File(file) => Ok(answer::file(&source, file, &request)),
        Fetched::Gone => Err(AppError::Gone(GONE)),
    }
}

/// A message, as much as finding its media needs.
struct StoredMessage {
    direction: Direction,
    kind: String,
    content: Value,
    number_id: NumberId,
}

/// The tenant's message `id`, unless it was deleted (its sender took it back).
async fn find(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: MessageId,
) -> anyhow::Result<Option<StoredMessage>> {
    sqlx::query_as!(
        StoredMessage,
        r#"select direction as "direction: Direction", type as kind, content,
                  phone_number_id as "number_id: NumberId"
           from messages
           where tenant_id = $1 and id = $2 and deleted_at is null"#,
        tenant_id as TenantId,
        id as MessageId
    )
    .fetch_optional(conn)
    .await
    .context("look up the message's media")
}
