//! The sandbox: a fake Graph API that answers like Meta's, for tests, benchmarks and sandbox
//! numbers. It sends messages (with Meta's success and error bodies, queued faults, the template
//! checks and the 24-hour rule), stores and serves media, lists and reviews templates, and reports
//! back the way Meta does: signed `messages` status webhooks and template status webhooks POSTed to
//! Switchboard's ordinary webhook endpoint. Its Meta-side state (media, queued faults, the webhooks
//! it has scheduled) lives in PostgreSQL, so several server processes can share it and a restart
//! loses nothing; only the call log is in memory. The webhooks are posted by a dispatcher that the
//! server (or a test) starts with [`FakeGraph::start_dispatcher`].

/// Playing a sandbox number's customer: inbound messages posted as Meta would post them.
pub mod customer;
mod dispatcher;
mod faults;
mod graph;
mod ids;
mod numbers;
/// Creating sandbox numbers.
pub mod provision;
pub mod webhook_queue;
mod webhooks;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::Duration,
};

use anyhow::Context;
use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use faults::{known_codes, queue_fault};

use crate::{
    crypto::Cipher,
    error::Surface,
    whatsapp::{envelope::MetaErrorCode, graph_request::is_version},
};
use dispatcher::Dispatcher;

/// How the fake reaches Switchboard and how it paces its status webhooks.
#[derive(Debug, Clone)]
pub struct FakeGraphConfig {
    /// Switchboard's base URL, where this fake's dispatcher POSTs status and template webhooks
    /// (`{url}/webhooks/whatsapp/{meta_app_id}`), whichever fake scheduled them.
    pub switchboard_url: String,
    /// Delays after a successful send for the `sent`, `delivered` and `read` webhooks (or for the
    /// `failed` one when the window is closed); `None` schedules no status webhooks (benchmarks).
    pub status_delays: Option<[Duration; 3]>,
    /// Base URL under which this fake is reachable (to build media download URLs), e.g.
    /// "http://127.0.0.1:4001" or "http://127.0.0.1:8080/sandbox/graph". Left empty,
    /// [`FakeGraph::spawn`] fills in the address it serves on.
    pub public_url: String,
    /// Serve sandbox numbers only. The fake embedded in the server sets it: a real number is Meta's
    /// business, and its token must never make the sandbox post statuses for it. Tests and
    /// benchmarks stand the fake in for Meta itself and serve every number.
    pub sandbox_only: bool,
}

/// One request the fake answered (introspection for tests and benchmarks).
#[derive(Debug, Clone)]
pub struct Call {
    /// When the request arrived (wall clock).
    pub at: DateTime<Utc>,
    /// `GET`, `POST`, `DELETE`…
    pub method: String,
    /// The path as the fake saw it (without the `/sandbox/graph` prefix when nested).
    pub path: String,
    /// Meta's `phone_number_id` for calls on a number (messages, media upload, number details).
    pub phone_number_id: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Meta's error `code` when the answer was an error body.
    pub error_code: Option<i64>,
}

/// The fake Graph API; cheap to clone (every clone shares the call log).
#[derive(Clone)]
pub struct FakeGraph(Arc<Inner>);

struct Inner {
    db: PgPool,
    cipher: Cipher,
    status_delays: Option<[Duration; 3]>,
    sandbox_only: bool,
    public_url: RwLock<String>,
    switchboard_url: String,
    calls: Mutex<VecDeque<Call>>,
}

/// The call log keeps this many of the latest calls, so an embedded fake cannot grow without bound.
const CALL_LOG_CAPACITY: usize = 100_000;

impl FakeGraph {
    /// A fake that reads and writes Switchboard's database; its dispatcher posts webhooks to
    /// `config.switchboard_url`.
    pub fn new(db: PgPool, cipher: Cipher, config: FakeGraphConfig) -> Self {
        Self(Arc::new(Inner {
            db,
            cipher,
            status_delays: config.status_delays,
            sandbox_only: config.sandbox_only,
            public_url: RwLock::new(config.public_url.trim_end_matches('/').to_owned()),
            switchboard_url: config.switchboard_url,
            calls: Mutex::default(),
        }))
    }

