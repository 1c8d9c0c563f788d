//! Media through the Meta-compatible endpoint: an upload is passed on to Meta for the number
//! (`POST /{version}/{phone_number_id}/media`, answering Meta's id); `GET /{version}/{media_id}`
//! answers Meta's description of a media object with its download URL here
//! (`{PUBLIC_URL}/graph/media/{media_id}`), which serves the bytes to the same caller (Meta's own URL
//! only opens with the number's token, which the caller never sees); `DELETE` deletes it at Meta.
//! A media id belongs to no number in particular: it is asked of the number that
//! `?phone_number_id=` names, else of each of the caller's numbers in turn.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media>

use anyhow::Context;
use axum::{
    Extension,
    extract::{DefaultBodyLimit, Multipart, State, multipart::MultipartRejection},
    http::{Method, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{auth, number, numbers_of};
use crate::{
    domain::{api_keys::Caller, numbers::NumberCredentials},
    http::{
        AppState,
        extract::{Path, Query},
    },
    whatsapp::{
        envelope::MetaError,
        graph::GraphFailure,
        media_upload::{self, MediaUpload},
    },
};

/// Uploads take Meta's largest media.
pub(super) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(media_upload::MAX_BYTES)
}

/// `POST /{version}/{phone_number_id}/media`: Meta's id for the uploaded file.
pub(super) async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, phone_number_id)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let number = number(&state, &mut conn, &caller, &Method::POST, &phone_number_id).await?;
    drop(conn);
    let multipart = multipart.map_err(|e| MetaError::invalid_parameter(e.body_text()))?;
    let upload = MediaUpload::read(multipart).await?;
    let urls = state.config.graph_urls();
    let id = state
        .graph
        .upload_media(
            &auth(&urls, &number),
            &phone_number_id,
            upload.bytes,
            &upload.mime_type,
            upload.filename.as_deref().unwrap_or("file"),
        )
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(axum::Json(json!({ "id": id })).into_response())
}

/// `GET /{version}/{media_id}`: Meta's description, with the download URL here.
pub(super) async fn show(
    state: &AppState,
    caller: &Caller,
    media_id: &str,
) -> Result<Response, MetaError> {
    let (_, mut answer) = ask(state, caller, &Method::GET, media_id, None).await?;
    answer["url"] = json!(format!(
        "{}/graph/media/{media_id}",
        state.config.public_url
    ));
    Ok(axum::Json(answer).into_response())
}

#[derive(Deserialize)]
pub(super) struct Owner {
    phone_number_id: Option<String>,
}

/// `DELETE /{version}/{media_id}`: Meta's `{"success": true}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, media_id)): Path<(String, String)>,
    Query(owner): Query<Owner>,
) -> Result<Response, MetaError> {
    let (_, answer) = ask(
        &state,
        &caller,
        &Method::DELETE,
        &media_id,
        owner.phone_number_id.as_deref(),
    )
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// `GET /graph/media/{media_id}`: the bytes, with their type.
pub(super) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(media_id): Path<String>,
) -> Result<Response, MetaError> {
    let (number, answer) = ask(&state, &caller, &Method::GET, &media_id, None).await?;
    let url = answer
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| MetaError::unsupported(&Method::GET, &media_id))?;
    let mime_type = answer
        .get("mime_type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream")
        .to_owned();
    let urls = state.config.graph_urls();
    let bytes = state
        .graph
        .download_media(&auth(&urls, &number), url)
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(([(header::CONTENT_TYPE, mime_type)], bytes).into_response())
}

/// `method /{media_id}` asked of the number `phone_number_id` names, else of each of the
/// caller's numbers until one may see it: that number and Meta's answer.
async fn ask(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    media_id: &str,
    phone_number_id: Option<&str>,
) -> Result<(NumberCredentials, Value), MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let candidates = match phone_number_id {
        Some(id) => vec![number(state, &mut conn, caller, method, id).await?],
        None => numbers_of(state, &mut conn, caller).await?,
    };
    drop(conn);
    let urls = state.config.graph_urls();
    let mut refusal = MetaError::unsupported(method, media_id);
    for number in candidates {
        let asked = state
            .graph
            .relay(&auth(&urls, &number), method.clone(), &[media_id], &[])
            .await;
        match asked {
            Ok(answer) => return Ok((number, answer)),
            // Another number's media, or none: ask the next.
            Err(GraphFailure::Api(error)) if error.code == 100 => {
                refusal = MetaError::relayed(&error);
            }
            Err(failure) => return Err(MetaError::from_failure(&failure)),
        }
    }
    Err(refusal)
}
