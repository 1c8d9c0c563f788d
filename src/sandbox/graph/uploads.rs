//! Meta's Resumable Upload API, as templates' media examples use it:
//! `POST /{version}/{app_id}/uploads?file_length=…&file_type=…` opens a session for a caller with
//! the token of one of the app's numbers, and `POST /{version}/upload:…` with `file_offset: 0` and
//! the file answers the handle (`{"h": "4::…"}`). The fake keeps no bytes: a handle only stands
//! for a file that was sent whole. The session id names the number whose token opened it.
//! <https://developers.facebook.com/docs/graph-api/guides/upload>

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    domain::{
        ids::{NumberId, TenantId},
        numbers::Route,
    },
    http::extract::{Json, Path, Query},
    sandbox::{FakeGraph, ids, numbers},
    whatsapp::envelope::MetaError,
};

#[derive(Deserialize)]
pub(super) struct SessionQuery {
    file_length: Option<u64>,
    file_type: Option<String>,
}

/// Opens an upload session for the app's number whose token the request carries.
pub(super) async fn start(
    State(fake): State<FakeGraph>,
    Path((_, app_id)): Path<(String, String)>,
    Query(query): Query<SessionQuery>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    let number = numbers::by_app(&fake, &Method::POST, &app_id, &headers).await?;
    let length = query
        .file_length
        .filter(|length| *length > 0)
        .ok_or_else(|| MetaError::required("file_length"))?;
    let kind = query
        .file_type
        .ok_or_else(|| MetaError::required("file_type"))?;
    let id = format!(
        "upload:T{}N{}L{length}R{}?sig={}",
        number.tenant_id,
        number.id,
        ids::object_id(),
        ids::conversation_id()
    );
    tracing::debug!(kind, "sandbox upload session opened");
    Ok(Json(json!({ "id": id })).into_response())
}

/// Takes the whole file of session `upload:…` (from offset 0) and answers its handle.
pub(super) async fn receive(
    fake: &FakeGraph,
    session: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    let unknown = || MetaError::unsupported(&Method::POST, session);
    let (route, length) = route_of(session).ok_or_else(unknown)?;
    let mut conn = fake.db().acquire().await.map_err(anyhow::Error::from)?;
    numbers::by_route(&mut conn, fake, route, headers).await?;
    let offset = headers.get("file_offset").and_then(|v| v.to_str().ok());
    if offset != Some("0") || body.len() as u64 != length {
        return Err(MetaError::invalid_parameter(
            "The file must be sent whole, from file_offset 0, as long as the session said.",
        ));
    }
    let handle = format!("4::{}", ids::conversation_id());
    Ok(Json(json!({ "h": handle })).into_response())
}

/// The number and file length a session id names: `upload:T{tenant}N{number}L{length}R…`.
fn route_of(session: &str) -> Option<(Route, u64)> {
    let rest = session.strip_prefix("upload:T")?;
    let (tenant, rest) = rest.split_once('N')?;
    let (number, rest) = rest.split_once('L')?;
    let (length, _) = rest.split_once('R')?;
    Some((
        Route {
            tenant_id: TenantId::new(tenant.parse().ok()?),
            number_id: NumberId::new(number.parse().ok()?),
        },
        length.parse().ok()?,
    ))
}
