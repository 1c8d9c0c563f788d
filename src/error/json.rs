//! An error as a JSON body, for programs: `{"error":{"code":"not_found","message":"not found"}}`,
//! with `"fields":[{"field":…,"message":…}]` when single fields are at fault. `code` is stable
//! ([`AppError::code`]); `message` is for people and may change.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::AppError;

/// The JSON body of `error`.
pub(super) fn body(error: &AppError) -> Value {
    let mut body = json!({ "code": error.code(), "message": error.to_string() });
    if !error.fields().is_empty() {
        body["fields"] = json!(error.fields());
    }
    json!({ "error": body })
}

/// `error` answered in JSON, with its status and headers.
pub(super) fn render(error: &AppError) -> Response {
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    let response = (error.status(), content_type, body(error).to_string()).into_response();
    error.add_headers(response)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::FieldError;

    #[test]
    fn an_error_is_its_code_and_message() {
        assert_eq!(
            body(&AppError::NotFound),
            json!({ "error": { "code": "not_found", "message": "not found" } })
        );
    }

    #[test]
    fn field_messages_are_listed_by_field() {
        let error = AppError::Unprocessable {
            message: "the number is invalid".into(),
            fields: vec![FieldError {
                field: "phone".into(),
                message: "must start with +".into(),
            }],
        };
        assert_eq!(
            body(&error)["error"]["fields"],
            json!([{ "field": "phone", "message": "must start with +" }])
        );
    }

    #[test]
    fn an_internal_error_never_shows_its_cause() {
        let error = AppError::Internal(anyhow::anyhow!("password authentication failed"));
        let response = render(&error);
        assert_eq!(response.status(), 500);
        assert_eq!(
            body(&error),
            json!({ "error": { "code": "internal", "message": "internal error" } })
        );
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let error = AppError::TooManyRequests {
            retry_after: Duration::from_millis(2_500),
        };
        let response = render(&error);
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        assert_eq!(
            body(&error)["error"]["message"],
            "too many requests, try again in 3 s"
        );
    }
}
