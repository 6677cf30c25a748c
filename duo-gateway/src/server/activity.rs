//! [`Activity`]: what one client connection is doing, so that its watchdog can close it when it
//! sends headers too slowly or sits idle too long.
//!
//! A connection is *in flight* from the moment a request's headers are parsed until both its
//! response and its request body are done with; otherwise it is *waiting*. A waiting connection
//! may take `header_read` from accepting (a new connection) or from the first byte of its next
//! request (a kept-alive one) to send the headers, and `keep_alive` without sending a byte.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The timeouts of a waiting connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitLimits {
    /// To send a request's headers.
    pub(crate) header_read: Duration,
    /// Idle between requests.
    pub(crate) keep_alive: Duration,
}

/// One connection's state, shared by its I/O, its requests and its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    state: Mutex<State>,
    /// Set while waiting with no byte of the next request seen: the next read records one.
    awaiting_byte: AtomicBool,
    changed: Notify,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// When the connection started waiting (accepted, or its last request was done with).
    waiting_since: Instant,
    /// The first byte read since then.
    first_byte: Option<Instant>,
    /// Whether a request has been served: a new connection gets `header_read`, not `keep_alive`.
    served: bool,
}

impl Activity {
    /// A connection accepted now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                in_flight: 0,
                waiting_since: Instant::now(),
                first_byte: None,
                served: false,
            }),
            awaiting_byte: AtomicBool::new(false),
            changed: Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the watchdog should close the connection, if nothing changes; `None` in flight.
    pub(crate) fn deadline(&self, limits: WaitLimits) -> Option<Instant> {
        let s = self.state();
        if s.in_flight > 0 {
            return None;
        }
        Some(match (s.served, s.first_byte) {
            (false, _) => s.waiting_since + limits.header_read,
            (true, Some(first)) => first + limits.header_read,
            (true, None) => s.waiting_since + limits.keep_alive,
        })
    }

    /// Completes when the state changed (a request began or ended, a first byte arrived).
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Marks a request as in flight until the returned guard (and its clones) are dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Arc<InFlight> {
        {
            let mut s = self.state();
            s.in_flight += 1;
            s.first_byte = None;
        }
        self.awaiting_byte.store(false, Ordering::Relaxed);
        self.changed.notify_one();
        Arc::new(InFlight(Arc::clone(self)))
    }

    fn end(&self) {
        {
            let mut s = self.state();
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight > 0 {
                return;
            }
            s.waiting_since = Instant::now();
            s.first_byte = None;
            s.served = true;
        }
        self.awaiting_byte.store(true, Ordering::Relaxed);
        self.changed.notify_one();
    }

    fn saw_bytes(&self) {
        if !self.awaiting_byte.swap(false, Ordering::Relaxed) {
            return;
        }
        {
            let mut s = self.state();
            if s.in_flight > 0 || s.first_byte.is_some() {
                return;
            }
            s.first_byte = Some(Instant::now());
        }
        self.changed.notify_one();
    }
}

/// Held by a request's body and its response; the request is done with when all are dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A socket that tells its [`Activity`] when bytes of a next request arrive.
#[derive(Debug)]
pub(crate) struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    /// `inner`, reporting reads to `activity`.
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.saw_bytes();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: WaitLimits = WaitLimits {
        header_read: Duration::from_secs(10),
        keep_alive: Duration::from_secs(75),
    };

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_connection_state() {
        let a = Activity::new();
        let accepted = Instant::now();
        assert_eq!(a.deadline(LIMITS), Some(accepted + LIMITS.header_read));
        a.saw_bytes();
        assert_eq!(
            a.deadline(LIMITS),
            Some(accepted + LIMITS.header_read),
            "a new connection's header time counts from accepting"
        );
        let request = a.begin();
        assert_eq!(a.deadline(LIMITS), None);
        let body = Arc::clone(&request);
        drop(request);
        assert_eq!(a.deadline(LIMITS), None, "the body is still being read");
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(body);
        let idle = Instant::now();
        assert_eq!(a.deadline(LIMITS), Some(idle + LIMITS.keep_alive));
        tokio::time::advance(Duration::from_secs(5)).await;
        a.saw_bytes();
        assert_eq!(
            a.deadline(LIMITS),
            Some(idle + Duration::from_secs(5) + LIMITS.header_read)
        );
    }
}
