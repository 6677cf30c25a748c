//! Live counts of the fake's TCP connections and streamed bodies: a listener whose connections
//! count themselves open until dropped, and a body stream that tells, when dropped, whether it
//! was sent to the end or cut short (the client went away).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::serve::Listener;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The streamed bodies of a [`FakeOpenAi`](super::FakeOpenAi): those written over time, piece
/// by piece (an SSE answer of two or more chunks, a raw body of two or more pieces).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Being written now.
    pub open: usize,
    /// The most open at once so far.
    pub peak_open: usize,
    /// Written to the end.
    pub finished: usize,
    /// Dropped before the end: the client closed the connection (or a scripted cut).
    pub cancelled: usize,
}

/// The counters behind [`StreamStats`] and the open-connection count.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// TCP connections accepted so far.
    pub(crate) accepted: AtomicUsize,
    /// TCP connections open now.
    pub(crate) open: AtomicUsize,
    streams_open: AtomicUsize,
    streams_peak: AtomicUsize,
    streams_finished: AtomicUsize,
    streams_cancelled: AtomicUsize,
}

impl Counters {
    /// The stream counts now.
    pub(crate) fn streams(&self) -> StreamStats {
        StreamStats {
            open: self.streams_open.load(Ordering::SeqCst),
            peak_open: self.streams_peak.load(Ordering::SeqCst),
            finished: self.streams_finished.load(Ordering::SeqCst),
            cancelled: self.streams_cancelled.load(Ordering::SeqCst),
        }
    }
}

/// A TCP listener whose accepted connections count as open until hyper drops them.
pub(crate) struct CountingListener {
    pub(crate) inner: TcpListener,
    pub(crate) counters: Arc<Counters>,
}

impl Listener for CountingListener {
    type Io = CountedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedIo, SocketAddr) {
        let (tcp, addr) = Listener::accept(&mut self.inner).await;
        let _ = tcp.set_nodelay(true);
        self.counters.accepted.fetch_add(1, Ordering::SeqCst);
        self.counters.open.fetch_add(1, Ordering::SeqCst);
        let io = CountedIo {
            tcp,
            counters: Arc::clone(&self.counters),
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One accepted connection; counted open until dropped.
pub(crate) struct CountedIo {
    tcp: TcpStream,
    counters: Arc<Counters>,
}

impl Drop for CountedIo {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for CountedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// A streamed body: open while it exists, then finished (it yielded its end) or cancelled.
pub(crate) struct TrackedStream<S> {
    inner: S,
    counters: Arc<Counters>,
    ended: bool,
}

impl<S> TrackedStream<S> {
    /// `inner`, counted open from now.
    pub(crate) fn new(inner: S, counters: Arc<Counters>) -> Self {
        let open = counters.streams_open.fetch_add(1, Ordering::SeqCst) + 1;
        counters.streams_peak.fetch_max(open, Ordering::SeqCst);
        Self {
            inner,
            counters,
            ended: false,
        }
    }
}

impl<S: Stream + Unpin> Stream for TrackedStream<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }
}

impl<S> Drop for TrackedStream<S> {
    fn drop(&mut self) {
        let c = &self.counters;
        c.streams_open.fetch_sub(1, Ordering::SeqCst);
        let outcome = if self.ended {
            &c.streams_finished
        } else {
            &c.streams_cancelled
        };
        outcome.fetch_add(1, Ordering::SeqCst);
    }
}
