//! Outbound webhooks: what happens in a tenant reaches its endpoints, signed, at least once, in
//! order per conversation, retried, never to a private address; a receiver that is down loses
//! nothing; the console registers endpoints and shows their deliveries.

mod console;
mod delivery;
mod events;
mod sdk_verifiers;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use secrecy::ExposeSecret;
use switchboard::{
    domain::{
        ids::WebhookEndpointId,
        webhook_endpoints::{self, Format, NewEndpoint},
    },
    outbound_webhooks::Deliverer,
};

pub use crate::helpers::{inbox::*, *};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A local receiver: records what it gets, answers the statuses queued (200 when none).
#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    /// Held (written) while answers must wait.
    gate: Arc<tokio::sync::RwLock<()>>,
}

impl Receiver {
    /// Serves on a free port of 127.0.0.1; returns its URL.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        self.serve(listener);
        url
    }

    /// Serves on `listener`.
    pub fn serve(&self, listener: tokio::net::TcpListener) {
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
    }

    /// The next requests are answered these statuses.
    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    /// Requests are recorded but not answered until the guard is dropped.
    pub fn hold(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.gate.clone().try_write_owned().unwrap()
    }

    pub fn got(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The `type` of each event received, in order.
    pub fn types(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    receiver
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    drop(receiver.gate.read().await);
    let status = receiver.answers.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(status).unwrap(), "thanks")
}

/// Registers an endpoint of the app's tenant; returns it and its secret.
pub async fn endpoint(
    app: &TestApp,
    url: &str,
    format: Format,
    events: &[&str],
) -> (WebhookEndpointId, String) {
    let mut conn = app.pool.acquire().await.unwrap();
    let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
    let new = NewEndpoint {
        url,
        format,
        events: &events,
    };
    let created =
        webhook_endpoints::create(&mut conn, &app.config.cipher(), app.tenant_id, None, &new)
            .await
            .unwrap()
            .unwrap();
    (created.id, created.secret.expose_secret().to_owned())
}

/// The app's deliverer, allowed to reach 127.0.0.1.
pub fn deliverer(app: &TestApp) -> Deliverer {
    Deliverer::new(
        app.pool.clone(),
        app.config.cipher(),
        &app.config.webhook_allowed_hosts,
        Duration::from_secs(86_400),
    )
    .unwrap()
}

/// Delivers until nothing is due.
pub async fn deliver_all(deliverer: &Deliverer) {
    while deliverer.deliver_due().await.unwrap() > 0 {}
}

/// Makes every delivery waiting for its retry due now, and every endpoint's pause over (instead
/// of waiting for the retry).
pub async fn retry_now(app: &TestApp) {
    sqlx::query(
        "update webhook_deliveries set next_attempt_at = now()
         where state = 'pending' and next_attempt_at <> 'infinity'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("update webhook_endpoints set backoff_until = null")
        .execute(&app.pool)
        .await
        .unwrap();
}
