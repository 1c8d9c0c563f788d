//! The fake Graph API over real HTTP: Meta's success and error bodies, queued faults, the 24-hour
//! rule, template checks, media, template management, and the signed webhooks it sends back to
//! Switchboard's webhook endpoint (served on a real port by `TestApp`), kept in PostgreSQL until
//! a dispatcher posts them.

mod durable_webhooks;
mod errors;
mod media;
mod messages;
mod numbers;
mod templates;

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::sandbox::{FakeGraph, FakeGraphConfig};
use tokio::time::{Instant, sleep};

use crate::helpers::*;

const TOKEN: &str = "test-access-token";
const STRANGER: &str = "15550009999";

/// A `TestApp` and a fake Meta posting its webhooks to it.
struct Meta {
    app: TestApp,
    fake: FakeGraph,
    url: String,
    http: reqwest::Client,
}

impl Meta {
    async fn new(pool: PgPool) -> Self {
        Self::with_delays(pool, Some([20, 40, 60].map(Duration::from_millis))).await
    }

    async fn with_delays(pool: PgPool, status_delays: Option<[Duration; 3]>) -> Self {
        let meta = Self::idle(pool, status_delays, None).await;
        meta.fake.start_dispatcher(meta.app.shutdown()).unwrap();
        meta
    }

    /// A fake Meta that schedules its webhooks but posts none until the test starts a dispatcher;
    /// they go to `switchboard_url`, else to the app.
    async fn idle(
        pool: PgPool,
        status_delays: Option<[Duration; 3]>,
        switchboard_url: Option<&str>,
    ) -> Self {
        let app = TestApp::new(pool).await;
        let config = FakeGraphConfig {
            switchboard_url: switchboard_url.unwrap_or(&app.url).to_owned(),
            status_delays,
            public_url: String::new(),
            sandbox_only: false,
        };
        let fake = FakeGraph::new(app.pool.clone(), app.config.secret_key.cipher(), config);
        let url = fake.clone().spawn().await.unwrap();
        Self {
            app,
            fake,
            url,
            http: reqwest::Client::new(),
        }
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
    }

    async fn call(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn send(&self, body: Value) -> (StatusCode, Value) {
        self.call(
            self.post(&format!("/v23.0/{PHONE_NUMBER_ID}/messages"))
                .json(&body),
        )
        .await
    }

    async fn send_text(&self, to: &str) -> (StatusCode, Value) {
        let body = json!({ "messaging_product": "whatsapp", "to": to, "type": "text", "text": { "body": "Hi!" } });
        self.send(body).await
    }

    async fn send_template(
        &self,
        name: &str,
        language: &str,
        components: Value,
    ) -> (StatusCode, Value) {
        self.send(json!({
            "messaging_product": "whatsapp",
            "to": STRANGER,
            "type": "template",
            "template": { "name": name, "language": { "code": language }, "components": components },
        }))
        .await
    }

    /// [`CUSTOMER`] writes to the number, `hours_ago` hours ago (by the real clock).
    async fn customer_wrote(&self, hours_ago: i64) {
        let ts = chrono::Utc::now().timestamp() - hours_ago * 3600;
        let message = text(&format!("wamid.in.{ts}"), ts, "Hello?");
        self.app
            .deliver(messages_webhook(vec![message], vec![]))
            .await;
    }

    /// Stores a template for the test WABA, as Switchboard keeps them.
    async fn template(&self, name: &str, language: &str, status: &str, components: Value) {
        sqlx::query(
            "insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                 category, status, components)
             values ($1, $2, $3, $4, $5, 'UTILITY', $6, $7)",
        )
        .bind(self.app.tenant_id)
        .bind(WABA_ID)
        .bind(format!("meta-{name}-{language}"))
        .bind(name)
        .bind(language)
        .bind(status)
        .bind(components)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    /// Applies webhooks as they arrive until `count_sql` (bound to `bind`) reaches `expected`.
    async fn wait_for(&self, count_sql: &str, bind: &str, expected: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.app.apply().await;
            let count: i64 = sqlx::query_scalar(count_sql)
                .bind(bind)
                .fetch_one(&self.app.pool)
                .await
                .unwrap();
            if count >= expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expected}: {count_sql} ({bind})"
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    async fn statuses(&self, wamid: &str) -> Vec<(String, Option<Value>, Option<Value>)> {
        sqlx::query_as(
            "select status, errors, pricing from message_statuses where wamid = $1 order by id",
        )
        .bind(wamid)
        .fetch_all(&self.app.pool)
        .await
        .unwrap()
    }
}

fn wamid(body: &Value) -> String {
    body["messages"][0]["id"].as_str().unwrap().to_owned()
}

const STATUS_COUNT: &str = "select count(*) from message_statuses where wamid = $1";
