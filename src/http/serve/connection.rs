//! One connection: hyper serves it (HTTP/1.1, or HTTP/2 when the client opens with its preface)
//! while a watchdog in the same task closes it when it stalls or idles past its deadline (see
//! [`Activity::deadline`]), or when the cap needs its slot or the server is shutting down. A request
//! in flight is never cut off: such a connection is shut down gracefully, after its response.

use std::{convert::Infallible, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    http::{Request, Response},
};
use http_body::{Frame, SizeHint};
use hyper::{body::Incoming, service::Service, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{net::TcpStream, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{
    ConnectionLimits,
    activity::{Activity, InFlight, Watched},
    admission::Slot,
};

/// How long a connection that has answered requests may take to finish a graceful close once it is
/// idle (flushing its last response, an HTTP/2 GOAWAY) before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The protocol settings shared by every connection.
pub(super) fn builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's HTTP/1 header timer starts when it begins waiting for a head, so on a keep-alive
    // connection it would also cut idle time down to the header timeout; and it never sees a
    // connection that has sent nothing yet (still being sniffed for the HTTP/2 preface). The
    // watchdog enforces both limits instead, for HTTP/2 as well.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// Serves `stream` until the client leaves or the watchdog closes it; the slot is freed on return.
pub(super) async fn serve_connection(
    stream: TcpStream,
    router: Router,
    builder: Arc<Builder<TokioExecutor>>,
    slot: Slot,
    limits: ConnectionLimits,
    draining: CancellationToken,
) {
    let activity = slot.activity().clone();
    let peer = stream.peer_addr().ok();
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
    let io = TokioIo::new(Watched::new(stream, activity.clone()));
    let mut connection =
        pin!(builder.serve_connection(io, tracked(router, activity.clone(), peer)));
    let mut shutting_down = false;
    let mut grace_ends: Option<Instant> = None;
    loop {
        let deadline = activity
            .deadline(&limits)
            .into_iter()
            .chain(grace_ends)
            .min();
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(deadline) => {}
            () = activity.changed() => {}
            () = draining.cancelled(), if !activity.is_closing() => activity.close(),
        }
        let now = Instant::now();
        if activity.deadline(&limits).is_some_and(|at| now >= at) {
            tracing::debug!(
                served = activity.has_served(),
                "closing a connection that stalled or idled"
            );
            return;
        }
        if !activity.is_closing() {
            continue;
        }
        if activity.is_idle() && !activity.has_served() {
            // No request was ever received: there is no response to lose.
            return;
        }
        if !shutting_down {
            connection.as_mut().graceful_shutdown();
            shutting_down = true;
        }
        if activity.is_idle() {
            let grace = *grace_ends.get_or_insert(now + CLOSE_GRACE);
            if now >= grace {
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The router as a hyper service whose requests are tracked in `activity` until their response
/// body is dropped, and carry the client's address (`ConnectInfo`) when known.
fn tracked(
    router: Router,
    activity: Arc<Activity>,
    peer: Option<SocketAddr>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<UntilSent>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    let app = TowerToHyperService::new(router);
    service_fn(move |mut request: Request<Incoming>| {
        if let Some(peer) = peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let in_flight = activity.begin_request();
        let response = app.call(request);
        async move {
            let response = response.await?;
            Ok(response.map(|body| UntilSent {
                body,
                _in_flight: in_flight,
            }))
        }
    })
}

/// A response body that keeps its request in flight until it is sent or abandoned.
pub(super) struct UntilSent {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for UntilSent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
