//! Prometheus metrics: counters and histograms recorded where things happen (webhooks, sends,
//! Graph calls, live streams), and the process's exporter that renders them for `GET /metrics`.
//! Gauges that describe the database (backlogs, queue depth, lag) are read when scraped, so every
//! instance reports the same shared state (see `http::metrics`).

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Webhook POSTs by outcome (`accepted`, `bad_signature`, `unknown_app`, `unavailable`, `error`).
pub const WEBHOOK_REQUESTS: &str = "switchboard_webhook_requests_total";
/// From a webhook's arrival to its 200 (stored durably), in seconds.
pub const WEBHOOK_ACCEPT_SECONDS: &str = "switchboard_webhook_accept_seconds";
/// Sends by outcome (`sent`, `failed`, `unknown`, `retrying`) and Meta's error code (or `none`).
pub const SENDS: &str = "switchboard_sends_total";
/// Graph API calls by outcome (`ok`, `error`, `unreachable`, `ambiguous`, `unreadable`), in
/// seconds.
pub const GRAPH_CALL_SECONDS: &str = "switchboard_graph_call_seconds";
/// Live-update streams open in this process.
pub const SSE_CLIENTS: &str = "switchboard_sse_clients";

/// Histogram buckets, in seconds: from a fast webhook's accept to a slow Graph call.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's exporter, installed as the global recorder on first use (once per process; the
/// tests' many servers share it). The server calls it before starting its workers: metrics
/// recorded before it are lost.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed first only in tests of other crates; then the
        // handle renders nothing, which those tests do not read.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// A webhook POST's outcome and, when accepted, how long it took.
pub fn webhook_request(outcome: &'static str, took: Duration) {
    metrics::counter!(WEBHOOK_REQUESTS, "outcome" => outcome).increment(1);
    if outcome == "accepted" {
        metrics::histogram!(WEBHOOK_ACCEPT_SECONDS).record(took.as_secs_f64());
    }
}

/// `count` sends with the same outcome, with Meta's error code when they failed.
pub fn sends(outcome: &'static str, code: Option<i64>, count: u64) {
    let code = code.map_or_else(|| "none".to_owned(), |code| code.to_string());
    metrics::counter!(SENDS, "outcome" => outcome, "code" => code).increment(count);
}

/// A Graph API call's outcome and duration.
pub fn graph_call(outcome: &'static str, took: Duration) {
    metrics::histogram!(GRAPH_CALL_SECONDS, "outcome" => outcome).record(took.as_secs_f64());
}

/// A live-update stream opened (`1.0`) or closed (`-1.0`).
pub fn sse_clients(change: f64) {
    metrics::gauge!(SSE_CLIENTS).increment(change);
}
