//! The fake's webhooks are rows in `sandbox_webhooks` until they are posted: they survive a
//! restart, several dispatchers share them (each posted once), a message's statuses arrive in order
//! even when one is retried, and a failing endpoint is retried, then given up with the error kept.
//! An empty queue lets the dispatcher sleep.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde_json::Value;
use sqlx::PgPool;
use switchboard::http::extract::Json;
use switchboard::sandbox::{FakeGraph, FakeGraphConfig, webhook_queue};
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;

use super::{Meta, STATUS_COUNT, STRANGER, wamid};
use crate::helpers::*;

#[sqlx::test]
async fn an_empty_queue_has_nothing_due_so_the_dispatcher_sleeps(pool: PgPool) {
    let meta = Meta::idle(pool, Some(millis([20, 40, 60])), None).await;
    // Nothing scheduled: nothing due (an empty queue once read as "due now", and the dispatcher
    // claimed nothing a hundred times a second).
    assert_eq!(webhook_queue::next_due(&meta.app.pool).await.unwrap(), None);
    meta.customer_wrote(1).await;
    meta.send_text(CUSTOMER).await;
    let due = webhook_queue::next_due(&meta.app.pool).await.unwrap();
    assert!(
        due.is_some_and(|d| d <= Duration::from_millis(20)),
        "{due:?}"
    );
}

const SENT: &str = "select count(*) from sandbox_webhooks where series = $1 and state = 'sent'";

#[sqlx::test]
async fn scheduled_statuses_are_rows_until_a_dispatcher_posts_them(pool: PgPool) {
    let meta = Meta::idle(pool, Some(millis([20, 40, 60])), None).await;
    meta.customer_wrote(1).await;

    let (_, body) = meta.send_text(CUSTOMER).await;
    let wamid = wamid(&body);

    let pending = scheduled(&meta, &wamid).await;
    assert_eq!(kinds(&pending), ["sent", "delivered", "read"]);
    assert!(
        pending
            .iter()
            .all(|w| w.state == "pending" && w.attempts == 0)
    );
    sleep(Duration::from_millis(150)).await;
    meta.app.apply().await;
    assert!(meta.statuses(&wamid).await.is_empty(), "none posted yet");

    meta.fake.start_dispatcher(meta.app.shutdown()).unwrap();
    meta.wait_for(SENT, &wamid, 3).await;
    meta.wait_for(STATUS_COUNT, &wamid, 3).await;
    let posted = scheduled(&meta, &wamid).await;
    assert!(posted.iter().all(|w| w.state == "sent" && w.attempts == 1));
    assert!(posted.is_sorted_by_key(|w| w.sent_at), "posted in order");
    assert_eq!(received(&meta, &wamid).await, ["sent", "delivered", "read"]);
}

#[sqlx::test]
async fn a_webhook_scheduled_before_a_restart_is_posted_by_the_next_dispatcher(pool: PgPool) {
    // Due well after the first dispatcher stops, even on a busy machine.
    let meta = Meta::idle(pool, Some(millis([500, 550, 600])), None).await;
    let stop = CancellationToken::new();
    let first = meta.fake.start_dispatcher(stop.clone()).unwrap();
    meta.customer_wrote(1).await;
    let (_, body) = meta.send_text(CUSTOMER).await;
    let wamid = wamid(&body);

    stop.cancel();
    first.await.unwrap();
    sleep(Duration::from_millis(700)).await;
    meta.app.apply().await;
    assert!(
        meta.statuses(&wamid).await.is_empty(),
        "due, but nobody posts"
    );

    // Another process over the same database, as after a restart.
    another_fake(&meta)
        .start_dispatcher(meta.app.shutdown())
        .unwrap();
    meta.wait_for(SENT, &wamid, 3).await;
    meta.wait_for(STATUS_COUNT, &wamid, 3).await;
    assert_eq!(received(&meta, &wamid).await, ["sent", "delivered", "read"]);
}

#[sqlx::test]
async fn two_dispatchers_at_once_post_each_webhook_once(pool: PgPool) {
    let meta = Meta::idle(pool, Some(millis([0, 5, 10])), None).await;
    meta.customer_wrote(1).await;
    let before: i64 = meta.app.scalar("select count(*) from webhook_events").await;
    meta.fake.start_dispatcher(meta.app.shutdown()).unwrap();
    another_fake(&meta)
        .start_dispatcher(meta.app.shutdown())
        .unwrap();

    let mut wamids = Vec::new();
    for _ in 0..20 {
        wamids.push(wamid(&meta.send_text(CUSTOMER).await.1));
    }

    for wamid in &wamids {
        meta.wait_for(SENT, wamid, 3).await;
    }
    let after: i64 = meta.app.scalar("select count(*) from webhook_events").await;
    assert_eq!(
        after - before,
        60,
        "three statuses per message, each posted once"
    );
    for wamid in &wamids {
        meta.wait_for(STATUS_COUNT, wamid, 3).await;
        assert_eq!(received(&meta, wamid).await, ["sent", "delivered", "read"]);
    }
}

