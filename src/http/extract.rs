//! Axum's `Path`, `Query`, `Form` and `Json`, wrapped so that a request they cannot read fails with
//! an [`AppError`] saying why, which the router's [`Surface`](crate::error::Surface) renders for its
//! callers (an HTML page, JSON, Meta's envelope) instead of axum's plain text. Use these, never
//! axum's own: `clippy.toml` forbids those everywhere but here.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::AppError;

/// Path parameters (`/conversations/{id}`); an unreadable one is 400 (a missing one, a routing
/// mistake, 500).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

/// The query string (`?limit=25`); an unreadable one is 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// A URL-encoded form body (or, for GET, the query string); 415 without the form content type,
/// 422 for fields that do not fit `T`, 413 for a body over the route's limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

/// A JSON body, or a JSON answer; 415 without `Content-Type: application/json`, 400 for broken
/// JSON, 422 for JSON that does not fit `T`, 413 for a body over the route's limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

#[allow(clippy::disallowed_types)] // The wrapper itself.
impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

#[allow(clippy::disallowed_types)] // The wrapper itself.
impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

#[allow(clippy::disallowed_types)] // The wrapper itself.
impl<S, T> FromRequest<S> for Form<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

#[allow(clippy::disallowed_types)] // The wrapper itself.
impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

#[allow(clippy::disallowed_types)] // The wrapper itself.
impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The `AppError` for a rejection axum answered with `status` and `text` (which says what is wrong
/// in terms a client can act on; it never holds server secrets).
fn rejected(status: StatusCode, text: String) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(text),
        StatusCode::UNPROCESSABLE_ENTITY => AppError::Unprocessable {
            message: text,
            fields: Vec::new(),
        },
        // A missing path parameter or extension: the router is wired wrong, not the request.
        status if status.is_server_error() => AppError::Internal(anyhow::anyhow!(text)),
        _ => AppError::BadRequest(text),
    }
}

#[cfg(test)]
mod tests {
    use axum::{
        Router,
        body::{Body, to_bytes},
        extract::DefaultBodyLimit,
        http::header,
        routing::{get, post},
    };
    use serde::Deserialize;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::error::Surface;

    #[derive(Deserialize, Serialize)]
    struct Page {
        limit: u32,
    }

    #[derive(Deserialize, Serialize)]
    struct Note {
        text: String,
    }

    fn router(surface: Surface) -> Router {
        Router::new()
            .route(
                "/items/{id}",
                get(|Path(id): Path<i64>| async move { id.to_string() }),
            )
            .route(
                "/items",
                get(|Query(page): Query<Page>| async move { Json(page) }),
            )
            .route(
                "/notes",
                post(|Json(note): Json<Note>| async move { note.text }),
            )
            .route(
                "/forms",
                post(|Form(note): Form<Note>| async move { note.text }),
            )
            .layer(DefaultBodyLimit::max(64))
            .layer(surface.layer())
    }

    async fn call(surface: Surface, request: Request) -> (StatusCode, Value) {
        let response = router(surface)
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    fn get_request(uri: &str) -> Request {
        Request::get(uri).body(Body::empty()).unwrap_or_default()
    }

    fn post_request(uri: &str, content_type: &str, body: &str) -> Request {
        Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_owned()))
            .unwrap_or_default()
    }

    /// The JSON surface's code and message.
    fn error(body: &Value) -> (&str, &str) {
        let error = &body["error"];
        (
            error["code"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn what_reads_well_is_extracted() {
        assert_eq!(
            call(Surface::Json, get_request("/items?limit=5")).await,
            (StatusCode::OK, json!({ "limit": 5 }))
        );
        let request = post_request("/notes", "application/json", r#"{"text":"hi"}"#);
        assert_eq!(
            router(Surface::Json)
                .oneshot(request)
                .await
                .map(|r| r.status())
                .ok(),
            Some(StatusCode::OK)
        );
        let request = post_request("/forms", "application/x-www-form-urlencoded", "text=hi");
        assert_eq!(
            router(Surface::Json)
                .oneshot(request)
                .await
                .map(|r| r.status())
                .ok(),
            Some(StatusCode::OK)
        );
    }

    #[tokio::test]
    async fn a_malformed_path_or_query_is_a_bad_request_saying_why() {
        let (status, body) = call(Surface::Json, get_request("/items/abc")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            error(&body),
            ("bad_request", "Invalid URL: Cannot parse `abc` to a `i64`")
        );

        let (status, body) = call(Surface::Json, get_request("/items?limit=many")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (code, message) = error(&body);
        assert_eq!(code, "bad_request");
        assert!(
            message.starts_with("Failed to deserialize query string"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn broken_json_is_400_and_json_of_the_wrong_shape_422() {
        let (status, body) = call(
            Surface::Json,
            post_request("/notes", "application/json", "{"),
        )
        .await;
        assert_eq!(
            (status, error(&body).0),
            (StatusCode::BAD_REQUEST, "bad_request")
        );
        assert!(error(&body).1.contains("JSON"), "{body}");

        let request = post_request("/notes", "application/json", r#"{"txt":"hi"}"#);
        let (status, body) = call(Surface::Json, request).await;
        assert_eq!(
            (status, error(&body).0),
            (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")
        );
        assert!(error(&body).1.contains("missing field `text`"), "{body}");
    }

    #[tokio::test]
    async fn a_body_of_the_wrong_type_is_415_and_one_too_large_413() {
        let (status, body) = call(Surface::Json, post_request("/notes", "text/plain", "hi")).await;
        assert_eq!(
            (status, error(&body).0),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        );
        let (status, _) = call(
            Surface::Json,
            post_request("/forms", "application/json", "{}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let long = format!(r#"{{"text":"{}"}}"#, "x".repeat(100));
        let (status, body) = call(
            Surface::Json,
            post_request("/notes", "application/json", &long),
        )
        .await;
        assert_eq!(
            (status, error(&body).0),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );
    }

    #[tokio::test]
    async fn on_metas_surface_a_rejection_is_metas_invalid_parameter() {
        let (status, body) = call(Surface::Meta, get_request("/items?limit=many")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::BAD_REQUEST, &json!(100))
        );
        let details = body["error"]["error_data"]["details"]
            .as_str()
            .unwrap_or_default();
        assert!(
            details.starts_with("Failed to deserialize query string"),
            "{details}"
        );
    }
}
