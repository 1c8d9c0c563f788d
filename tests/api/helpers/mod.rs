//! `TestApp`: the real router over a fresh database, with a tenant, a Meta app and a number, and
//! helpers to post signed webhooks shaped like Meta's and to apply them; [`Sending`] wires it for
//! the send path, [`inbox`] the people of the inbox, and `sandbox` the whole sandbox loop.

pub mod inbox;
mod sandbox;
mod sending;

pub use sending::*;
pub use switchboard::domain::{ids::*, messages::MessageStatus};

use std::sync::Arc;

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
        tenants,
    },
    http::{
        AppState, app,
        serve::{self, ConnectionLimits},
    },
    ingest::{apply, event_log::EventLog, worker},
    sandbox::FakeGraph,
    whatsapp::signature,
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
    pub tenant_id: TenantId,
    pub app_id: AppId,
    /// Where the router is served over real HTTP (for the fake Graph API's webhooks).
    pub url: String,
    /// The sandbox embedded in the router, when `SANDBOX` is on (its webhooks wait for
    /// [`TestApp::start_sandbox_dispatcher`]).
    pub sandbox: Option<FakeGraph>,
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
        previous_secret_key: None,
        meta_graph_url: "http://127.0.0.1:9".into(),
        meta_api_version: "v23.0".into(),
        environment: Environment::Development,
        sandbox: true,
        trust_proxy: false,
        metrics_token: None,
        webhook_retention: std::time::Duration::from_secs(30 * 86_400),
        webhook_allowed_hosts: vec!["127.0.0.1".into()],
    }
}

impl TestApp {
    /// A tenant `acme` with app [`META_APP_ID`] and number [`PHONE_NUMBER_ID`] in WABA [`WABA_ID`].
    pub async fn new(pool: PgPool) -> Self {
        Self::with_limits(pool, ConnectionLimits::default()).await
    }

    /// [`TestApp::new`], served over HTTP within `limits` (as `switchboard serve` serves it).
    pub async fn with_limits(pool: PgPool, limits: ConnectionLimits) -> Self {
        Self::build(pool, limits, |_| {}).await
    }

    /// A [`TestApp`] whose Meta is the fake Graph API, answering for real numbers too (its
    /// webhooks, such as template reviews, go nowhere).
    pub async fn with_fake_meta(pool: PgPool) -> Self {
        Self::with_fake_meta_and(pool, |_| {}).await
    }

    /// [`TestApp::with_fake_meta`] with [`test_config`] changed by `adjust` too.
    pub async fn with_fake_meta_and(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> Self {
        let fake = switchboard::sandbox::FakeGraph::new(
            pool.clone(),
            test_config().secret_key.cipher(),
            switchboard::sandbox::FakeGraphConfig {
                switchboard_url: "http://127.0.0.1:9".into(),
                status_delays: None,
                public_url: String::new(),
                sandbox_only: false,
            },
        );
        let url = fake.spawn().await.unwrap();
        Self::with_config(pool, |config| {
            config.meta_graph_url = url;
            adjust(config);
        })
        .await
    }

    /// [`TestApp::new`] with [`test_config`] changed by `adjust`.
    pub async fn with_config(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(pool, ConnectionLimits::default(), adjust).await
    }

    /// [`TestApp::new`] without the change listener, for tests that close the pool while the app
    /// runs (the listener holds one of its connections, and closing waits for it).
    pub async fn without_live_updates(pool: PgPool) -> Self {
        Self::assemble(pool, ConnectionLimits::default(), |_| {}, false).await
    }

    async fn build(
        pool: PgPool,
        limits: ConnectionLimits,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        Self::assemble(pool, limits, adjust, true).await
    }

    async fn assemble(
        pool: PgPool,
        limits: ConnectionLimits,
        adjust: impl FnOnce(&mut Config),
        live_updates: bool,
    ) -> Self {
        // Tests that hold many connections open need more descriptors than the usual soft limit.
        serve::raise_open_file_limit();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = test_config();
        adjust(&mut config);
        config.bind_addr = listener.local_addr().unwrap();
        // An empty PUBLIC_URL means the app's own address (for clients that follow its links).
        if config.public_url.is_empty() {
            config.public_url = config.internal_url();
        }
        let appended = Arc::new(Notify::new());
        let (events, _writer) = EventLog::start(pool.clone(), appended.clone());
        let state = AppState::new(pool.clone(), config.clone(), events).unwrap();
        let shutdown = CancellationToken::new();
        if live_updates {
            state
                .changes
                .listen(pool.clone(), shutdown.clone())
                .await
                .unwrap();
        }
        let sandbox = state.sandbox.clone();
        let router = app(state);
        tokio::spawn(serve::serve(
            listener,
            router.clone(),
            limits,
            shutdown.clone().cancelled_owned(),
        ));
        let mut test = Self {
            pool,
            router,
            url: config.internal_url(),
            sandbox,
            config,
            tenant_id: TenantId::new(0),
            app_id: AppId::new(0),
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
    pub async fn add_tenant(
        &self,
        name: &str,
        meta_app_id: &str,
        app_secret: &str,
    ) -> (TenantId, AppId) {
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
        tenant_id: TenantId,
        app_id: AppId,
        phone_number_id: &str,
        waba_id: &str,
        display: Option<&str>,
    ) -> NumberId {
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

    /// POSTs `body` signed with the test app's secret over real HTTP, as Meta would. Gives up
    /// (failing the test) if there is no answer within five seconds.
    pub async fn post_signed_over_http(&self, body: impl Into<Vec<u8>>) -> StatusCode {
        let body = body.into();
        let signature = signature::sign(APP_SECRET.as_bytes(), &body);
        reqwest::Client::new()
            .post(format!("{}/webhooks/whatsapp/{META_APP_ID}", self.url))
            .header("content-type", "application/json")
            .header(signature::HEADER, signature)
            .body(body)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .expect("an answer over HTTP")
            .status()
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

    /// Posts the embedded sandbox's webhooks from now on, as the server does.
    pub fn start_sandbox_dispatcher(&self) {
        let sandbox = self
            .sandbox
            .as_ref()
            .expect("the sandbox is on in this test");
        sandbox.start_dispatcher(self.shutdown()).unwrap();
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
    pub async fn outbound_message(&self, wamid: &str) -> MessageId {
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

    pub async fn message_status(&self, wamid: &str) -> MessageStatus {
        sqlx::query_scalar("select status from messages where wamid = $1")
            .bind(wamid)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}
