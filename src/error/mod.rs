//! `AppError`: the one place where errors become HTTP responses. Its `Display` is what a caller may
//! see; the cause chain of internal errors goes to the log, once, and never into a response. Each
//! router says which language its callers speak (`Surface`, in `surface.rs`): the same error is
//! then an HTML page (`page.rs`), a JSON body (`json.rs`) or Meta's error envelope (`meta.rs`).

mod json;
mod meta;
mod page;
mod surface;

use std::{sync::Arc, time::Duration};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

pub use surface::{Surface, SurfaceLayer, SurfaceService, not_found};

/// Result alias for request handlers and the services they call.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Every way a request can fail, whichever surface it came through.
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
    /// 409 — the request contradicts what is stored (a name already taken, a stale edit); the
    /// message says what.
    #[error("{0}")]
    Conflict(String),
    /// 410 — it existed, but is gone for good (media WhatsApp no longer keeps); the message says
    /// what.
    #[error("{0}")]
    Gone(&'static str),
    /// 413 — the body is larger than the route accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 415 — the body is not in a format the route reads; the message says which it wants.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422 — well-formed, but its content is invalid: a message, and one per field at fault.
    #[error("{message}")]
    Unprocessable {
        message: String,
        fields: Vec<FieldError>,
    },
    /// 429 — too many requests; answered with `Retry-After`.
    #[error("too many requests, try again in {} s", retry_after_seconds(*.retry_after))]
    TooManyRequests { retry_after: Duration },
    /// 502 — WhatsApp could not be reached or did not give what was asked; the message says so in
    /// a sentence, the cause goes to the log.
    #[error("{message}")]
    BadGateway {
        message: &'static str,
        #[source]
        cause: anyhow::Error,
    },
    /// 503 — a dependency (the database) cannot be reached or did not answer in time; the caller
    /// should retry.
    #[error("service unavailable, try again")]
    Unavailable(#[source] anyhow::Error),
    /// 500 — logged with its cause chain, shown generically.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// What is wrong with one field of a request (for [`AppError::Unprocessable`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the request spells it.
    pub field: String,
    /// What is wrong with it, for the person or program that sent it.
    pub message: String,
}

impl AppError {
    /// A failed database step: 503 if the database cannot be reached (a pool timeout, a closed pool,
    /// a broken or refused connection, a server shutting down or full), so that the caller retries;
    /// 500 for any other database error, which a retry would not cure.
    pub fn from_database(error: anyhow::Error) -> Self {
        if database_unreachable(&error) {
            Self::Unavailable(error)
        } else {
            Self::Internal(error)
        }
    }

    /// The HTTP status, the same on every surface but Meta's (whose codes carry their own).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable name for the variant, for programs to branch on (JSON bodies).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unprocessable { .. } => "unprocessable",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::BadGateway { .. } => "bad_gateway",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The field messages of an [`AppError::Unprocessable`] (none for the others).
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Self::Unprocessable { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The `Retry-After` header a [`AppError::TooManyRequests`] is answered with.
    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Self::TooManyRequests { retry_after } => {
                Some(HeaderValue::from(retry_after_seconds(*retry_after)))
            }
            _ => None,
        }
    }

    /// Adds the headers every rendering of the error carries (`Retry-After`).
    fn add_headers(&self, mut response: Response) -> Response {
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

/// Whole seconds, rounded up: retrying early only earns another refusal.
fn retry_after_seconds(retry_after: Duration) -> u64 {
    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::from_database(error.into())
    }
}

/// Whether a `sqlx::Error` in `error`'s chain says the database cannot be reached. The event log
/// shares one error among the requests of a batch, so it may be an `Arc<sqlx::Error>`.
fn database_unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let sqlx_error = cause.downcast_ref::<sqlx::Error>().or_else(|| {
            cause
                .downcast_ref::<Arc<sqlx::Error>>()
                .map(|shared| &**shared)
        });
        sqlx_error.is_some_and(|error| match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(error) => {
                error.code().is_some_and(|code| is_unreachable_code(&code))
            }
            _ => false,
        })
    })
}

/// SQLSTATEs for a server that cannot take the query: connection exceptions (class 08), shutting
/// down or starting up (57P01–57P03), out of connections (53300).
/// <https://www.postgresql.org/docs/current/errcodes-appendix.html>
fn is_unreachable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// Logs the cause of an internal or unavailable error (here, once), then answers in JSON and
/// leaves the error in the response's extensions, where the router's [`Surface`] layer finds it
/// and renders it its own way.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = ?cause, "dependency unavailable"),
            Self::BadGateway { cause, .. } => tracing::warn!(error = ?cause, "upstream failed"),
            _ => {}
        }
        let mut response = json::render(&self);
        response.extensions_mut().insert(Rendered(Arc::new(self)));
        response
    }
}

/// An error on its way out, for the [`Surface`] layer to render (shared: extensions are `Clone`).
#[derive(Clone)]
struct Rendered(Arc<AppError>);

#[cfg(test)]
mod tests {
    use std::io;

    use anyhow::Context;

    use super::*;

    fn status_of(error: anyhow::Error) -> StatusCode {
        AppError::from_database(error).status()
    }

    #[test]
    fn an_unreachable_database_is_unavailable_whatever_the_context() {
        let refused = || sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        for error in [
            anyhow::Error::from(sqlx::Error::PoolTimedOut),
            anyhow::Error::from(sqlx::Error::PoolClosed),
            Err::<(), _>(refused())
                .context("acquire connection")
                .context("look up Meta app")
                .unwrap_err(),
            anyhow::Error::new(Arc::new(refused())).context("store webhook event"),
        ] {
            assert_eq!(status_of(error), StatusCode::SERVICE_UNAVAILABLE);
        }
    }

    #[test]
    fn any_other_database_error_is_internal() {
        for error in [
            anyhow::Error::from(sqlx::Error::Protocol("unexpected message".into())),
            anyhow::Error::from(sqlx::Error::ColumnNotFound("id".into())),
            anyhow::Error::new(Arc::new(sqlx::Error::RowNotFound)).context("store webhook event"),
            anyhow::anyhow!("the event log writer has stopped"),
        ] {
            assert_eq!(status_of(error), StatusCode::INTERNAL_SERVER_ERROR);
        }
    }

    #[test]
    fn connection_sqlstates_are_unreachable_and_data_errors_are_not() {
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(is_unreachable_code(code), "{code}");
        }
        // 22021: invalid byte sequence (a NUL in a text parameter); 23505: unique violation.
        for code in ["22021", "23505", "40001", "57014"] {
            assert!(!is_unreachable_code(code), "{code}");
        }
    }
}
