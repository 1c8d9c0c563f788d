//! What a Graph API surface (the sandbox's fake, the Meta-compatible endpoint) answers for paths
//! and methods it does not serve, as Meta answers them.

use axum::{
    extract::Request,
    http::{Method, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::whatsapp::{envelope::MetaError, graph_request::is_version};

/// Paths without a valid version (`/v23.0/…`) are not Graph API paths.
pub async fn require_version(request: Request, next: Next) -> Response {
    let first = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if is_version(first) {
        next.run(request).await
    } else {
        unsupported(request.method().clone(), request.uri().clone()).await
    }
}

/// Meta's answer to a path or method it does not serve: 100 with subcode 33.
pub async fn unsupported(method: Method, uri: Uri) -> Response {
    MetaError::unsupported_path(&method, uri.path()).into_response()
}
