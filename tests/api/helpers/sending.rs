//! `Sending`: a [`TestApp`] with a fake Meta, the delivery worker and a clock the test controls.

use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::{
    domain::{
        ids::{ConversationId, MessageId, NumberId, TemplateId},
        messages::{MessageStatus, SentBy},
        templates::{self, TemplateRecord},
    },
    outbox::{
        send::{Queued, SendError, SendRefused, SendRequest, SendService, SendTo},
        worker::{Outbox, OutboxConfig},
    },
    whatsapp::{graph::GraphClient, outbound::Outbound},
};

use super::{CUSTOMER, TestApp, WABA_ID};

/// A clock the test moves: set to a moment, it runs on from there.
pub struct TestClock(std::sync::Mutex<chrono::TimeDelta>);

impl TestClock {
    /// The real clock, until the test moves it.
    pub fn real() -> Arc<Self> {
        Arc::new(Self(std::sync::Mutex::new(chrono::TimeDelta::zero())))
    }

    pub fn set(&self, now: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().unwrap() = now - chrono::Utc::now();
    }
}

impl switchboard::window::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.0.lock().unwrap()
    }
}

/// A [`TestApp`] wired for sending: a fake Graph API on its own port standing in for Meta, the
/// delivery worker pointed at it (fast retries), its dispatcher and appliers for the status
/// webhooks it sends back, and the send service on a clock the test controls.
pub struct Sending {
    pub app: TestApp,
    pub fake: switchboard::sandbox::FakeGraph,
    pub clock: Arc<TestClock>,
    pub service: SendService,
    pub number_id: NumberId,
}

impl Sending {
    pub async fn new(pool: PgPool) -> Self {
        Self::with_config(pool, |_| {}).await
    }

    pub async fn with_config(pool: PgPool, adjust: impl FnOnce(&mut OutboxConfig)) -> Self {
        let app = TestApp::new(pool).await;
        let fake = switchboard::sandbox::FakeGraph::new(
            app.pool.clone(),
            app.config.secret_key.cipher(),
            switchboard::sandbox::FakeGraphConfig {
                switchboard_url: app.url.clone(),
                status_delays: Some([10, 20, 30].map(std::time::Duration::from_millis)),
                public_url: String::new(),
                sandbox_only: false,
            },
        );
        let fake_url = fake.clone().spawn().await.unwrap();
        fake.start_dispatcher(app.shutdown()).unwrap();
        let mut config = OutboxConfig::new(&fake_url, &app.config.sandbox_graph_url());
        config.backoff = std::time::Duration::from_millis(20);
        config.poll = std::time::Duration::from_millis(20);
        adjust(&mut config);
        let graph = GraphClient::new("v23.0").unwrap();
        let clock = TestClock::real();
        let outbox = Outbox::new(
            app.pool.clone(),
            app.config.secret_key.cipher(),
            graph,
            clock.clone(),
            config,
        );
        tokio::spawn(outbox.run(app.shutdown()));
        app.start_appliers();
        let number_id = app.scalar("select id from phone_numbers").await;
        let service = SendService::new(app.pool.clone(), clock.clone());
        Self {
            app,
            fake,
            clock,
            service,
            number_id,
        }
    }

    /// A conversation with [`CUSTOMER`], who last wrote `hours_ago` hours ago (by the real clock).
    pub async fn conversation(&self, hours_ago: i64) -> ConversationId {
        self.conversation_with(CUSTOMER, hours_ago).await
    }

    pub async fn conversation_with(&self, wa_id: &str, hours_ago: i64) -> ConversationId {
        let ts = chrono::Utc::now().timestamp() - hours_ago * 3600;
        let wamid = format!("wamid.in.{wa_id}.{ts}");
        super::inbox::customer_writes_as(&self.app, wa_id, &wamid, "Hello?", hours_ago).await
    }

    /// Sends `content` in the conversation as the operator would.
    pub async fn send(
        &self,
        conversation_id: ConversationId,
        key: &str,
        content: Outbound,
    ) -> Result<Queued, SendError> {
        let request = SendRequest {
            to: SendTo::Conversation(conversation_id),
            content,
            reply_to: None,
            idempotency_key: key.into(),
            sent_by: SentBy::Operator,
        };
        self.service.send(self.app.tenant_id, request).await
    }

    /// Retries the message as the operator would.
    pub async fn retry(&self, message_id: MessageId) -> Result<(), SendError> {
        let by = SentBy::Operator;
        self.service.retry(self.app.tenant_id, message_id, by).await
    }

    pub async fn send_text(
        &self,
        conversation_id: ConversationId,
        key: &str,
        body: &str,
    ) -> Result<Queued, SendError> {
        let content = Outbound::Text {
            body: body.into(),
            preview_url: false,
        };
        self.send(conversation_id, key, content).await
    }

