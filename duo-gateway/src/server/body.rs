//! The bodies the server hands to the router and back to hyper: a request body with a read
//! deadline that drains what the handler left unread, and a response body that keeps its
//! request [in flight](super::activity::InFlight) until it is sent.
//!
//! Draining matters to clients that write a whole body before reading (Python's `http.client`,
//! Ruby's `Net::HTTP`): when the gateway answers early (413, 401, 404) and closes with unread
//! bytes in the socket, the kernel resets the connection and such a client sees a broken pipe
//! instead of the answer. So an unread body is read and discarded, up to [`DRAIN_MAX_BYTES`]
//! and [`DRAIN_MAX_TIME`], while the answer goes out.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Sleep;

use super::activity::InFlight;
use crate::error::BodyTimedOut;

/// The most unread body bytes discarded after an early answer.
pub const DRAIN_MAX_BYTES: usize = 32 * 1024 * 1024;
/// The longest an unread body is drained after an early answer.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

/// The error a request body yields when its deadline passes.
#[derive(Debug)]
pub struct BodyTimeout;

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body was not received within fastapi.body_read_timeout_s")
    }
}

impl StdError for BodyTimeout {}

/// A request body with a deadline that drains itself when dropped unread.
pub(crate) struct RequestBody {
    inner: Option<Incoming>,
    deadline: Pin<Box<Sleep>>,
    timed_out: BodyTimedOut,
    /// Whether an unread rest may be drained (not after `Expect: 100-continue`: draining would
    /// invite the client to send a body nobody wants).
    drain: bool,
    in_flight: Arc<InFlight>,
}

impl RequestBody {
    /// `inner`, to be read within `timeout` from now.
    pub(crate) fn new(
        inner: Incoming,
        timeout: Duration,
        drain: bool,
        in_flight: Arc<InFlight>,
    ) -> (Self, BodyTimedOut) {
        let timed_out = BodyTimedOut::default();
        let body = Self {
            inner: Some(inner),
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timed_out: timed_out.clone(),
            drain,
            in_flight,
        };
        (body, timed_out)
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut *inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => {
                // hyper's side is broken: nothing left to drain
                this.inner = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.timed_out.set();
                // dropped, not drained: hyper stops reading and closes after the answer
                this.inner = None;
                Poll::Ready(Some(Err(BodyTimeout.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if !self.drain || inner.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(inner, Arc::clone(&self.in_flight)));
        }
    }
}

/// Reads and discards `body` up to the drain bounds; past them it is dropped, and hyper closes
/// the connection once the answer is sent.
async fn drain(mut body: Incoming, _in_flight: Arc<InFlight>) {
    let mut left = DRAIN_MAX_BYTES;
    let discard = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                if data.len() > left {
                    return;
                }
                left -= data.len();
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, discard).await;
}

/// A response body that keeps its request in flight until hyper is done with it.
pub(crate) struct ResponseBody {
    inner: axum::body::Body,
    _in_flight: Arc<InFlight>,
}

impl ResponseBody {
    /// `inner`, holding `in_flight`.
    pub(crate) fn new(inner: axum::body::Body, in_flight: Arc<InFlight>) -> Self {
        Self {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
