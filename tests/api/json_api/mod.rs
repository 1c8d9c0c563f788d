//! The JSON API (`/api/v1`): a program with an API key works the inbox as an agent does, with
//! the same checks, within its tenant and its key's numbers; the OpenAPI document describes
//! exactly the routes served.

mod conversations;
mod document;
mod keys;
mod sending;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

pub use crate::{
    graph_endpoint::{answer, key},
    helpers::{inbox::*, *},
};

/// A tenant whose Meta is the fake Graph API, delivering what it queues, and a program with a key
/// for all its numbers.
pub struct Program {
    pub app: TestApp,
    pub key: String,
    http: reqwest::Client,
}

impl Program {
    pub async fn new(pool: PgPool) -> Self {
        let app = TestApp::with_fake_meta(pool).await;
        app.start_outbox_to_meta();
        let key = key(&app, "Order system", &[], 100).await;
        Self {
            app,
            key,
            http: reqwest::Client::new(),
        }
    }

    /// A request to `/api/v1{path}` with the program's key.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.app.url))
            .bearer_auth(&self.key)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        answer(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        answer(self.request(Method::POST, path).json(&body)).await
    }
}
