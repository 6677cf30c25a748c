//! [`LoggedBody`]: a response body that finishes the request's log line when it ends or is
//! dropped, and notes when its first bytes went out.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::access::{End, Pending};

pin_project! {
    /// A response body wrapped by [`RequestLogLayer`](super::RequestLogLayer). Frames pass
    /// through untouched.
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        pending: Option<Pending>,
        // Set when the inner body reported its end (hyper may drop a finished body without
        // polling it to `None`).
        ended: AtomicBool,
    }

    impl<B> PinnedDrop for LoggedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(pending) = this.pending.take() {
                let end = if this.ended.load(Ordering::Relaxed) {
                    End::Completed
                } else {
                    End::Cancelled
                };
                pending.finish(end);
            }
        }
    }
}

impl<B> LoggedBody<B> {
    pub(super) fn new(inner: B, pending: Option<Pending>, ended: bool) -> Self {
        Self {
            inner,
            pending,
            ended: AtomicBool::new(ended),
        }
    }
}

impl<B: Body> Body for LoggedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let polled = match this.pending.as_ref().and_then(|p| p.handle.span()) {
            Some(span) => span.in_scope(|| this.inner.as_mut().poll_frame(cx)),
            None => this.inner.as_mut().poll_frame(cx),
        };
        let end = match &polled {
            Poll::Pending => return polled,
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(p) = this.pending.as_mut()
                    && frame.data_ref().is_some_and(Buf::has_remaining)
                {
                    p.first_chunk_seen();
                }
                this.inner.is_end_stream().then_some(End::Completed)
            }
            Poll::Ready(Some(Err(_))) => Some(End::BodyError),
            Poll::Ready(None) => Some(End::Completed),
        };
        if let Some(end) = end
            && let Some(pending) = this.pending.take()
        {
            pending.finish(end);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let ended = self.inner.is_end_stream();
        if ended {
            self.ended.store(true, Ordering::Relaxed);
        }
        ended
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
