//! Media through the Meta-compatible endpoint: an upload is passed on to Meta for the number
//! (`POST /{version}/{phone_number_id}/media`, answering Meta's id); `GET /{version}/{media_id}`
//! answers Meta's description of a media object with its download URL here
//! (`{PUBLIC_URL}/graph/media/{media_id}`), which serves the bytes to the same caller (Meta's own URL
//! only opens with the number's token, which the caller never sees); `DELETE` deletes it at Meta.
//! Only media the caller can be shown to own are asked of Meta: uploaded here for one of its
//! numbers, or sent by a customer to one of them (`graph_media`, `messages_inbound_media`), with
//! that number's token and its `phone_number_id` (so Meta checks the media is the number's too). A
//! number's token reaches far more than its media; no other id is ever passed on with it.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media>

use anyhow::Context;
use axum::{
    Extension,
    extract::{DefaultBodyLimit, Multipart, State, multipart::MultipartRejection},
    http::{Method, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{auth, number};
use crate::{
    domain::{
        api_keys::Caller,
        ids::{NumberId, TenantId},
        numbers::{self, NumberCredentials},
    },
    http::{AppState, extract::Path},
    whatsapp::{
        envelope::MetaError,
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
    sqlx::query!(
        "insert into graph_media (tenant_id, media_id, number_id) values ($1, $2, $3)
         on conflict do nothing",
        caller.tenant_id as TenantId,
        id,
        number.id as NumberId
    )
    .execute(&state.db)
    .await
    .context("note the uploaded media's number")?;
    Ok(axum::Json(json!({ "id": id })).into_response())
}

/// `GET /{version}/{media_id}`: Meta's description, with the download URL here.
pub(super) async fn show(
    state: &AppState,
    caller: &Caller,
    media_id: &str,
) -> Result<Response, MetaError> {
    let (_, mut answer) = ask(state, caller, &Method::GET, media_id).await?;
    if let Some(answer) = answer.as_object_mut() {
        let url = format!("{}/graph/media/{media_id}", state.config.public_url);
        answer.insert("url".into(), json!(url));
    }
    Ok(axum::Json(answer).into_response())
}

/// `DELETE /{version}/{media_id}`: Meta's `{"success": true}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, media_id)): Path<(String, String)>,
) -> Result<Response, MetaError> {
    let (_, answer) = ask(&state, &caller, &Method::DELETE, &media_id).await?;
    Ok(axum::Json(answer).into_response())
}

/// `GET /graph/media/{media_id}`: the bytes, with their type. Meta's URL for them is fetched with
/// the number's token only when it is Meta's (or the sandbox's) own.
pub(super) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(media_id): Path<String>,
) -> Result<Response, MetaError> {
    let (number, answer) = ask(&state, &caller, &Method::GET, &media_id).await?;
    let urls = state.config.graph_urls();
    let url = answer
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| from_meta(url, urls.for_number(number.sandbox)))
        .ok_or_else(|| MetaError::unsupported(&Method::GET, &media_id))?;
    let mime_type = answer
        .get("mime_type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream")
        .to_owned();
    let bytes = state
        .graph
        .download_media(&auth(&urls, &number), url)
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(([(header::CONTENT_TYPE, mime_type)], bytes).into_response())
}

/// Whether `url` is where Meta serves media (its CDN, over https) or under the Graph API's base
/// URL (Meta's, or the sandbox's): the only places a number's token is sent.
fn from_meta(url: &str, graph_base: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let meta_cdn = parsed.scheme() == "https"
        && parsed
            .host_str()
            .is_some_and(|host| host == "lookaside.fbsbx.com");
    meta_cdn || url.starts_with(&format!("{}/", graph_base.trim_end_matches('/')))
}

/// `method /{media_id}?phone_number_id=…` asked of Meta with the token of the caller's number the
/// media belongs to: that number and Meta's answer. Media the caller cannot be shown to own is
/// Meta's "no such object".
async fn ask(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    media_id: &str,
) -> Result<(NumberCredentials, Value), MetaError> {
    let unknown = || MetaError::unsupported(method, media_id);
    // Meta's media ids are numbers; nothing else is passed on.
    if media_id.is_empty() || !media_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let owner = sqlx::query_scalar!(
        r#"select number_id as "number_id!: NumberId" from graph_media
           where tenant_id = $1 and media_id = $2
           union all
           (select phone_number_id from messages
            where tenant_id = $1 and direction = 'inbound'
              and type in ('image', 'video', 'audio', 'document', 'sticker')
              and (content -> type) ->> 'id' = $2
            limit 1)
           limit 1"#,
        caller.tenant_id as TenantId,
        media_id
    )
    .fetch_optional(&mut *conn)
    .await
    .context("find the media's number")?
    .filter(|number| caller.may_use(*number))
    .ok_or_else(unknown)?;
    let number = numbers::credentials_if_active(&mut conn, &state.cipher, caller.tenant_id, owner)
        .await?
        .ok_or_else(unknown)?;
    drop(conn);
    let urls = state.config.graph_urls();
    let query = [("phone_number_id".to_owned(), number.phone_number_id.clone())];
    let answer = state
        .graph
        .relay(&auth(&urls, &number), method.clone(), &[media_id], &query)
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok((number, answer))
}
