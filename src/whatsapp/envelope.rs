//! Meta's error answers as the Graph API sends them:
//! `{"error":{"message":"(#CODE) Title","type":"OAuthException","code":CODE,"error_subcode"?,
//! "error_data":{"messaging_product":"whatsapp","details":"…"},"is_transient"?,"fbtrace_id":"A…"}}`,
//! with the HTTP status Meta gives each code (from [`super::errors`]), plus the few answers of a
//! form of their own (a missing or expired token, an unknown object). The sandbox answers with
//! them, and so does any surface that speaks Meta's language. Clients branch on `code` and
//! `details` only. <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes>

use axum::{
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use rand::Rng;
use serde_json::{Value, json};

use super::{
    errors,
    graph::{GraphError, GraphFailure},
    graph_request,
};

/// Meta's error code of an error answer, left in the response's extensions (the sandbox's call
/// log reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaErrorCode(pub i64);

/// A Graph API error answer: Meta's body with its HTTP status.
#[derive(Debug, Clone)]
pub struct MetaError {
    status: StatusCode,
    code: i64,
    message: String,
    kind: &'static str,
    subcode: Option<i64>,
    details: Option<String>,
    transient: bool,
    /// Rare (template deletes), so boxed to keep results small.
    user_title_and_msg: Option<Box<(String, String)>>,
}

impl MetaError {
    /// Meta's answer for `code`, from the table; a generic 400 for codes it does not list.
    pub fn code(code: i64) -> Self {
        if code == 190 {
            return Self::expired_token();
        }
        match errors::graph_answer(code) {
            Some(answer) => Self {
                status: StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                message: format!("(#{code}) {}", answer.title),
                kind: "OAuthException",
                subcode: answer.subcode,
                details: Some(answer.details.to_owned()),
                transient: answer.transient,
                user_title_and_msg: None,
            },
            None => Self::plain(
                StatusCode::BAD_REQUEST,
                code,
                format!("(#{code}) Unknown error"),
            ),
        }
    }

    /// Replaces `error_data.details`.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// 100 with `details` saying what is wrong with the request.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        Self::code(100).details(details)
    }

    /// 100 whose message says what is wrong, as Meta words it: `(#100) {text}`.
    pub fn invalid_request(text: impl Into<String>) -> Self {
        let text = text.into();
        let mut error = Self::code(100);
        error.message = format!("(#100) {text}");
        error.details(text)
    }

    /// 100: a required parameter is absent.
    pub fn required(parameter: &str) -> Self {
        Self::invalid_request(format!("The parameter {parameter} is required."))
    }

    /// 104 (HTTP 401): no access token in the request.
    pub fn token_required() -> Self {
        let message = "An access token is required to request this resource.";
        Self::plain(StatusCode::UNAUTHORIZED, 104, message.into())
    }

    /// 190 (HTTP 401): the access token is not the number's.
    pub fn invalid_token() -> Self {
        let message = "Invalid OAuth access token - Cannot parse access token";
        Self::plain(StatusCode::UNAUTHORIZED, 190, message.into())
    }

    /// 190 with subcode 463 (HTTP 401): the access token has expired (what a queued 190 fault
    /// answers).
    pub fn expired_token() -> Self {
        let message = "Error validating access token: Session has expired";
        Self {
            subcode: Some(463),
            ..Self::plain(StatusCode::UNAUTHORIZED, 190, message.into())
        }
    }

    /// 100 with subcode 33 (GraphMethodException): no such object, or no such operation on it.
    pub fn unsupported(method: &Method, object_id: &str) -> Self {
        let message = format!(
            "Unsupported {} request. Object with ID '{object_id}' does not exist, cannot be loaded due \
             to missing permissions, or does not support this operation. Please read the Graph API \
             documentation at https://developers.facebook.com/docs/graph-api",
            method.as_str().to_ascii_lowercase()
        );
        Self {
            kind: "GraphMethodException",
            subcode: Some(33),
            ..Self::plain(StatusCode::BAD_REQUEST, 100, message)
        }
    }

    /// 100 with subcode 2593002: deleting a template that does not exist (as Meta recorded it).
    pub fn template_not_found(name: &str) -> Self {
        let user_msg = format!("The message template {name} wasn't found for this account.");
        Self {
            subcode: Some(2593002),
            user_title_and_msg: Some(Box::new(("Message Template Not Found".into(), user_msg))),
            ..Self::plain(StatusCode::BAD_REQUEST, 100, "Invalid parameter".into())
        }
    }

    /// 100 with subcode 33 for the object a Graph path names (`/v23.0/{id}/…`, else its first
    /// segment): Meta's answer to a path or method it does not serve.
    pub fn unsupported_path(method: &Method, path: &str) -> Self {
        Self::unsupported(method, graph_request::object_in_path(path))
    }

    /// Code 2 (HTTP 503, transient): the server cannot answer for now (its database failed).
    pub fn unavailable() -> Self {
        let message = "(#2) Service temporarily unavailable".into();
        Self {
            transient: true,
            ..Self::plain(StatusCode::SERVICE_UNAVAILABLE, 2, message)
        }
    }

    /// 130429 (HTTP 429, transient): the caller's API key made more requests this second than
    /// it may (Switchboard's own limit, answered as Meta answers its throughput limit).
    pub fn rate_limited() -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            ..Self::code(130429).details(
                "Too many requests with this API key in a short period of time; try again in a \
                 second.",
            )
        }
    }

    /// Meta's own error answer, passed on as Meta gave it (a new `fbtrace_id` aside).
    pub fn relayed(error: &GraphError) -> Self {
        let user_title_and_msg = error
            .user_title
            .clone()
            .zip(error.user_message.clone())
            .map(Box::new);
        Self {
            status: StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST),
            code: error.code,
            message: error.message.clone(),
            kind: match error.kind.as_deref() {
                Some("GraphMethodException") => "GraphMethodException",
                _ => "OAuthException",
            },
            subcode: error.subcode,
            details: error.details.clone(),
            transient: error.is_transient,
            user_title_and_msg,
        }
    }

    /// What a Graph call made for a caller of ours answers: Meta's own error, except when Meta
    /// refused the number's token (the caller's own credentials are fine: the number needs an
    /// admin); else code 2 (transient) with what happened in words.
    pub fn from_failure(failure: &GraphFailure) -> Self {
        match failure {
            GraphFailure::Api(error) if error.code == 190 || error.http_status == 401 => {
                Self::unavailable().permanent().details(
                    "Meta refused this number's access token: an admin of the account must \
                     update it.",
                )
            }
            GraphFailure::Api(error) => Self::relayed(error),
            other => Self::unavailable().details(other.in_words().1),
        }
    }

    /// Not worth retrying as it is (`is_transient` left out).
    pub fn permanent(mut self) -> Self {
        self.transient = false;
        self
    }

    /// An answer with `code` and a `message` of its own, without `error_data`.
    pub fn plain(status: StatusCode, code: i64, message: String) -> Self {
        Self {
            status,
            code,
            message,
            kind: "OAuthException",
            subcode: None,
            details: None,
            transient: false,
            user_title_and_msg: None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Meta's error code.
    pub fn error_code(&self) -> i64 {
        self.code
    }

    /// The body Meta sends.
    pub fn body(&self) -> Value {
        let mut error = json!({ "message": self.message, "type": self.kind, "code": self.code });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({ "messaging_product": "whatsapp", "details": details });
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        if let Some((title, msg)) = self.user_title_and_msg.as_deref() {
            error["is_transient"] = json!(false);
            error["error_user_title"] = json!(title);
            error["error_user_msg"] = json!(msg);
        }
        error["fbtrace_id"] = json!(fbtrace_id());
        json!({ "error": error })
    }
}

/// A failure of the server itself (its database): logged here, once, with its cause chain, and
/// answered as Meta's code 2, which clients retry.
impl From<anyhow::Error> for MetaError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!(error = ?error, "a Graph API request failed");
        Self::unavailable()
    }
}

