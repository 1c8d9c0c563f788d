//! What one connection is doing, as far as its watchdog and the connection cap need to know: how
//! many requests are in flight, since when it has had none, when the head of its next request began
//! to arrive, and whether it has been asked to close. [`Watched`] notes arriving bytes; an
//! [`InFlight`] marks one request, from its parsed head until its response body is dropped (sent,
//! or abandoned), so a streaming response counts as busy for as long as it streams.

use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::Notify,
    time::Instant,
};

use super::{ConnectionLimits, admission::Idle};

/// One connection's activity, shared by its task, its requests and the connection cap.
pub(super) struct Activity {
    /// The connection's id under the cap.
    id: u64,
    state: Mutex<State>,
    /// Wakes the connection's watchdog: its deadline moved, or it was asked to close.
    changed: Notify,
    /// Shared by every connection: where it is filed while idle (and not closing), for the cap.
    idle: Arc<Idle>,
}

struct State {
    in_flight: usize,
    /// When the connection was accepted, or when its last response was done.
    idle_since: Instant,
    /// When the first byte after the last response arrived: a new request head has begun.
    head_since: Option<Instant>,
    /// Whether a request has been received: until then the connection is on its first head.
    served: bool,
    closing: bool,
}

impl State {
    /// Whether the connection is filed in [`Idle`]: idle and not asked to close.
    fn is_filed(&self) -> bool {
        self.in_flight == 0 && !self.closing
    }
}

impl Activity {
    /// A new connection, idle from now.
    pub(super) fn new(id: u64, idle: Arc<Idle>) -> Arc<Self> {
        let now = Instant::now();
        idle.insert(now, id);
        Arc::new(Self {
            id,
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: now,
                head_since: None,
                served: false,
                closing: false,
            }),
            changed: Notify::new(),
            idle,
        })
    }

    /// Marks a request as in flight until the returned guard is dropped.
    pub(super) fn begin_request(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        if state.is_filed() {
            self.idle.remove(state.idle_since, self.id);
        }
        state.in_flight += 1;
        state.served = true;
        state.head_since = None;
        InFlight(self.clone())
    }

    /// When the connection is to be closed if nothing happens before: `None` while a request is in
    /// flight. The first request's head must be complete within the header timeout of the accept;
    /// later, a connection may idle for the idle timeout, and a head must be complete within the
    /// header timeout of its first byte.
    pub(super) fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        Some(match (state.served, state.head_since) {
            (false, _) => state.idle_since + limits.header_read_timeout,
            (true, Some(head_since)) => head_since + limits.header_read_timeout,
            (true, None) => state.idle_since + limits.idle_timeout,
        })
    }

    pub(super) fn is_idle(&self) -> bool {
        self.state().in_flight == 0
    }

    /// Whether a request was ever received: if not, closing at once can lose no response.
    pub(super) fn has_served(&self) -> bool {
        self.state().served
    }

    /// Asks the connection to close: at once if idle, else after the requests in flight.
    pub(super) fn close(&self) {
        let mut state = self.state();
        if state.is_filed() {
            self.idle.remove(state.idle_since, self.id);
        }
        state.closing = true;
        drop(state);
        self.changed.notify_one();
    }

    /// Closes the connection if it has been idle since `since` (and is not closing yet): the cap's
    /// choice, made from [`Idle`], still holds. The cap took it out of [`Idle`] already.
    pub(super) fn close_if_idle_since(&self, since: Instant) -> bool {
        let mut state = self.state();
        if !state.is_filed() || state.idle_since != since {
            return false;
        }
        state.closing = true;
        drop(state);
        self.changed.notify_one();
        true
    }

    /// The connection has ended: it is no longer filed as idle.
    pub(super) fn ended(&self) {
        let state = self.state();
        if state.is_filed() {
            self.idle.remove(state.idle_since, self.id);
        }
    }

    pub(super) fn is_closing(&self) -> bool {
        self.state().closing
    }

    /// Resolves when the deadline may have moved or a close was asked for.
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }

    fn bytes_arrived(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.served && state.head_since.is_none() {
            state.head_since = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn end_request(&self) {
        let mut state = self.state();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            if !state.closing {
                self.idle.insert(state.idle_since, self.id);
            }
            drop(state);
            self.changed.notify_one();
            self.idle.notify_room();
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few counters and instants, valid whatever a panicking holder did.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request in flight; dropped with the response body, or with the handler if the client leaves.
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// The connection's socket, noting in its [`Activity`] when bytes arrive.
pub(super) struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    pub(super) fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Self { stream, activity }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
