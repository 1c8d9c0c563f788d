//! The HTTP surface: shared state, the router and its layer stack, and serving it over TCP.
//! `app(state)` is a plain function so tests can drive the real router without a socket.

pub mod extract;
pub mod graph_paths;
mod health;
mod metrics;
pub mod serve;
mod webhook;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::MatchedPath,
    http::{HeaderValue, Request, StatusCode, header},
    middleware::{self, Next},
    response::Response,
};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::{
    catch_panic::CatchPanicLayer, set_header::SetResponseHeaderLayer, timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    config::Config,
    crypto::Cipher,
    domain::{
        api_keys::Admissions, apps::AppDirectory, audit, events::Hub, templates::syncs::Syncer,
    },
    error::{self, Surface},
    inbox::{self, auth::ClientAddress, media::MediaFiles, receipts::ReadReceipts},
    ingest::event_log::EventLog,
    outbox::{answers::Answers, send::SendService},
    sandbox::{FakeGraph, FakeGraphConfig},
    whatsapp::graph::GraphClient,
    window::SystemClock,
};

/// When the sandbox reports `sent`, `delivered` and `read` after a send, in milliseconds: paced so
/// that a person watching sees each tick arrive.
const SANDBOX_STATUS_DELAYS: [u64; 3] = [300, 1_000, 3_000];

/// What every handler can reach. Cheap to clone, one reference count: axum clones it for every
/// extractor and middleware of every request, and its parts hold keys, addresses and pools.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Services {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub cipher: Cipher,
    pub apps: AppDirectory,
    pub events: EventLog,
    /// Sending, for every surface (tests may swap in one with their own clock).
    pub sends: SendService,
    /// The fake Graph API behind sandbox numbers, served under `/sandbox/graph`; `None` when
    /// `SANDBOX` is off.
    pub sandbox: Option<FakeGraph>,
    /// Change events for live pages; silent until the server starts its listener
    /// (`changes.listen`).
    pub changes: Hub,
    /// Cancelled when the server stops accepting: ends live streams so shutdown never waits on
    /// them.
    pub streams: CancellationToken,
    /// Media files fetched from Meta for the inbox, kept a while in this process.
    pub media: MediaFiles,
    /// Read receipts sent to Meta when agents open conversations.
    pub receipts: ReadReceipts,
    /// Meta's Graph API (or the fake one, for sandbox numbers), for the console's calls.
    pub graph: GraphClient,
    /// Woken when an admin queues a template sync, so this instance starts it at once.
    pub template_syncs: Arc<Notify>,
    /// Requests of the Meta-compatible endpoint waiting for Meta's answer to their message.
    pub answers: Answers,
    /// API keys recognised and their requests counted, for the Graph endpoint and the JSON API.
    pub admissions: Admissions,
}

impl AppState {
    /// The state for `config`, on the real clock; fails if `META_API_VERSION` is not a version.
    pub fn new(db: PgPool, config: Config, events: EventLog) -> anyhow::Result<Self> {
        // Metrics recorded before the recorder exists are lost: install it with the first state.
        crate::metrics::handle();
        let cipher = config.cipher();
        let apps = AppDirectory::new(db.clone(), cipher.clone());
        let sandbox = config.sandbox.then(|| {
            FakeGraph::new(
                db.clone(),
                cipher.clone(),
                FakeGraphConfig {
                    switchboard_url: config.internal_url(),
                    status_delays: Some(SANDBOX_STATUS_DELAYS.map(Duration::from_millis)),
                    public_url: config.sandbox_graph_url(),
                    sandbox_only: true,
                },
            )
        });
        let sends = SendService::new(db.clone(), Arc::new(SystemClock));
        let graph = GraphClient::new(&config.meta_api_version)?;
        let media = MediaFiles::new(
            db.clone(),
            cipher.clone(),
            graph.clone(),
            config.graph_urls(),
        );
        let receipts = ReadReceipts::new(
            db.clone(),
            cipher.clone(),
            graph.clone(),
            config.graph_urls(),
        );
        let changes = Hub::new();
        let answers = Answers::start(&changes);
        let admissions = Admissions::start(db.clone());
        Ok(Self(Arc::new(Services {
            db,
            config: Arc::new(config),
            cipher,
            apps,
            events,
            sends,
            sandbox,
            changes,
            streams: CancellationToken::new(),
            media,
            receipts,
            graph,
            template_syncs: Arc::new(Notify::new()),
            answers,
            admissions,
        })))
    }

    /// Runs the template syncs queued by admins and the schedule (see `Syncer::run`).
    pub fn template_syncer(&self) -> Syncer {
        Syncer {
            db: self.db.clone(),
            cipher: self.cipher.clone(),
            graph: self.graph.clone(),
            urls: self.config.graph_urls(),
        }
    }
}

/// Serves the request with the client's address on every audit entry it records.
async fn with_client_address(
    ClientAddress(address): ClientAddress,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    audit::from_client(address, next.run(request)).await
}

/// The Content-Security-Policy of every answer: nothing but this site's own files.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The application's router with its layers. Each part renders its errors for its own callers
/// ([`Surface`]): Meta's webhooks in JSON, the Meta-compatible endpoint (`/graph`) and the sandbox
/// (mounted only when `SANDBOX` is on) in Meta's envelope; anything else, and paths no route
/// serves, as an HTML page.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(inbox::router(state.clone()))
        .merge(crate::admin::router(state.clone()))
        .nest("/graph", crate::api::graph::router(state.clone()))
        .nest("/api/v1", crate::api::v1::router(state.clone()))
        .nest("/webhooks", webhook::router());
    if let Some(sandbox) = &state.sandbox {
        router = router.nest_service("/sandbox/graph", sandbox.router());
    }
    router
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            with_client_address,
        ))
        .layer(Surface::Html.layer())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str);
                tracing::info_span!("http", method = %request.method(), route)
            }),
        )
        // What every answer tells a browser: our own files only (no inline script or style, no
        // framing), no MIME sniffing, no referrer beyond this site.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}