    /// The fake's routes, to serve alone or nest under `/sandbox/graph` (with `nest_service`).
    /// Every error answers in Meta's envelope, a request the extractors cannot read included.
    pub fn router(&self) -> Router {
        graph::routes()
            .layer(Surface::Meta.layer())
            .layer(middleware::from_fn_with_state(self.clone(), record_call))
            .with_state(self.clone())
    }

    /// Serves on 127.0.0.1:0 in the background; returns the base URL (tests, benchmarks). The
    /// webhooks it schedules wait for a dispatcher ([`FakeGraph::start_dispatcher`]).
    pub async fn spawn(self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("bind the fake Graph API")?;
        let url = format!("http://{}", listener.local_addr().context("local address")?);
        {
            let mut public_url = self
                .0
                .public_url
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if public_url.is_empty() {
                *public_url = url.clone();
            }
        }
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(error = ?error, "the fake Graph API stopped");
            }
        });
        Ok(url)
    }

    /// Starts posting scheduled webhooks (this fake's, another instance's, or left by a stopped
    /// process) to Switchboard as they come due, until `shutdown`; the task ends once the posts in
    /// flight are recorded. Several dispatchers, in one process or many, share the work.
    pub fn start_dispatcher(&self, shutdown: CancellationToken) -> anyhow::Result<JoinHandle<()>> {
        let dispatcher = Dispatcher::new(
            self.0.db.clone(),
            self.0.cipher.clone(),
            &self.0.switchboard_url,
        )?;
        Ok(tokio::spawn(dispatcher.run(shutdown)))
    }

    /// Every call received so far, oldest first (introspection for tests and benchmarks); only the
    /// latest 100 000 are kept.
    pub fn calls(&self) -> Vec<Call> {
        let calls = self.0.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().cloned().collect()
    }

    fn db(&self) -> &PgPool {
        &self.0.db
    }

    fn cipher(&self) -> &Cipher {
        &self.0.cipher
    }

    fn sandbox_only(&self) -> bool {
        self.0.sandbox_only
    }

    fn status_delays(&self) -> Option<[Duration; 3]> {
        self.0.status_delays
    }

    fn public_url(&self) -> String {
        self.0
            .public_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Marks a response as being about a phone number (for the call log), when the path alone does not
/// say so (`GET /{version}/{id}` may name a media object or a number).
#[derive(Debug, Clone)]
struct PhoneNumberCall(String);

/// Appends every request and its outcome to the call log.
async fn record_call(State(fake): State<FakeGraph>, request: Request, next: Next) -> Response {
    let at = Utc::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let phone_number_id = response
        .extensions()
        .get::<PhoneNumberCall>()
        .map(|number| number.0.clone())
        .or_else(|| number_in_path(&path));
    let call = Call {
        at,
        method,
        path,
        phone_number_id,
        status: response.status().as_u16(),
        error_code: response
            .extensions()
            .get::<MetaErrorCode>()
            .map(|code| code.0),
    };
    let mut calls = fake.0.calls.lock().unwrap_or_else(PoisonError::into_inner);
    if calls.len() == CALL_LOG_CAPACITY {
        calls.pop_front();
    }
    calls.push_back(call);
    drop(calls);
    response
}

/// The number in `/{version}/{phone_number_id}/messages` and `/{version}/{phone_number_id}/media`.
fn number_in_path(path: &str) -> Option<String> {
    match path.trim_matches('/').split('/').collect::<Vec<_>>()[..] {
        [version, id, "messages" | "media"] if is_version(version) => Some(id.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_log_names_the_number_of_send_and_upload_paths_only() {
        assert_eq!(
            number_in_path("/v23.0/1122/messages").as_deref(),
            Some("1122")
        );
        assert_eq!(number_in_path("/v19.0/1122/media").as_deref(), Some("1122"));
        assert_eq!(number_in_path("/v23.0/1122/message_templates"), None);
        assert_eq!(number_in_path("/media/1122"), None);
        assert_eq!(number_in_path("/latest/1122/messages"), None);
    }
}
