//! `TestApp`: the real router over a fresh database, with a tenant, a Meta app and a number, and
//! helpers to post signed webhooks shaped like Meta's and to apply them.

use std::{future::IntoFuture, sync::Arc};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::{
    config::{Config, Environment},
    crypto::SecretKey,
    domain::{
        apps::{self, AppSecrets},
        numbers::{self, NewNumber},
        templates::{self, TemplateRecord},
        tenants,
    },
    http::{AppState, app},
    ingest::{apply, event_log::EventLog, worker},
    outbox::{
        send::{self, Queued, SendError, SendRequest},
        worker::{Outbox, OutboxConfig},
    },
    whatsapp::{graph::GraphClient, outbound::Outbound, signature},
};
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};
use tower::ServiceExt;

pub const META_APP_ID: &str = "1234567890";
pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const PHONE_NUMBER_ID: &str = "1122334455667";
pub const WABA_ID: &str = "102290129340398";
pub const CUSTOMER: &str = "15550001111";

pub struct TestApp {
    pub pool: PgPool,
    pub router: Router,
    pub config: Config,
    pub tenant_id: i64,
    pub app_id: i64,
    /// Where the router is served over real HTTP (for the fake Graph API's webhooks).
    pub url: String,
    appended: Arc<Notify>,
    shutdown: CancellationToken,
    /// Stops the background tasks this app started when the test ends.
    _stop_on_drop: DropGuard,
}

pub fn test_config() -> Config {
    Config {
        database_url: String::new(),
        bind_addr: "127.0.0.1:0".parse().unwrap(),
        public_url: "http://switchboard.test".into(),
        secret_key: SecretKey::from_material("test secret key, thirty-two chars at least").unwrap(),
        meta_graph_url: "http://127.0.0.1:9".into(),
        meta_api_version: "v23.0".into(),
        environment: Environment::Development,
    }
}

impl TestApp {
    /// A tenant `acme` with app [`META_APP_ID`] and number [`PHONE_NUMBER_ID`] in WABA [`WABA_ID`].
    pub async fn new(pool: PgPool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = test_config();
        config.bind_addr = listener.local_addr().unwrap();
        let appended = Arc::new(Notify::new());
        let (events, _writer) = EventLog::start(pool.clone(), appended.clone());
        let router = app(AppState::new(pool.clone(), config.clone(), events));
        let shutdown = CancellationToken::new();
        let server = axum::serve(listener, router.clone())
            .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        tokio::spawn(server.into_future());
        let mut test = Self {
            pool,
            router,
            url: config.internal_url(),
            config,
            tenant_id: 0,
            app_id: 0,
            appended,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
        };
        (test.tenant_id, test.app_id) = test.add_tenant("Acme", META_APP_ID, APP_SECRET).await;
        test.add_number(
            test.tenant_id,
            test.app_id,
            PHONE_NUMBER_ID,
            WABA_ID,
            Some("+972 12 345 6789"),
        )
        .await;
        test
    }

    /// Creates a tenant with its own Meta app; returns (tenant id, app row id).
    pub async fn add_tenant(&self, name: &str, meta_app_id: &str, app_secret: &str) -> (i64, i64) {
        let mut conn = self.pool.acquire().await.unwrap();
        let tenant = tenants::create(&mut conn, name).await.unwrap();
        let secrets = AppSecrets {
            app_secret: app_secret.into(),
            verify_token: VERIFY_TOKEN.into(),
        };
        let cipher = self.config.secret_key.cipher();
        let app = apps::ensure(&mut conn, &cipher, tenant.id, meta_app_id, Some(secrets))
            .await
            .unwrap();
        (tenant.id, app)
    }

