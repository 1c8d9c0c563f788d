//! Meta's webhook endpoint, one per app: the subscription handshake (GET) and notifications (POST).
//! A POST is verified against that app's secret over the raw body, stored, and only then answered
//! 200; applying it happens in the background (see `ingest`).
//! <https://developers.facebook.com/docs/graph-api/webhooks/getting-started>

use std::time::Duration;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{
    AppState,
    extract::{Path, Query},
};
use crate::{
    domain::apps,
    error::{self, AppError, Result, Surface},
    metrics,
    whatsapp::signature,
};

/// Meta's payloads stay under 3 MB; anything larger is refused with 413.
const MAX_BODY: usize = 3_000_000;

/// How long a request may wait on the database (the app lookup and the append together) before it
/// is answered 503. While the database is down each step would otherwise wait out the pool's 5 s
/// acquire timeout; answering sooner gets Meta retrying sooner and keeps requests from piling up.
const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

/// The webhook routes, to nest under `/webhooks`. Errors answer in JSON (Meta reads only the
/// status); unknown paths are 404.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/whatsapp/{app_id}",
            get(verify_subscription).post(receive_notification),
        )
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(Surface::Json.layer())
}

/// The `{app_id}` in the path, if it can name an app ([`apps::is_app_id`]): anything else is 404
/// for both methods, and never reaches the database.
struct AppId(String);

impl<S: Send + Sync> FromRequestParts<S> for AppId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(app_id)) if apps::is_app_id(&app_id) => Ok(Self(app_id)),
            _ => Err(AppError::NotFound),
        }
    }
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
    AppId(app_id): AppId,
    Query(handshake): Query<Handshake>,
) -> Result<Response> {
    let app = within_deadline(async {
        state
            .apps
            .credentials(&app_id)
            .await
            .map_err(AppError::from_database)
    })
    .await?;
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
            if let Some(app) = &app
                && let Err(error) = apps::record_handshake(&state.db, app.id).await
            {
                tracing::warn!(app_id, error = ?error, "could not record the handshake");
            }
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
/// an unknown app, 503 if the database cannot be reached or does not answer within
/// [`DATABASE_DEADLINE`] (so Meta delivers it again), 500 for any other failure to store it.
async fn receive_notification(
    State(state): State<AppState>,
    AppId(app_id): AppId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode> {
    let started = std::time::Instant::now();
    let answer = within_deadline(async {
        let app = state
            .apps
            .credentials(&app_id)
            .await
            .map_err(AppError::from_database)?
            .ok_or(AppError::NotFound)?;
        let verified = signature_header(&headers).and_then(|header| {
            signature::verify(app.app_secret.expose_secret().as_bytes(), header, &body)
        });
        if let Err(error) = verified {
            tracing::warn!(app_id, %error, "rejected webhook with a bad signature");
            return Err(AppError::Unauthorized("invalid X-Hub-Signature-256"));
        }
        // Past the deadline the append is abandoned, not undone: the event log may still commit
        // it with its batch. Meta then delivers it again, and the copy is harmless, since applying
        // is idempotent (unique keys on message and status ids).
        state
            .events
            .append(app.id, body)
            .await
            .map_err(AppError::from_database)?;
        Ok(StatusCode::OK)
    })
    .await;
    let outcome = match &answer {
        Ok(_) => "accepted",
        Err(AppError::Unauthorized(_)) => "bad_signature",
        Err(AppError::NotFound) => "unknown_app",
        Err(AppError::Unavailable(_)) => "unavailable",
        Err(_) => "error",
    };
    metrics::webhook_request(outcome, started.elapsed());
    answer
}

/// Runs a request's database work, or answers 503 once it has taken [`DATABASE_DEADLINE`].
async fn within_deadline<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(DATABASE_DEADLINE, work)
        .await
        .unwrap_or_else(|_| {
            Err(AppError::Unavailable(anyhow::anyhow!(
                "the database did not answer within {DATABASE_DEADLINE:?}"
            )))
        })
}

/// The one `X-Hub-Signature-256` value (`None` if absent or not text); refused when repeated, even
/// if a copy is valid, since a proxy or another reader may check a different copy than we do.
fn signature_header(headers: &HeaderMap) -> Result<Option<&str>, signature::SignatureError> {
    let mut values = headers.get_all(signature::HEADER).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(signature::SignatureError::Repeated);
    }
    Ok(first.and_then(|value| value.to_str().ok()))
}
