//! The server's connections, over real TCP: clients that stall or idle are closed, stalled clients
//! cannot crowd out a real webhook, the cap never cuts off a request in flight, and shutting down
//! finishes requests in flight without waiting for stalled clients.

use std::{sync::Arc, time::Duration};

use axum::{Router, http::StatusCode, routing::get};
use sqlx::PgPool;
use switchboard::http::serve::{self, ConnectionLimits};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Notify,
};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

/// How long a test waits for something that should happen at once or after a short timeout.
const GUARD: Duration = Duration::from_secs(5);

/// The start of a webhook request that never finishes its headers.
const HALF_A_HEAD: &[u8] =
    b"POST /webhooks/whatsapp/1234567890 HTTP/1.1\r\nHost: switchboard.test\r\nContent-Le";

/// Deadlines short enough for a test to see them pass.
fn short_deadlines() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    }
}

async fn connect(url: &str) -> TcpStream {
    TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .expect("connect to the server")
}

/// Reads until the server closes the connection, and returns what it sent; fails the test if the
/// connection stays open for [`GUARD`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read_all = async {
        let mut buffer = [0; 4096];
        // A reset counts as closed, as a clean end of stream does.
        while let Ok(read @ 1..) = stream.read(&mut buffer).await {
            received.extend_from_slice(&buffer[..read]);
        }
    };
    tokio::time::timeout(GUARD, read_all)
        .await
        .expect("the server closes the connection");
    received
}

#[sqlx::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout(pool: PgPool) {
    let app = TestApp::with_limits(pool, short_deadlines()).await;
    let mut silent = connect(&app.url).await;
    assert_eq!(read_until_closed(&mut silent).await, b"");
}

#[sqlx::test]
async fn a_connection_that_stops_halfway_through_its_headers_is_closed(pool: PgPool) {
    let app = TestApp::with_limits(pool, short_deadlines()).await;
    let mut stalled = connect(&app.url).await;
    stalled.write_all(HALF_A_HEAD).await.unwrap();
    read_until_closed(&mut stalled).await;
}

#[sqlx::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_request_is_answered(pool: PgPool) {
    let app = TestApp::with_limits(pool, short_deadlines()).await;
    let mut client = connect(&app.url).await;
    assert!(
        get_health(&mut client)
            .await
            .starts_with(b"HTTP/1.1 200 OK\r\n")
    );
    assert_eq!(read_until_closed(&mut client).await, b"");
}

#[sqlx::test]
async fn a_keep_alive_connection_may_idle_longer_than_the_header_timeout(pool: PgPool) {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(100),
        idle_timeout: GUARD,
        ..ConnectionLimits::default()
    };
    let app = TestApp::with_limits(pool, limits).await;
    let mut client = connect(&app.url).await;
    assert!(
        get_health(&mut client)
            .await
            .starts_with(b"HTTP/1.1 200 OK\r\n")
    );
    // Idle for several header timeouts: a proxy reusing the connection must not find it closed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        get_health(&mut client)
            .await
            .starts_with(b"HTTP/1.1 200 OK\r\n")
    );
}

#[sqlx::test]
async fn a_later_request_on_a_keep_alive_connection_must_finish_its_headers_in_time(pool: PgPool) {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_secs(60),
        ..ConnectionLimits::default()
    };
    let app = TestApp::with_limits(pool, limits).await;
    let mut client = connect(&app.url).await;
    assert!(
        get_health(&mut client)
            .await
            .starts_with(b"HTTP/1.1 200 OK\r\n")
    );
    client.write_all(HALF_A_HEAD).await.unwrap();
    assert_eq!(read_until_closed(&mut client).await, b"");
}

/// Sends `GET /healthz` on `stream` and reads one whole response (head and body).
async fn get_health(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: switchboard.test\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the server closed the connection");
        response.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .and_then(|length| length.parse::<usize>().ok())
                .expect("a content-length");
            if body.len() >= length {
                return response;
            }
        }
    }
}