    pub async fn add_number(
        &self,
        tenant_id: i64,
        app_id: i64,
        phone_number_id: &str,
        waba_id: &str,
        display: Option<&str>,
    ) -> i64 {
        let mut conn = self.pool.acquire().await.unwrap();
        let number = NewNumber {
            tenant_id,
            app_id,
            phone_number_id,
            waba_id,
            display_phone_number: display,
            access_token: "test-access-token".into(),
            sandbox: false,
        };
        numbers::add(&mut conn, &self.config.secret_key.cipher(), number)
            .await
            .unwrap()
    }

    pub async fn request(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs `body` to an app's webhook with the given signature header (if any).
    pub async fn post_webhook(
        &self,
        meta_app_id: &str,
        body: impl Into<Vec<u8>>,
        signature: Option<String>,
    ) -> StatusCode {
        let mut request = Request::post(format!("/webhooks/whatsapp/{meta_app_id}"))
            .header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        self.request(request.body(Body::from(body.into())).unwrap())
            .await
            .0
    }

    /// POSTs `body` signed with the test app's secret, as Meta would.
    pub async fn post_signed(&self, body: impl Into<Vec<u8>>) -> StatusCode {
        let body = body.into();
        let signature = signature::sign(APP_SECRET.as_bytes(), &body);
        self.post_webhook(META_APP_ID, body, Some(signature)).await
    }

    /// Posts a signed webhook, expects 200, and applies everything pending.
    pub async fn deliver(&self, body: impl Into<Vec<u8>>) {
        assert_eq!(self.post_signed(body).await, StatusCode::OK);
        self.apply().await;
    }

    /// Applies stored webhooks in the background from now on, as the server does.
    pub fn start_appliers(&self) {
        tokio::spawn(worker::run(
            self.pool.clone(),
            self.appended.clone(),
            self.shutdown.clone(),
        ));
    }

    /// A token cancelled when the test ends, for background tasks a test starts.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Applies every pending event, and waits for those a background applier is applying.
    pub async fn apply(&self) {
        loop {
            while apply::apply_pending(&self.pool, 100).await.unwrap() > 0 {}
            let pending: i64 = self
                .scalar("select count(*) from webhook_events where state = 'pending'")
                .await;
            if pending == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The state and error of the newest webhook event.
    pub async fn last_event(&self) -> (String, Option<String>, Vec<String>) {
        sqlx::query_as(
            "select state, error, unroutable from webhook_events order by id desc limit 1",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    pub async fn scalar<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// A `messages` webhook for [`PHONE_NUMBER_ID`] carrying `messages` and `statuses`.
pub fn messages_webhook(messages: Vec<Value>, statuses: Vec<Value>) -> String {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "97212345678", "phone_number_id": PHONE_NUMBER_ID },
    });
    if !messages.is_empty() {
        value["contacts"] = json!([{ "profile": { "name": "Dana" }, "wa_id": CUSTOMER }]);
        value["messages"] = Value::Array(messages);
    }
    if !statuses.is_empty() {
        value["statuses"] = Value::Array(statuses);
    }
    envelope(
        WABA_ID,
        None,
        vec![json!({ "field": "messages", "value": value })],
    )
}

/// `{"object": "whatsapp_business_account", "entry": [{id, time?, changes}]}`.
pub fn envelope(waba_id: &str, time: Option<i64>, changes: Vec<Value>) -> String {
    let mut entry = json!({ "id": waba_id, "changes": changes });
    if let Some(time) = time {
        entry["time"] = json!(time);
    }
    json!({ "object": "whatsapp_business_account", "entry": [entry] }).to_string()
}

/// An inbound text message from [`CUSTOMER`] sent at Unix time `ts`.
pub fn text(wamid: &str, ts: i64, body: &str) -> Value {
    json!({ "from": CUSTOMER, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": { "body": body } })
}

/// A delivery status for an outbound message.
pub fn status(wamid: &str, status: &str, ts: i64) -> Value {
    json!({ "id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": CUSTOMER })
}

impl TestApp {
    /// An outbound message with `wamid` in the customer's conversation (as the send path leaves it).
    pub async fn outbound_message(&self, wamid: &str) -> i64 {
        self.deliver(messages_webhook(
            vec![text("wamid.opening", 1_700_000_000, "Hello")],
            vec![],
        ))
        .await;
        sqlx::query_scalar(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
                 body, content, status)
             select c.tenant_id, c.id, c.phone_number_id, 'outbound', $1, 'text', 'Hi!', '{}', 'sent'
             from conversations c limit 1
             returning id",
        )
        .bind(wamid)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    pub async fn message_status(&self, wamid: &str) -> String {
        sqlx::query_scalar("select status from messages where wamid = $1")
            .bind(wamid)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// A clock the test moves.
pub struct TestClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl TestClock {
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> Arc<Self> {
        Arc::new(Self(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().unwrap() = now;
    }
}

impl switchboard::window::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// A [`TestApp`] wired for sending: a fake Graph API on its own port standing in for Meta, the
/// delivery worker pointed at it (fast retries), appliers for the status webhooks it sends back,
/// and a clock the test controls for the send service.
pub struct Sending {
    pub app: TestApp,
    pub fake: switchboard::sandbox::FakeGraph,
    pub clock: Arc<TestClock>,
    pub number_id: i64,
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
        let mut config = OutboxConfig::new(&fake_url, &app.config.sandbox_graph_url());
        config.backoff = std::time::Duration::from_millis(20);
        config.poll = std::time::Duration::from_millis(20);
        adjust(&mut config);
        let graph = GraphClient::new("v23.0").unwrap();
        let outbox = Outbox::new(
            app.pool.clone(),
            app.config.secret_key.cipher(),
            graph,
            config,
        );
        tokio::spawn(outbox.run(app.shutdown()));
        app.start_appliers();
        let number_id = app.scalar("select id from phone_numbers").await;
        Self {
            app,
            fake,
            clock: TestClock::at(chrono::Utc::now()),
            number_id,
        }
    }

    /// A conversation with [`CUSTOMER`], who last wrote `hours_ago` hours ago (by the real clock).
    pub async fn conversation(&self, hours_ago: i64) -> i64 {
        self.conversation_with(CUSTOMER, hours_ago).await
    }

    pub async fn conversation_with(&self, wa_id: &str, hours_ago: i64) -> i64 {
        let ts = chrono::Utc::now().timestamp() - hours_ago * 3600;
        let mut message = text(&format!("wamid.in.{wa_id}.{ts}"), ts, "Hello?");
        message["from"] = json!(wa_id);
        let mut body: Value =
            serde_json::from_str(&messages_webhook(vec![message], vec![])).unwrap();
        body["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = json!(wa_id);
        self.app.deliver(body.to_string()).await;
        sqlx::query_scalar(
            "select c.id from conversations c join contacts k on k.id = c.contact_id where k.wa_id = $1",
        )
        .bind(wa_id)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    pub async fn send(
        &self,
        conversation_id: i64,
        key: &str,
        content: Outbound,
    ) -> Result<Queued, SendError> {
        let request = SendRequest {
            conversation_id,
            content,
            reply_to: None,
            idempotency_key: key.into(),
            sent_by: None,
        };
        send::send(
            &self.app.pool,
            self.clock.as_ref(),
            self.app.tenant_id,
            request,
        )
        .await
    }

    pub async fn send_text(
        &self,
        conversation_id: i64,
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
    pub async fn wait_for(&self, message_id: i64, status: &str) -> (String, Option<i32>) {
        // Delivery ticks come fast: waiting for `sent`, a message already `read` has passed it.
        const TICKS: [&str; 3] = ["sent", "delivered", "read"];
        let tick = |s: &str| TICKS.iter().position(|t| *t == s);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let row: (String, Option<i32>) =
                sqlx::query_as("select status, error_code from messages where id = $1")
                    .bind(message_id)
                    .fetch_one(&self.app.pool)
                    .await
                    .unwrap();
            let passed = matches!((tick(status), tick(&row.0)), (Some(w), Some(r)) if r >= w);
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
    ) -> i64 {
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
