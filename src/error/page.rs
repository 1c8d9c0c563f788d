//! An error as an HTML page, for people in a browser: the status's name, what went wrong (the
//! error's `Display`, never its cause) and the fields at fault. `templates/error.html` renders it;
//! askama escapes everything it inserts.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::{AppError, FieldError};

/// `templates/error.html`.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'static str,
    code: &'static str,
    message: String,
    fields: &'a [FieldError],
}

/// `error` answered as an HTML page, with its status and headers.
pub(super) fn render(error: &AppError) -> Response {
    let status = error.status();
    let page = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        code: error.code(),
        message: sentence(&error.to_string()),
        fields: error.fields(),
    };
    let response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(render_error) => {
            // The error page is the last resort: without it, the message as text.
            tracing::error!(error = ?render_error, "render the error page");
            (status, page.message).into_response()
        }
    };
    error.add_headers(response)
}

/// A message as a sentence: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use axum::{body::to_bytes, http::header};

    use super::*;

    async fn html(error: AppError) -> (Response, String) {
        let mut response = render(&error);
        let body = std::mem::take(response.body_mut());
        let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
        (response, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_missing_page_is_a_404_page_saying_so() {
        let (response, page) = html(AppError::NotFound).await;
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(
            page.contains("<title>Not Found · Switchboard</title>"),
            "{page}"
        );
        assert!(page.contains(r#"data-error-code="not_found""#), "{page}");
        assert!(page.contains(">Not found.</p>"), "{page}");
    }

    #[tokio::test]
    async fn everything_the_page_shows_is_escaped() {
        let error = AppError::Unprocessable {
            message: "<script>alert(1)</script>".into(),
            fields: vec![FieldError {
                field: "\"name\"".into(),
                message: "<b>&</b>".into(),
            }],
        };
        let (_, page) = html(error).await;
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
        assert!(page.contains("&#34;name&#34;"), "{page}");
    }

    #[tokio::test]
    async fn an_internal_error_page_never_shows_its_cause() {
        let (response, page) = html(AppError::Internal(anyhow::anyhow!(
            "password authentication failed"
        )))
        .await;
        assert_eq!(response.status(), 500);
        assert!(page.contains("Internal error."), "{page}");
        assert!(!page.contains("password"), "{page}");
    }

    #[tokio::test]
    async fn an_upstream_failure_page_says_its_sentence_and_never_its_cause() {
        let (response, page) = html(AppError::BadGateway {
            message: "WhatsApp could not be reached; try again in a moment",
            cause: anyhow::anyhow!("connect to 10.0.0.7:443: connection refused"),
        })
        .await;
        assert_eq!(response.status(), 502);
        assert!(
            page.contains("WhatsApp could not be reached; try again in a moment."),
            "{page}"
        );
        assert!(!page.contains("10.0.0.7"), "{page}");
        let (response, page) = html(AppError::Gone("WhatsApp no longer has this file")).await;
        assert_eq!(response.status(), 410);
        assert!(page.contains(r#"data-error-code="gone""#), "{page}");
    }

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(sentence("not found"), "Not found.");
        assert_eq!(sentence("Try again?"), "Try again?");
        assert_eq!(sentence(""), "");
    }
}
