//! The agent inbox through the real router: a cookie-keeping client signs in like a browser does
//! (the sign-in form's CSRF cookie, the session cookie) and uses the pages and forms.

mod accounts;
mod api_keys;
mod attachments;
mod composer;
mod conversation_tools;
mod erasure;
mod live;
mod media;
mod numbers;
mod operations;
mod pages;
mod read_receipts;
mod report_pages;
mod reports;
mod search;
mod settings;
mod setup;
mod team;
mod teamwork;
mod templates;

use std::collections::HashMap;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub use crate::helpers::inbox::*;
use crate::helpers::*;

/// A browser without JavaScript: keeps cookies, follows nothing by itself.
pub struct Client<'a> {
    pub app: &'a TestApp,
    cookies: HashMap<String, String>,
}

/// An answer: status, headers and body (as text, and as it came).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: bytes::Bytes,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl<'a> Client<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Answer {
        let request = request
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT, "text/html")
            .body(body)
            .unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = set.contains("Max-Age=0") || value.is_empty();
            if removed {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Request::get(path), Body::empty()).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// Signs in through the form; returns the answer to the form's POST.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = field(&page.body, "csrf");
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", ""),
            ],
        )
        .await
    }

    /// Signs in and expects it to work.
    pub async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let mut client = Self::new(app);
        let answer = client.sign_in(email, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        client
    }

    /// The session's CSRF token, read from a signed-in page.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/inbox").await;
        field(&page.body, "csrf")
    }
}

/// The boundary of [`multipart_form`]'s bodies.
pub const BOUNDARY: &str = "XyZboundary";

/// A multipart body with `fields` and, optionally, one file: (field, file name, type, bytes).
pub fn multipart_form(fields: &[(&str, &str)], file: Option<(&str, &str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((field, filename, mime, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Signs in a new admin of the test tenant (Ada).
pub async fn signed_in_admin(app: &TestApp) -> Client<'_> {
    user(app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin' where email = 'ada@acme.test'")
        .execute(&app.pool)
        .await
        .unwrap();
    Client::signed_in(app, "ada@acme.test").await
}

/// Where a page's "older" link leads (the list's or a search's next page).
pub fn next_page(page: &str) -> String {
    page.split(r#"<a class="more" href=""#)
        .nth(1)
        .expect("a next page")
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
}

/// The value of the first hidden input `name` of a page.
pub fn field(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}
