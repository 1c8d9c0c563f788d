//! A webhook receiver in the benchmark's process: notes when each event arrived and how long after
//! it was made (its `created_at`), answers 200.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, routing::post};
use chrono::{DateTime, Utc};

/// What a receiver got.
#[derive(Clone, Default)]
pub struct Receiver(Arc<Mutex<Got>>);

#[derive(Default)]
struct Got {
    /// Event ids, once each.
    ids: HashSet<String>,
    /// Every arrival: when, and how long after the event was made.
    arrivals: Vec<(Instant, Duration)>,
}

impl Receiver {
    /// Serves on `listener`.
    pub fn serve(&self, listener: tokio::net::TcpListener) {
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
    }

    /// Distinct events received.
    pub fn distinct(&self) -> usize {
        self.0.lock().map(|got| got.ids.len()).unwrap_or(0)
    }

    /// Every arrival so far.
    pub fn arrivals(&self) -> Vec<(Instant, Duration)> {
        self.0
            .lock()
            .map(|got| got.arrivals.clone())
            .unwrap_or_default()
    }
}

async fn receive(State(receiver): State<Receiver>, body: Bytes) -> &'static str {
    let now = Instant::now();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let lag = event["created_at"]
        .as_str()
        .and_then(|at| at.parse::<DateTime<Utc>>().ok())
        .and_then(|at| (Utc::now() - at).to_std().ok())
        .unwrap_or_default();
    if let Ok(mut got) = receiver.0.lock() {
        got.ids
            .insert(event["id"].as_str().unwrap_or_default().to_owned());
        got.arrivals.push((now, lag));
    }
    "ok"
}
