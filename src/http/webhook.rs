//! Meta's webhook endpoint, one per app: the subscription handshake (GET) and notifications (POST).
//! A POST is verified against that app's secret over the raw body, stored, and only then answered
//! 200; applying it happens in the background (see `ingest`).
//! <https://developers.facebook.com/docs/graph-api/webhooks/getting-started>

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::{
    error::{AppError, Result},
    whatsapp::signature,
};

/// Meta's payloads stay under 3 MB; anything larger is refused with 413.
const MAX_BODY: usize = 3_000_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/webhooks/whatsapp/{app_id}",
            get(verify_subscription).post(receive_notification),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Echoes `hub.challenge` when `hub.verify_token` is this app's token; 403 otherwise.
async fn verify_subscription(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    Query(handshake): Query<Handshake>,
) -> Result<Response> {
    let app = state
        .apps
        .credentials(&app_id)
        .await
        .map_err(AppError::Unavailable)?;
    let token_matches = |token: &str| {
        app.as_ref().is_some_and(|app| {
            bool::from(
                app.verify_token
                    .expose_secret()
                    .as_bytes()
                    .ct_eq(token.as_bytes()),
            )
        })
    };
    match handshake {
        Handshake {
            mode: Some(mode),
            verify_token: Some(token),
            challenge: Some(challenge),
        } if mode == "subscribe" && token_matches(&token) => {
            tracing::info!(app_id, "webhook subscription verified");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                challenge,
            )
                .into_response())
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Verifies, stores and acknowledges a notification. 401 for a missing or wrong signature, 404 for
/// an unknown app, 503 if it cannot be stored (so Meta delivers it again).
async fn receive_notification(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode> {
    let app = state
        .apps
        .credentials(&app_id)
        .await
        .map_err(AppError::Unavailable)?
        .ok_or(AppError::NotFound)?;
    let header = headers
        .get(signature::HEADER)
        .and_then(|value| value.to_str().ok());
    if let Err(error) = signature::verify(app.app_secret.expose_secret().as_bytes(), header, &body)
    {
        tracing::warn!(app_id, %error, "rejected webhook with a bad signature");
        return Err(AppError::Unauthorized("invalid X-Hub-Signature-256"));
    }
    state
        .events
        .append(app.id, body)
        .await
        .map_err(AppError::Unavailable)?;
    Ok(StatusCode::OK)
}
