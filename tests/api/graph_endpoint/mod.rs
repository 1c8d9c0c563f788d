//! The Meta-compatible endpoint (`/graph`): a program with an API key sends and reads as it would
//! with Meta's Graph API, and every send is checked, delivered (here to a fake Meta) and shown in
//! the inbox.

mod keys;
mod messages;
mod objects;
pub mod sdks;
mod templates;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use switchboard::domain::api_keys;

pub use crate::helpers::{inbox::*, *};

/// A tenant whose Meta is the fake Graph API, delivering what it queues, and a program with a key.
pub struct Integrator {
    pub app: TestApp,
    pub key: String,
    http: reqwest::Client,
}

impl Integrator {
    pub async fn new(pool: PgPool) -> Self {
        Self::with(TestApp::with_fake_meta(pool).await).await
    }

    /// An integrator of an app whose `PUBLIC_URL` is its own address, so that a client can
    /// follow the links it answers (media URLs).
    pub async fn served(pool: PgPool) -> Self {
        Self::with(TestApp::with_fake_meta_and(pool, |config| config.public_url.clear()).await)
            .await
    }

    async fn with(app: TestApp) -> Self {
        app.start_outbox_to_meta();
        let key = key(&app, "Shop backend", &[], 100).await;
        Self {
            app,
            key,
            http: reqwest::Client::new(),
        }
    }

    /// `{app}/graph/v23.0{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/graph/v23.0{path}", self.app.url)
    }

    /// A request with the program's key.
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.key)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        answer(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        answer(self.request(reqwest::Method::GET, path)).await
    }
}

/// A new key of the app's tenant.
pub async fn key(app: &TestApp, name: &str, numbers: &[&str], rate: i32) -> String {
    let mut conn = app.pool.acquire().await.unwrap();
    let numbers: Vec<String> = numbers.iter().map(|n| (*n).to_owned()).collect();
    api_keys::create(&mut conn, app.tenant_id, None, name, &numbers, rate)
        .await
        .unwrap()
        .unwrap()
        .secret
}

/// The status and JSON body of an answer.
pub async fn answer(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// The error object of an answer.
pub fn error(body: &Value) -> &Value {
    &body["error"]
}