impl IntoResponse for MetaError {
    fn into_response(self) -> Response {
        let content_type = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        let mut response = (self.status, content_type, self.body().to_string()).into_response();
        response.extensions_mut().insert(MetaErrorCode(self.code));
        response
    }
}

/// An `fbtrace_id`: `A` and 22 URL-safe base64 characters, random like Meta's.
fn fbtrace_id() -> String {
    const BASE64_URL: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    let tail: String = (0..22)
        .map(|_| BASE64_URL[rng.gen_range(0..64)] as char)
        .collect();
    format!("A{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_code_has_metas_shape_and_status() {
        let error = MetaError::code(131047);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let body = error.body();
        assert_eq!(body["error"]["message"], "(#131047) Re-engagement message");
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["code"], 131047);
        assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");
        assert!(
            body["error"]["fbtrace_id"]
                .as_str()
                .is_some_and(|id| id.starts_with('A'))
        );
        assert!(body["error"].get("is_transient").is_none());
    }

    #[test]
    fn throttling_is_transient_and_a_missing_template_is_a_404() {
        assert_eq!(
            MetaError::code(130429).body()["error"]["is_transient"],
            true
        );
        assert_eq!(
            MetaError::code(130429).body()["error"]["error_subcode"],
            2494055
        );
        assert_eq!(MetaError::code(132001).status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn an_unlisted_code_still_answers_with_that_code() {
        let body = MetaError::code(999_999).body();
        assert_eq!(body["error"]["code"], 999_999);
    }

    #[test]
    fn an_fbtrace_id_has_metas_length() {
        assert_eq!(fbtrace_id().len(), 23);
    }

    #[test]
    fn an_unknown_path_names_the_object_after_the_version() {
        let body = MetaError::unsupported_path(&Method::GET, "/v23.0/1122/nonsense").body();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Object with ID '1122'"), "{message}");
        let body = MetaError::unsupported_path(&Method::GET, "/latest/1122").body();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Object with ID 'latest'"), "{message}");
    }

    #[test]
    fn unknown_objects_are_graph_method_exceptions_without_error_data() {
        let body = MetaError::unsupported(&Method::POST, "42").body();
        assert_eq!(body["error"]["type"], "GraphMethodException");
        assert_eq!(body["error"]["error_subcode"], 33);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Unsupported post request. Object with ID '42'")
        );
        assert!(body["error"].get("error_data").is_none());
    }
}