#[sqlx::test]
async fn a_signed_webhook_is_answered_while_a_thousand_connections_stall(pool: PgPool) {
    // Default deadlines, so nothing times out during the test; a cap below the stalled count, so
    // new connections get in by closing stalled ones.
    let limits = ConnectionLimits {
        max_connections: 500,
        ..ConnectionLimits::default()
    };
    let app = TestApp::with_limits(pool, limits).await;
    let mut stalled = Vec::with_capacity(1_000);
    for i in 0..1_000 {
        let mut stream = connect(&app.url).await;
        if i % 2 == 1 {
            stream.write_all(HALF_A_HEAD).await.unwrap();
        }
        stalled.push(stream);
    }

    let body = messages_webhook(vec![text("wamid.1", 1_700_000_000, "hi")], vec![]);
    assert_eq!(app.post_signed_over_http(body).await, StatusCode::OK);

    assert_eq!(
        app.scalar::<i64>("select count(*) from webhook_events")
            .await,
        1
    );
    // The longest-stalled client was closed to make room.
    read_until_closed(&mut stalled[0]).await;
}

/// A router whose `/hold` answers only when `release` is notified, after notifying `entered`.
fn holding_router(entered: Arc<Notify>, release: Arc<Notify>) -> Router {
    Router::new()
        .route(
            "/hold",
            get(move || {
                let (entered, release) = (entered.clone(), release.clone());
                async move {
                    entered.notify_one();
                    release.notified().await;
                    "held"
                }
            }),
        )
        .route("/quick", get(|| async { "quick" }))
}

/// Serves `router` on a free port until `shutdown` is cancelled; returns its URL and its task.
async fn spawn_server(
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> (String, tokio::task::JoinHandle<()>) {
    serve::raise_open_file_limit();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve::serve(
        listener,
        router,
        limits,
        shutdown.cancelled_owned(),
    ));
    (url, server)
}

async fn get_text(url: String) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(GUARD)
        .send()
        .await
        .expect("an answer");
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn at_the_cap_a_request_in_flight_is_answered_before_its_connection_makes_room() {
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let limits = ConnectionLimits {
        max_connections: 1,
        ..ConnectionLimits::default()
    };
    let shutdown = CancellationToken::new();
    let (url, _server) = spawn_server(
        holding_router(entered.clone(), release.clone()),
        limits,
        shutdown.clone(),
    )
    .await;
    let held = tokio::spawn(get_text(format!("{url}/hold")));
    entered.notified().await;

    let quick = tokio::spawn(get_text(format!("{url}/quick")));
    release.notify_one();

    assert_eq!(held.await.unwrap(), (StatusCode::OK, "held".into()));
    assert_eq!(quick.await.unwrap(), (StatusCode::OK, "quick".into()));
    shutdown.cancel();
}

#[tokio::test]
async fn shutting_down_finishes_requests_in_flight_without_waiting_for_stalled_clients() {
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let shutdown = CancellationToken::new();
    let (url, server) = spawn_server(
        holding_router(entered.clone(), release.clone()),
        ConnectionLimits::default(),
        shutdown.clone(),
    )
    .await;
    let mut stalled = connect(&url).await;
    stalled.write_all(HALF_A_HEAD).await.unwrap();
    let held = tokio::spawn(get_text(format!("{url}/hold")));
    entered.notified().await;

    shutdown.cancel();
    // New clients are refused once the server has stopped accepting.
    tokio::time::timeout(GUARD, async {
        while TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .is_ok()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("new connections are refused");
    release.notify_one();

    assert_eq!(held.await.unwrap(), (StatusCode::OK, "held".into()));
    tokio::time::timeout(GUARD, server)
        .await
        .expect("the server stops without waiting for the stalled client")
        .unwrap();
    read_until_closed(&mut stalled).await;
}

#[tokio::test]
async fn the_apps_database_connections_run_without_jit() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test server");
    let pool = switchboard::db::connect(&url).await.unwrap();
    let jit: String = sqlx::query_scalar("show jit")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jit, "off");
}
