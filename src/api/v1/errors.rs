//! The API's errors: `{"error":{"code","message"}}`, `code` stable for programs to branch on and
//! `message` for people. A refused send says why with the send service's refusal code
//! (`window_closed`, `template_missing`, `opted_out`…), Meta's code where Meta has one, and, when
//! the window is the reason, the approved templates that can be sent instead.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::schema::{ErrorBody, ErrorDetail, TemplateOut};
use crate::{
    error::AppError,
    http::extract::Json,
    outbox::send::{SendError, SendRefused},
};

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// As every surface answers it (404, 422, 429…).
    App(AppError),
    /// A send the send service refused.
    Refused(SendRefused),
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::App(AppError::from_database(error))
    }
}

impl From<SendError> for ApiError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Refused(SendRefused::NotFound) => Self::App(AppError::NotFound),
            SendError::Refused(refusal) => Self::Refused(refusal),
            SendError::Internal(error) => error.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::App(error) => error.into_response(),
            Self::Refused(refusal) => (status(&refusal), Json(body(&refusal))).into_response(),
        }
    }
}

/// The status of a refused send: 409 for an idempotency key already used for another message, 404
/// for a number the tenant does not have, 422 for a message that may not go out as it is.
fn status(refusal: &SendRefused) -> StatusCode {
    match refusal {
        SendRefused::IdempotencyConflict { .. } => StatusCode::CONFLICT,
        SendRefused::NotFound | SendRefused::NumberNotFound { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn body(refusal: &SendRefused) -> ErrorBody {
    let templates = refusal.templates();
    ErrorBody {
        error: ErrorDetail {
            code: refusal.code().to_owned(),
            message: refusal.to_string(),
            meta_code: refusal.meta_code(),
            templates: (!templates.is_empty())
                .then(|| templates.iter().map(TemplateOut::from).collect()),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{ids::TemplateId, templates::TemplateOption};

    #[test]
    fn a_closed_window_offers_the_templates_to_send_instead() {
        let refusal = SendRefused::WindowNeverOpened {
            templates: vec![TemplateOption {
                id: TemplateId::new(7),
                name: "order_update".into(),
                language: "en_US".into(),
                category: None,
                variables: Vec::new(),
            }],
        };
        assert_eq!(status(&refusal), StatusCode::UNPROCESSABLE_ENTITY);
        let closed = serde_json::to_value(body(&refusal)).unwrap();
        assert_eq!(closed["error"]["code"], "window_never_opened");
        assert_eq!(closed["error"]["meta_code"], 131047);
        assert_eq!(
            closed["error"]["templates"],
            json!([{ "id": 7, "name": "order_update", "language": "en_US", "category": null,
                     "variables": [] }])
        );
        let opted_out = serde_json::to_value(body(&SendRefused::OptedOut)).unwrap();
        assert!(opted_out["error"].get("templates").is_none(), "{opted_out}");
    }
}
