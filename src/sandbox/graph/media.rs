//! Media: `POST /{version}/{phone_number_id}/media` (multipart `file`, `type`, `messaging_product`)
//! stores the bytes in `sandbox_media`; `GET /{version}/{media_id}` answers its download URL,
//! type, size and SHA-256; the URL (`{public_url}/media/{id}`) serves the bytes to a caller with
//! the number's access token, as Meta's media host does; `DELETE /{version}/{media_id}` deletes
//! it.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media>

use anyhow::Context;
use axum::{
    extract::{DefaultBodyLimit, Multipart, State, multipart::MultipartRejection},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use sqlx::PgConnection;

use crate::{
    domain::{
        ids::{NumberId, TenantId},
        numbers::Route,
    },
    http::extract::{Json, Path},
    sandbox::{FakeGraph, numbers},
    whatsapp::{
        envelope::MetaError,
        media_upload::{self, MediaUpload},
    },
};

/// Meta takes documents of up to 100 MB, the largest media it accepts.
pub(super) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(media_upload::MAX_BYTES)
}

/// Stores an uploaded file; answers `{"id": …}`.
pub(super) async fn upload_media(
    State(fake): State<FakeGraph>,
    Path((_, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, MetaError> {
    let number =
        numbers::by_phone_number_id(&fake, &Method::POST, &phone_number_id, &headers).await?;
    let multipart = multipart.map_err(|e| MetaError::invalid_parameter(e.body_text()))?;
    let upload = MediaUpload::read(multipart).await?;
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let id = insert(&mut conn, number.id, &upload).await?;
    Ok(Json(json!({ "id": id.to_string() })).into_response())
}

/// The answer to `GET /{version}/{id}` when `id` is a media object (`None` when it is not).
pub(super) async fn show_media(
    fake: &FakeGraph,
    id: &str,
    headers: &HeaderMap,
) -> Result<Option<Response>, MetaError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let Some(info) = info(&mut conn, id).await? else {
        return Ok(None);
    };
    numbers::by_route(&mut conn, fake, info.route(), headers).await?;
    Ok(Some(
        Json(json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/media/{id}", fake.public_url()),
            "mime_type": info.mime_type,
            "sha256": info.sha256,
            "file_size": info.file_size,
            "id": id.to_string(),
        }))
        .into_response(),
    ))
}

/// `DELETE /{version}/{media_id}`: deletes the media object, for its number's token only.
pub(super) async fn delete_media(
    State(fake): State<FakeGraph>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    let unknown = || MetaError::unsupported(&Method::DELETE, &id);
    let media_id = id.parse::<i64>().map_err(|_| unknown())?;
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let info = info(&mut conn, media_id).await?.ok_or_else(unknown)?;
    numbers::by_route(&mut conn, &fake, info.route(), &headers).await?;
    sqlx::query!("delete from sandbox_media where id = $1", media_id)
        .execute(&mut *conn)
        .await
        .context("delete media")?;
    Ok(Json(json!({ "success": true })).into_response())
}

/// `GET {public_url}/media/{id}`: the bytes with their content type, for the number's token only.
pub(super) async fn download_media(
    State(fake): State<FakeGraph>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let Some(media) = content(&mut conn, id).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    numbers::by_route(&mut conn, &fake, media.route(), &headers).await?;
    Ok(([(header::CONTENT_TYPE, media.mime_type)], media.bytes).into_response())
}

async fn insert(
    conn: &mut PgConnection,
    number_id: NumberId,
    upload: &MediaUpload,
) -> anyhow::Result<i64> {
    sqlx::query_scalar!(
        "insert into sandbox_media (phone_number_id, mime_type, filename, bytes)
         values ($1, $2, $3, $4) returning id",
        number_id as NumberId,
        upload.mime_type,
        upload.filename,
        upload.bytes.as_ref()
    )
    .fetch_one(conn)
    .await
    .context("store uploaded media")
}

/// Media belong to a number; its tenant comes along so the number's queries can be scoped.
struct MediaInfo {
    tenant_id: TenantId,
    number_id: NumberId,
    mime_type: String,
    sha256: String,
    file_size: i32,
}

/// The media object `id`, whoever's it is: like Meta, the fake finds media by id alone, and the
/// caller's token for its number decides who may see it.
async fn info(conn: &mut PgConnection, id: i64) -> anyhow::Result<Option<MediaInfo>> {
    sqlx::query_as!(
        MediaInfo,
        r#"select n.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  m.mime_type, encode(sha256(m.bytes), 'hex') as "sha256!",
                  octet_length(m.bytes) as "file_size!"
           from sandbox_media m join phone_numbers n on n.id = m.phone_number_id
           where m.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
    .context("look up media")
}

struct MediaContent {
    tenant_id: TenantId,
    number_id: NumberId,
    mime_type: String,
    bytes: Vec<u8>,
}

/// The bytes of media object `id`, found like [`info`].
async fn content(conn: &mut PgConnection, id: i64) -> anyhow::Result<Option<MediaContent>> {
    sqlx::query_as!(
        MediaContent,
        r#"select n.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  m.mime_type, m.bytes
           from sandbox_media m join phone_numbers n on n.id = m.phone_number_id
           where m.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
    .context("load media")
}

impl MediaInfo {
    fn route(&self) -> Route {
        Route {
            number_id: self.number_id,
            tenant_id: self.tenant_id,
        }
    }
}

impl MediaContent {
    fn route(&self) -> Route {
        Route {
            number_id: self.number_id,
            tenant_id: self.tenant_id,
        }
    }
}