    /// Waits until the message reaches `status` (or, for a delivery tick, a later one); returns its
    /// status and error code. Fails the test after 10 s.
    pub async fn wait_for(
        &self,
        message_id: MessageId,
        status: MessageStatus,
    ) -> (MessageStatus, Option<i32>) {
        // Delivery ticks come fast: waiting for `sent`, a message already `read` has passed it.
        const TICKS: [MessageStatus; 3] = [
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read,
        ];
        let tick = |s: MessageStatus| TICKS.iter().position(|t| *t == s);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let row: (MessageStatus, Option<i32>) =
                sqlx::query_as("select status, error_code from messages where id = $1")
                    .bind(message_id)
                    .fetch_one(&self.app.pool)
                    .await
                    .unwrap();
            let passed = matches!((tick(status), tick(row.0)), (Some(w), Some(r)) if r >= w);
            if row.0 == status || passed {
                return row;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "message {message_id} did not reach `{status}` within 10 s (it is `{}`)",
                row.0
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until the fake Meta's three delivery statuses for `wamid` (sent, delivered, read) are
    /// all in the status log, so none arrives after the test moves on. Fails the test after 10 s.
    pub async fn wait_for_all_ticks(&self, wamid: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let logged: i64 = sqlx::query_scalar(
                "select count(*) from message_statuses
                 where wamid = $1 and status in ('sent', 'delivered', 'read')",
            )
            .bind(wamid)
            .fetch_one(&self.app.pool)
            .await
            .unwrap();
            if logged == 3 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{wamid}: {logged} of the fake's 3 delivery statuses logged within 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Holds the conversation's queued messages back for `millis` (as Meta's pair rate limit does),
    /// so the test can change the world while they wait.
    pub async fn hold(&self, conversation_id: ConversationId, millis: i64) {
        sqlx::query(
            "update conversations set send_paused_until = now() + make_interval(secs => $2 / 1000.0)
             where id = $1",
        )
        .bind(conversation_id)
        .bind(millis as f64)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    /// The message's error: (code, title, message for the agent).
    pub async fn error(&self, message_id: MessageId) -> (Option<i32>, String, String) {
        let (code, title, message): (Option<i32>, Option<String>, Option<String>) = sqlx::query_as(
            "select error_code, error_title, error_message from messages where id = $1",
        )
        .bind(message_id)
        .fetch_one(&self.app.pool)
        .await
        .unwrap();
        (code, title.unwrap_or_default(), message.unwrap_or_default())
    }

    /// Makes the fake Meta answer the number's next send with error `code`.
    pub async fn fail_next(&self, code: i64) {
        let mut conn = self.app.pool.acquire().await.unwrap();
        switchboard::sandbox::queue_fault(&mut conn, self.number_id, code)
            .await
            .unwrap();
    }

    /// How many sends (not read receipts) reached the fake Meta.
    pub fn sends(&self) -> usize {
        self.fake
            .calls()
            .iter()
            .filter(|c| c.method == "POST" && c.path.ends_with("/messages"))
            .count()
    }

    /// Stores a template for the test WABA that Meta has paused.
    pub async fn paused_template(&self, name: &str) {
        let id = self
            .template(
                name,
                "en_US",
                "UTILITY",
                json!([{ "type": "BODY", "text": "x" }]),
            )
            .await;
        sqlx::query("update message_templates set status = 'PAUSED' where id = $1")
            .bind(id)
            .execute(&self.app.pool)
            .await
            .unwrap();
    }

    /// Stores an approved template for the test WABA.
    pub async fn template(
        &self,
        name: &str,
        language: &str,
        category: &str,
        components: Value,
    ) -> TemplateId {
        let mut conn = self.app.pool.acquire().await.unwrap();
        let record = TemplateRecord {
            meta_template_id: None,
            name,
            language,
            category: Some(category),
            status: "APPROVED",
            components: &components,
            parameter_format: "POSITIONAL",
        };
        templates::upsert(&mut conn, self.app.tenant_id, WABA_ID, &record)
            .await
            .unwrap()
    }
}

/// A template message.
pub fn template(name: &str, language: &str, components: serde_json::Value) -> Outbound {
    Outbound::Template {
        name: name.into(),
        language: language.into(),
        components,
    }
}

/// The refusal a send ended in; fails the test otherwise.
pub fn refusal(result: Result<Queued, SendError>) -> SendRefused {
    match result {
        Err(SendError::Refused(refused)) => refused,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// `order_update`: two body variables and a URL button with a variable suffix.
pub fn order_update() -> serde_json::Value {
    json!([
        { "type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped." },
        { "type": "BUTTONS", "buttons": [{ "type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}" }] }
    ])
}

/// Values that fit [`order_update`].
pub fn order_update_params() -> serde_json::Value {
    json!([
        { "type": "body", "parameters": [{ "type": "text", "text": "Dana" }, { "type": "text", "text": "#1042" }] },
        { "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": "1042" }] }
    ])
}
