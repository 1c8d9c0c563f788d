//! Serving the router over TCP, hardened against clients that connect and stall. Each connection is
//! served by hyper in its own task, under a cap on how many are open at once (at the cap, the
//! longest-idle connection makes room for a new one: see `admission`), with deadlines for request
//! heads and for idling between requests (see `connection`). `serve` runs until its shutdown future
//! resolves, then stops accepting, lets requests in flight finish, closes idle connections, and
//! returns once every connection has ended.

mod activity;
mod admission;
mod connection;
mod open_files;

use std::{io, pin::pin, sync::Arc, time::Duration};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub use open_files::raise_open_file_limit;

use self::admission::Admission;

/// Connections served at once by default: far more than Meta's webhook deliveries need, and within
/// the memory an idle connection costs (a task and its buffers, a few kilobytes each).
const MAX_CONNECTIONS: usize = 4_096;
/// File descriptors kept free of connections for everything else: the database pool, outgoing
/// calls to Meta, logs.
const RESERVED_FILES: u64 = 128;
/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longer than the 60 s for which common proxies and load balancers keep an idle upstream
/// connection, so that they, not we, close it, and never send a request into one being closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// The pause after an accept fails for want of file descriptors (after closing an idle
/// connection to free one), so the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// How many connections are served at once and how long a client may stall.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once; at the cap, the longest-idle one is closed for each new one, and
    /// only when every connection has a request in flight do new ones wait. At least 1.
    pub max_connections: usize,
    /// How long a client may take to send a request head: from the accept for the first request,
    /// from its first byte for later ones on a keep-alive connection.
    pub header_read_timeout: Duration,
    /// How long a connection may wait between requests, after its first.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: MAX_CONNECTIONS,
            header_read_timeout: HEADER_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

impl ConnectionLimits {
    /// These limits with the cap lowered, if need be, so connections leave some of `open_files`
    /// file descriptors (the process's limit, if known) for everything else.
    pub fn within_open_files(self, open_files: Option<u64>) -> Self {
        let Some(open_files) = open_files else {
            return self;
        };
        let room = usize::try_from(open_files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
        Self {
            max_connections: self.max_connections.min(room).max(1),
            ..self
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; then stops accepting,
/// finishes the requests in flight, and returns when every connection has closed. Accept errors
/// are logged and retried, so this only returns on shutdown.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let builder = Arc::new(connection::builder());
    let admission = Admission::new(limits.max_connections.max(1));
    let draining = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    retry_accept(error, &admission).await;
                    continue;
                }
            },
        };
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = admission.admit() => slot,
        };
        connections.spawn(connection::serve_connection(
            stream,
            router.clone(),
            builder.clone(),
            slot,
            limits,
            draining.clone(),
        ));
    }
    // New clients are refused from here on; those already connected finish their requests.
    drop(listener);
    draining.cancel();
    connections.close();
    connections.wait().await;
}

/// Handles a failed accept: one client's failure is skipped; running out of file descriptors
/// closes the longest-idle connection to free one and pauses briefly.
async fn retry_accept(error: io::Error, admission: &Admission) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; closing an idle one and retrying");
    admission.close_longest_idle();
    tokio::time::sleep(ACCEPT_RETRY).await;
}
