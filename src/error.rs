//! `AppError`: the one place where errors become HTTP responses. Its `Display` is what a caller may
//! see; the cause chain of internal errors goes to the log, once, and never into a response.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Result alias for request handlers and the services they call.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 — the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401 — missing or invalid credentials (e.g. a webhook signature).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403 — authenticated, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// 404 — also for rows of another tenant: never reveal that they exist.
    #[error("not found")]
    NotFound,
    /// 503 — a dependency (the database) is down; the caller should retry.
    #[error("service unavailable, try again")]
    Unavailable(#[source] anyhow::Error),
    /// 500 — logged with its cause chain, shown generically.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = ?cause, "dependency unavailable"),
            _ => {}
        }
        (self.status(), self.to_string()).into_response()
    }
}