#[sqlx::test]
async fn a_failing_endpoint_is_retried_then_given_up_with_the_error(pool: PgPool) {
    let endpoint = Endpoint::start(usize::MAX).await;
    let meta = Meta::idle(pool, Some(millis([0, 0, 0])), Some(&endpoint.url)).await;
    meta.fake.start_dispatcher(meta.app.shutdown()).unwrap();

    // Never wrote: one `failed` status.
    let (_, body) = meta.send_text(STRANGER).await;
    let wamid = wamid(&body);

    let given_up = "select count(*) from sandbox_webhooks where series = $1 and state = 'given_up'";
    meta.wait_for(given_up, &wamid, 1).await;
    let (attempts, error): (i32, String) =
        sqlx::query_as("select attempts, last_error from sandbox_webhooks where series = $1")
            .bind(&wamid)
            .fetch_one(&meta.app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, 5);
    assert_eq!(error, "Switchboard answered 503 Service Unavailable");
    assert_eq!(endpoint.answers(), vec![("failed".to_owned(), 503); 5]);
}

#[sqlx::test]
async fn a_retried_status_still_arrives_before_the_later_ones(pool: PgPool) {
    let endpoint = Endpoint::start(2).await;
    let meta = Meta::idle(pool, Some(millis([0, 0, 0])), Some(&endpoint.url)).await;
    meta.fake.start_dispatcher(meta.app.shutdown()).unwrap();
    meta.customer_wrote(1).await;

    let (_, body) = meta.send_text(CUSTOMER).await;
    let wamid = wamid(&body);

    meta.wait_for(SENT, &wamid, 3).await;
    let answers = endpoint.answers();
    let answers: Vec<(&str, u16)> = answers.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    assert_eq!(
        answers,
        [
            ("sent", 503),
            ("sent", 503),
            ("sent", 200),
            ("delivered", 200),
            ("read", 200)
        ]
    );
}

fn millis(delays: [u64; 3]) -> [Duration; 3] {
    delays.map(Duration::from_millis)
}

/// Another fake over the test's database, as another process (or a restarted one) runs it.
fn another_fake(meta: &Meta) -> FakeGraph {
    let config = FakeGraphConfig {
        switchboard_url: meta.app.url.clone(),
        status_delays: None,
        public_url: String::new(),
        sandbox_only: false,
    };
    FakeGraph::new(
        meta.app.pool.clone(),
        meta.app.config.secret_key.cipher(),
        config,
    )
}

/// A scheduled webhook as the test sees it.
#[derive(sqlx::FromRow)]
struct Webhook {
    state: String,
    status: String,
    attempts: i32,
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The status webhooks scheduled for a message, in series order.
async fn scheduled(meta: &Meta, wamid: &str) -> Vec<Webhook> {
    sqlx::query_as(
        "select state, body #>> '{entry,0,changes,0,value,statuses,0,status}' as status,
                attempts, sent_at
         from sandbox_webhooks where series = $1 order by id",
    )
    .bind(wamid)
    .fetch_all(&meta.app.pool)
    .await
    .unwrap()
}

fn kinds(webhooks: &[Webhook]) -> Vec<&str> {
    webhooks.iter().map(|w| w.status.as_str()).collect()
}

/// The statuses Switchboard stored for a message, in the order they arrived.
async fn received(meta: &Meta, wamid: &str) -> Vec<String> {
    let statuses = meta.statuses(wamid).await;
    statuses.into_iter().map(|(status, ..)| status).collect()
}

/// A stand-in for Switchboard's webhook endpoint: answers 503 to the first `failures` POSTs and 200
/// after that, noting the status each carried and the answer.
struct Endpoint {
    url: String,
    answers: Arc<Mutex<Vec<(String, u16)>>>,
}

impl Endpoint {
    async fn start(failures: usize) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new()
            .route("/webhooks/whatsapp/{app_id}", post(answer))
            .with_state((answers.clone(), failures));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, answers }
    }

    fn answers(&self) -> Vec<(String, u16)> {
        self.answers.lock().unwrap().clone()
    }
}

type Answers = (Arc<Mutex<Vec<(String, u16)>>>, usize);

async fn answer(State((answers, failures)): State<Answers>, Json(body): Json<Value>) -> StatusCode {
    let status = &body["entry"][0]["changes"][0]["value"]["statuses"][0]["status"];
    let mut answers = answers.lock().unwrap();
    let code = if answers.len() < failures {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    answers.push((
        status.as_str().unwrap_or_default().to_owned(),
        code.as_u16(),
    ));
    code
}
