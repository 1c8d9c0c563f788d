//! An error in Meta's envelope, for the Graph API surfaces (the sandbox, the Meta-compatible
//! endpoint), whose clients are WhatsApp SDKs that read only Meta's codes: each variant becomes the
//! Meta code an SDK would expect for it, with that code's HTTP status.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes>

use axum::{
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};

use super::AppError;
use crate::whatsapp::envelope::MetaError;

/// The Meta error an SDK expects for `error`, for a request of `method` to `path` (which names the
/// object an unknown path is about).
pub(super) fn envelope(error: &AppError, method: &Method, path: &str) -> MetaError {
    match error {
        AppError::BadRequest(message)
        | AppError::UnsupportedMediaType(message)
        | AppError::Conflict(message) => MetaError::invalid_parameter(message),
        AppError::PayloadTooLarge => MetaError::invalid_parameter(error.to_string()),
        AppError::Unprocessable { message, fields } => {
            let fields = fields
                .iter()
                .map(|field| format!(" {}: {}.", field.field, field.message));
            MetaError::invalid_parameter(
                fields.fold(message.clone(), |details, field| details + &field),
            )
        }
        AppError::Unauthorized(message) => {
            MetaError::plain(StatusCode::UNAUTHORIZED, 190, (*message).to_owned())
        }
        AppError::Forbidden => MetaError::code(200),
        AppError::NotFound | AppError::Gone(_) => MetaError::unsupported_path(method, path),
        AppError::TooManyRequests { .. } => MetaError::code(4),
        AppError::Unavailable(_) | AppError::BadGateway { .. } => MetaError::unavailable(),
        AppError::Internal(_) => MetaError::code(1),
    }
}

/// `error` answered in Meta's envelope, with the headers every rendering carries.
pub(super) fn render(error: &AppError, method: &Method, path: &str) -> Response {
    error.add_headers(envelope(error, method, path).into_response())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::header;
    use serde_json::json;

    use super::*;
    use crate::error::FieldError;

    fn meta(error: AppError) -> (StatusCode, serde_json::Value) {
        let envelope = envelope(&error, &Method::GET, "/v23.0/1122/nonsense");
        (envelope.status(), envelope.body()["error"].clone())
    }

    #[test]
    fn a_malformed_request_is_metas_invalid_parameter_with_the_reason_as_details() {
        let (status, error) = meta(AppError::BadRequest(
            "Failed to deserialize query string".into(),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["code"], 100);
        assert_eq!(error["message"], "(#100) Invalid parameter");
        assert_eq!(
            error["error_data"],
            json!({ "messaging_product": "whatsapp", "details": "Failed to deserialize query string" })
        );
    }

    #[test]
    fn an_unknown_object_is_an_unsupported_request_naming_it() {
        let (status, error) = meta(AppError::NotFound);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (&error["code"], &error["error_subcode"]),
            (&json!(100), &json!(33))
        );
        assert!(error["message"].as_str().is_some_and(|message| {
            message.starts_with("Unsupported get request. Object with ID '1122'")
        }));
    }

    #[test]
    fn failures_on_our_side_are_codes_sdks_retry() {
        let (status, error) = meta(AppError::Internal(anyhow::anyhow!("disk full")));
        assert_eq!(
            (status, &error["code"], &error["is_transient"]),
            (StatusCode::INTERNAL_SERVER_ERROR, &json!(1), &json!(true))
        );
        assert!(!error.to_string().contains("disk full"));
        let (status, error) = meta(AppError::Unavailable(anyhow::anyhow!("pool timed out")));
        assert_eq!(
            (status, &error["code"]),
            (StatusCode::SERVICE_UNAVAILABLE, &json!(2))
        );
    }

    #[test]
    fn credentials_permissions_and_throttling_have_metas_codes() {
        assert_eq!(meta(AppError::Unauthorized("bad token")).1["code"], 190);
        assert_eq!(
            meta(AppError::Unauthorized("bad token")).0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(meta(AppError::Forbidden).1["code"], 200);
        let throttled = AppError::TooManyRequests {
            retry_after: Duration::from_secs(7),
        };
        assert_eq!(
            meta(AppError::TooManyRequests {
                retry_after: Duration::from_secs(7)
            })
            .1["code"],
            4
        );
        let response = render(&throttled, &Method::POST, "/v23.0/1/messages");
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn field_messages_become_the_details() {
        let error = AppError::Unprocessable {
            message: "Invalid template.".into(),
            fields: vec![FieldError {
                field: "name".into(),
                message: "is required".into(),
            }],
        };
        assert_eq!(
            meta(error).1["error_data"]["details"],
            "Invalid template. name: is required."
        );
    }
}
