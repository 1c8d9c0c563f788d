//! Meta's error responses as the Graph API sends them:
//! `{"error":{"message":"(#CODE) Title","type":"OAuthException","code":CODE,"error_subcode"?,
//! "error_data":{"messaging_product":"whatsapp","details":"…"},"is_transient"?,"fbtrace_id":"A…"}}`,
//! with the HTTP status Meta's error table gives each code. Titles and details are Meta's
//! (paraphrased where Meta's text is long); clients should branch on `code` and `details` only.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes>

use axum::{
    Json,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::ids;

/// Meta's error code of an error response, left in the response's extensions for the call log.
#[derive(Debug, Clone, Copy)]
pub(super) struct ErrorCode(pub i64);

/// One row of Meta's error table.
struct Spec {
    code: i64,
    status: u16,
    /// Throttling and server errors carry `"is_transient": true`.
    transient: bool,
    title: &'static str,
    details: &'static str,
    subcode: Option<i64>,
}

const fn spec(
    code: i64,
    status: u16,
    transient: bool,
    title: &'static str,
    details: &'static str,
) -> Spec {
    Spec {
        code,
        status,
        transient,
        title,
        details,
        subcode: None,
    }
}

#[rustfmt::skip]
const TABLE: &[Spec] = &[
    spec(0, 401, false, "AuthException", "We were unable to authenticate the app user."),
    spec(1, 500, true, "API Unknown", "Invalid request or possible server error."),
    spec(2, 503, true, "API Service", "Temporary due to downtime or due to being overloaded."),
    spec(3, 500, false, "API Method", "Capability or permissions issue."),
    spec(4, 400, true, "API Too Many Calls", "The app has reached its API call rate limit."),
    spec(10, 403, false, "Permission Denied", "Permission is either not granted or has been removed."),
    spec(100, 400, false, "Invalid parameter", "The request included one or more unsupported or misspelled parameters."),
    spec(200, 403, false, "API Permission", "Permission is either not granted or has been removed."),
    spec(368, 403, false, "Temporarily blocked for policies violations", "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy."),
    spec(80007, 400, true, "Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    Spec { subcode: Some(2494055), ..spec(130429, 400, true, "Rate limit hit", "Message failed to send because there were too many messages sent from this phone number in a short period of time") },
    spec(130472, 400, false, "User's number is part of an experiment", "Failed to send message because this user's phone number is part of an experiment"),
    spec(131000, 500, true, "Something went wrong", "Message failed to send due to an unknown error."),
    spec(131005, 403, false, "Access denied", "Permission is either not granted or has been removed."),
    spec(131008, 400, false, "Required parameter is missing", "The request is missing a required parameter."),
    spec(131009, 400, false, "Parameter value is not valid", "One or more parameter values are invalid."),
    spec(131016, 503, true, "Service unavailable", "A service is temporarily unavailable."),
    spec(131021, 400, false, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    spec(131026, 400, false, "Message Undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version."),
    spec(131030, 400, false, "Recipient phone number not in allowed list", "Add recipient phone number to recipient list and try again."),
    spec(131031, 403, false, "Account has been locked", "The WhatsApp Business Account is restricted or disabled, or data in the request could not be verified against the account."),
    spec(131042, 400, false, "Business eligibility payment issue", "There was an error related to your payment method."),
    spec(131045, 400, false, "Incorrect certificate", "Message failed to send due to a phone number registration error."),
    spec(131047, 400, false, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
    spec(131048, 400, false, "Spam rate limit hit", "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam."),
    spec(131049, 400, false, "This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    spec(131051, 400, false, "Unsupported message type", "Message type is not currently supported."),
    spec(131053, 400, false, "Media upload error", "Unable to upload the media used in the message."),
    spec(131056, 400, true, "(Business Account, Consumer Account) pair rate limit hit", "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time."),
    spec(131057, 503, true, "Account in maintenance mode", "Business Account is in maintenance mode."),
    spec(132000, 400, false, "Number of parameters does not match the expected number of params", "The number of variable parameter values included in the request did not match the number of variable parameters defined in the template."),
    spec(132001, 404, false, "Template name does not exist in the translation", "The template does not exist in the specified language or the template has not been approved."),
    spec(132005, 400, false, "Translated text too long", "Translated text is too long."),
    spec(132007, 400, false, "Template Format Character Policy Violated", "Template content violates a WhatsApp policy."),
    spec(132012, 400, false, "Parameter format does not match format in the created template", "Variable parameter values formatted incorrectly."),
    spec(132015, 400, false, "Template is Paused", "Template is paused due to low quality so it cannot be sent in a template message."),
    spec(132016, 400, false, "Template is Disabled", "Template has been paused too many times due to low quality and is now permanently disabled."),
    spec(133010, 400, false, "Phone number Not Registered", "Phone number not registered on the Whatsapp Business Platform."),
];

/// The codes the fake answers with Meta's own title and details (any other code gets a generic
/// body), with their titles: what an admin may queue as a fault.
pub fn known_codes() -> impl Iterator<Item = (i64, &'static str)> {
    TABLE
        .iter()
        .map(|spec| (spec.code, spec.title))
        .chain([(190, "Access token has expired")])
}

/// The title and details of a code, as webhooks' `errors[]` carry them.
pub(super) fn title_and_details(code: i64) -> (&'static str, &'static str) {
    TABLE
        .iter()
        .find(|spec| spec.code == code)
        .map_or(("Unknown error", "An unknown error occurred."), |spec| {
            (spec.title, spec.details)
        })
}

/// A Graph API error answer: Meta's body with its HTTP status.
#[derive(Debug, Clone)]
pub(super) struct GraphError {
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

impl GraphError {
    /// Meta's answer for `code`, from the table; a generic 400 for codes it does not list.
    pub fn code(code: i64) -> Self {
        if code == 190 {
            return Self::expired_token();
        }
        match TABLE.iter().find(|spec| spec.code == code) {
            Some(spec) => Self {
                status: StatusCode::from_u16(spec.status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                message: format!("(#{code}) {}", spec.title),
                kind: "OAuthException",
                subcode: spec.subcode,
                details: Some(spec.details.to_owned()),
                transient: spec.transient,
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

    /// 190 with subcode 463 (HTTP 401): what a queued 190 fault answers.
    fn expired_token() -> Self {
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

    /// Code 2 (HTTP 503, transient): the fake itself failed (its database); logged here, once.
    pub fn unavailable(error: anyhow::Error) -> Self {
        tracing::error!(error = ?error, "the fake Graph API failed");
        let message = "(#2) Service temporarily unavailable".into();
        Self {
            transient: true,
            ..Self::plain(StatusCode::SERVICE_UNAVAILABLE, 2, message)
        }
    }

    fn plain(status: StatusCode, code: i64, message: String) -> Self {
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
        error["fbtrace_id"] = json!(ids::fbtrace_id());
        json!({ "error": error })
    }
}

impl From<anyhow::Error> for GraphError {
    fn from(error: anyhow::Error) -> Self {
        Self::unavailable(error)
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_code_has_metas_shape_and_status() {
        let error = GraphError::code(131047);
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
            GraphError::code(130429).body()["error"]["is_transient"],
            true
        );
        assert_eq!(
            GraphError::code(130429).body()["error"]["error_subcode"],
            2494055
        );
        assert_eq!(GraphError::code(132001).status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn an_unlisted_code_still_answers_with_that_code() {
        let body = GraphError::code(999_999).body();
        assert_eq!(body["error"]["code"], 999_999);
    }

    #[test]
    fn unknown_objects_are_graph_method_exceptions_without_error_data() {
        let body = GraphError::unsupported(&Method::POST, "42").body();
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
