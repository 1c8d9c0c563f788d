//! Which language a router's callers speak, so that its errors answer in it: people in a browser
//! get an HTML page, programs a JSON body, WhatsApp SDKs Meta's envelope. A router picks one with
//! `.layer(Surface::Json.layer())`, and its handlers and extractors just fail with `AppError`.
//! `AppError`'s response carries the error in its extensions; the innermost surface layer takes
//! it out and renders it, so a nested router's surface wins over the app's.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    http::{Method, Request},
    response::Response,
};
use tower_layer::Layer;
use tower_service::Service;

use super::{AppError, Rendered, meta, page};

/// How a router's errors are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// People in a browser: an HTML error page.
    Html,
    /// Programs: `{"error":{"code":…,"message":…}}`.
    Json,
    /// WhatsApp SDKs and other Graph API clients: Meta's error envelope.
    Meta,
}

impl Surface {
    /// The layer that renders the errors of the routes it wraps this way.
    pub fn layer(self) -> SurfaceLayer {
        SurfaceLayer(self)
    }

    /// `response`, with the error it carries (if any) rendered this way; `path` names the object
    /// of an unknown Graph API path.
    fn render(self, mut response: Response, method: &Method, path: &str) -> Response {
        let Some(Rendered(error)) = response.extensions_mut().remove::<Rendered>() else {
            return response;
        };
        match self {
            Self::Json => response,
            Self::Html => page::render(&error),
            Self::Meta => meta::render(&error, method, path),
        }
    }
}

/// The fallback for paths no route serves: 404, rendered by the router's surface.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Renders the errors of the routes it wraps for one [`Surface`].
#[derive(Clone, Copy, Debug)]
pub struct SurfaceLayer(Surface);

impl<S> Layer<S> for SurfaceLayer {
    type Service = SurfaceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SurfaceService {
            inner,
            surface: self.0,
        }
    }
}

/// The service [`SurfaceLayer`] wraps a route in.
#[derive(Clone, Debug)]
pub struct SurfaceService<S> {
    inner: S,
    surface: Surface,
}

impl<S, B> Service<Request<B>> for SurfaceService<S>
where
    S: Service<Request<B>, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let surface = self.surface;
        let method = request.method().clone();
        // Only Meta's answer to an unknown path names what the path is about.
        let path = match surface {
            Surface::Meta => request.uri().path().to_owned(),
            Surface::Html | Surface::Json => String::new(),
        };
        let response = self.inner.call(request);
        Box::pin(async move { Ok(surface.render(response.await?, &method, &path)) })
    }
}

#[cfg(test)]
mod tests {
    use axum::{
        Router,
        body::{Body, to_bytes},
        http::{StatusCode, header},
        routing::get,
    };
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn call(router: Router, path: &str) -> (StatusCode, String, String) {
        let request = Request::get(path).body(Body::empty()).unwrap_or_default();
        let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let content_type = content_type.and_then(|v| v.to_str().ok().map(str::to_owned));
        (
            status,
            content_type.unwrap_or_default(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn failing() -> Router {
        Router::new()
            .route("/gone", get(|| async { AppError::NotFound }))
            .route("/fine", get(|| async { "fine" }))
    }

    #[tokio::test]
    async fn each_surface_renders_the_same_error_its_own_way() {
        let (status, kind, _) = call(failing().layer(Surface::Html.layer()), "/gone").await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::NOT_FOUND, "text/html; charset=utf-8")
        );

        let (status, kind, body) = call(failing().layer(Surface::Json.layer()), "/gone").await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::NOT_FOUND, "application/json")
        );
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(body["error"]["code"], "not_found");

        let (status, _, body) = call(failing().layer(Surface::Meta.layer()), "/gone").await;
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(
            (status, &body["error"]["error_subcode"]),
            (StatusCode::BAD_REQUEST, &Value::from(33))
        );
    }

    #[tokio::test]
    async fn answers_that_are_not_errors_pass_untouched() {
        let (status, _, body) = call(failing().layer(Surface::Html.layer()), "/fine").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
    }

    #[tokio::test]
    async fn a_nested_routers_surface_wins_over_the_apps() {
        let api = failing().fallback(not_found).layer(Surface::Json.layer());
        let app = Router::new()
            .nest("/api", api)
            .fallback(not_found)
            .layer(Surface::Html.layer());
        let (_, kind, _) = call(app.clone(), "/api/gone").await;
        assert_eq!(kind, "application/json");
        let (_, kind, _) = call(app.clone(), "/api/nowhere").await;
        assert_eq!(kind, "application/json");
        let (status, kind, _) = call(app, "/nowhere").await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::NOT_FOUND, "text/html; charset=utf-8")
        );
    }
}
