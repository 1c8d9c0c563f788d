//! An agent's browser, as far as the benchmark needs one: signs in through the login form, keeps
//! its cookies, and times each request from sending it to the last byte of the answer.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use reqwest::{Client, StatusCode, header};

pub struct Agent {
    client: Client,
    base_url: String,
    cookies: HashMap<String, String>,
    /// The session's CSRF token, for forms.
    pub csrf: String,
}

/// A timed answer.
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub took: Duration,
}

impl Agent {
    /// Signs in as `email`.
    pub async fn sign_in(base_url: &str, email: &str, password: &str) -> anyhow::Result<Self> {
        let client = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .context("build an HTTP client")?;
        let mut agent = Self {
            client,
            base_url: base_url.to_owned(),
            cookies: HashMap::new(),
            csrf: String::new(),
        };
        let form = agent.get("/login").await?;
        let csrf = field(&form.body, "csrf").context("no CSRF field on the login page")?;
        let signed_in = agent
            .post(
                "/login",
                &[
                    ("email", email),
                    ("password", password),
                    ("csrf", &csrf),
                    ("next", ""),
                ],
            )
            .await?;
        ensure!(
            signed_in.status == StatusCode::SEE_OTHER,
            "signing in as {email} answered {}: {}",
            signed_in.status,
            signed_in.body
        );
        let inbox = agent.get("/inbox").await?;
        agent.csrf = field(&inbox.body, "csrf").context("no CSRF field in the inbox")?;
        Ok(agent)
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        let request = self.client.get(format!("{}{path}", self.base_url));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .form(form);
        self.send(request).await
    }

    /// The `Cookie` header of this session.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let started = Instant::now();
        let response = request
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .context("send a request")?;
        for cookie in response.headers().get_all(header::SET_COOKIE) {
            let Some((pair, _)) = cookie.to_str().unwrap_or_default().split_once(';') else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let body = response.text().await.context("read an answer")?;
        Ok(Answer {
            status,
            body,
            took: started.elapsed(),
        })
    }
}

/// The value of the first input `name` of a page.
fn field(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker)? + marker.len();
    page[start..].split('"').next().map(str::to_owned)
}
