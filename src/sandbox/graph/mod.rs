//! The Graph API routes the fake answers, under any version prefix (`/v23.0/…`): sending messages,
//! media, templates and phone number details. Anything else gets Meta's "Unsupported get/post
//! request" answer. `GET /{version}/{id}` names a media object or a phone number: media are looked
//! up first, so their ids never shadow a number's; `POST /{version}/{id}` takes an upload
//! session's file (`upload:…`, for templates' media examples) or edits a template, and
//! `DELETE /{version}/{id}` deletes a media object.

mod media;
mod messages;
mod phone_number;
mod template_params;
mod templates;
mod uploads;

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    middleware,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::FakeGraph;
use crate::{
    http::{
        extract::{Path, Query},
        graph_paths,
    },
    whatsapp::envelope::MetaError,
};

/// The fake's routes, its state still to be given.
pub(super) fn routes() -> Router<FakeGraph> {
    let versioned = Router::new()
        .route("/{version}/{id}/messages", post(messages::send_message))
        .route(
            "/{version}/{id}/media",
            post(media::upload_media).layer(media::body_limit()),
        )
        .route(
            "/{version}/{id}/message_templates",
            get(templates::list_templates)
                .post(templates::create_template)
                .delete(templates::delete_template),
        )
        .route("/{version}/{id}/subscribed_apps", get(subscribed_apps))
        .route("/{version}/{id}/uploads", post(uploads::start))
        .route(
            "/{version}/{id}",
            get(show_object)
                .post(post_object)
                .delete(media::delete_media),
        )
        .route_layer(middleware::from_fn(graph_paths::require_version));
    Router::new()
        .merge(versioned)
        .route("/media/{id}", get(media::download_media))
        .fallback(graph_paths::unsupported)
        .method_not_allowed_fallback(graph_paths::unsupported)
}

#[derive(Deserialize)]
struct ObjectQuery {
    fields: Option<String>,
}

/// `GET /{version}/{waba_id}/subscribed_apps`.
async fn subscribed_apps(
    State(fake): State<FakeGraph>,
    Path((_, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    phone_number::show_subscribed_apps(&fake, &waba_id, &headers).await
}

/// `POST /{version}/{id}`: a file for an upload session (`upload:…`), else a template's edit.
async fn post_object(
    State(fake): State<FakeGraph>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    if id.starts_with("upload:") {
        return uploads::receive(&fake, &id, &headers, body).await;
    }
    templates::edit_template(State(fake), Path((version, id)), headers, body).await
}

/// `GET /{version}/{id}`: a media object's URL and checksum, else a phone number's details.
async fn show_object(
    State(fake): State<FakeGraph>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<ObjectQuery>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    if let Some(media) = media::show_media(&fake, &id, &headers).await? {
        return Ok(media);
    }
    phone_number::show_phone_number(&fake, &id, query.fields.as_deref(), &headers).await
}
