//! The fake Graph API standing in for Meta, in this process: the crate's own `FakeGraph` (no status
//! webhooks, every number served), with one extra layer in front that notes when each send arrived
//! and which message it carried. The fake's call log knows the number and the arrival time but not
//! the message; the benchmark writes each message's idempotency key into its text, so this layer
//! ties every Graph call to its message row exactly.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use anyhow::Context;
use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use switchboard::{
    crypto::Cipher,
    sandbox::{Call, FakeGraph, FakeGraphConfig},
};
use tokio_util::sync::CancellationToken;

/// The text of every benchmark message starts with this, followed by its idempotency key.
pub const TEXT_PREFIX: &str = "bench ";
/// Far above any text message; the fake itself accepts up to Meta's limits.
const MAX_BODY: usize = 64 * 1024;

/// The running fake and what it saw.
pub struct Fake {
    pub url: String,
    graph: FakeGraph,
    arrivals: Arrivals,
    stop: CancellationToken,
}

/// When each message (by idempotency key) reached the fake; several times if it was sent again.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<HashMap<String, Vec<DateTime<Utc>>>>>);

impl Fake {
    /// Serves the fake on a free loopback port; its database work goes through `db`.
    pub async fn start(db: PgPool, cipher: Cipher) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("bind the fake Graph API")?;
        let url = format!("http://{}", listener.local_addr().context("local address")?);
        let graph = FakeGraph::new(
            db,
            cipher,
            FakeGraphConfig {
                // Never called: without status delays the fake posts no webhooks.
                switchboard_url: "http://127.0.0.1:9".into(),
                status_delays: None,
                public_url: url.clone(),
                sandbox_only: false,
            },
        );
        let arrivals = Arrivals::default();
        let router = graph.router().layer(middleware::from_fn_with_state(
            arrivals.clone(),
            note_arrival,
        ));
        let stop = CancellationToken::new();
        let server =
            axum::serve(listener, router).with_graceful_shutdown(stop.clone().cancelled_owned());
        tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::error!(error = ?error, "the fake Graph API stopped");
            }
        });
        Ok(Self {
            url,
            graph,
            arrivals,
            stop,
        })
    }

    /// Every call in the fake's own log (the latest 100 000).
    pub fn calls(&self) -> Vec<Call> {
        self.graph.calls()
    }

    /// When each message reached the fake, by idempotency key.
    pub fn arrivals(&self) -> HashMap<String, Vec<DateTime<Utc>>> {
        self.arrivals
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops serving (idle connections close; the worker is stopped first).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Notes the arrival time and the message's key, then hands the request on unchanged.
async fn note_arrival(State(arrivals): State<Arrivals>, request: Request, next: Next) -> Response {
    let at = Utc::now();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Some(key) = key_in(&bytes) {
        let mut arrivals = arrivals.0.lock().unwrap_or_else(PoisonError::into_inner);
        arrivals.entry(key).or_default().push(at);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The idempotency key in a benchmark text message's body.
fn key_in(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = value.get("text")?.get("body")?.as_str()?;
    text.strip_prefix(TEXT_PREFIX).map(str::to_owned)
}
