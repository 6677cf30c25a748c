//! [`Timed`]: a stream that already produced its first event, watched by the idle and total
//! time limits.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use duo_core::{Error, EventStream, StreamEvent, TimeoutPhase};
use futures::{Future, Stream, StreamExt};
use tokio::time::{Instant, Sleep, sleep, sleep_until};

/// The rest of a stream after its first event, ended with [`Error::Timeout`] when no event
/// arrives for `idle` or the call's deadline passes. Nothing is yielded after a finish or an error.
pub(crate) struct Timed {
    first: Option<Result<StreamEvent, Error>>,
    inner: Option<EventStream>,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    total: Option<(Duration, Pin<Box<Sleep>>)>,
    upstream: Arc<str>,
    /// The finish was passed on.
    finished: bool,
}

impl Timed {
    /// Watches `inner`, which already produced `first`.
    pub(crate) fn new(
        first: StreamEvent,
        inner: EventStream,
        idle: Option<Duration>,
        total: Option<(Duration, Instant)>,
        upstream: Arc<str>,
    ) -> Self {
        Self {
            first: Some(Ok(first)),
            inner: Some(inner),
            idle: idle.map(|d| (d, Box::pin(sleep(d)))),
            total: total.map(|(d, deadline)| (d, Box::pin(sleep_until(deadline)))),
            upstream,
            finished: false,
        }
    }

    fn timeout(
        &mut self,
        phase: TimeoutPhase,
        after: Duration,
    ) -> Poll<Option<Result<StreamEvent, Error>>> {
        self.inner = None;
        Poll::Ready(Some(Err(Error::Timeout {
            upstream: self.upstream.to_string(),
            phase,
            after,
        })))
    }

    /// Passes `item` on; the stream is over after an error, and only drains after a finish.
    fn pass(
        &mut self,
        item: Result<StreamEvent, Error>,
    ) -> Poll<Option<Result<StreamEvent, Error>>> {
        match &item {
            Err(_) => self.inner = None,
            Ok(StreamEvent::Finish { .. }) => self.finished = true,
            Ok(_) => {}
        }
        if let Some((d, sleep)) = &mut self.idle
            && let Some(at) = Instant::now().checked_add(*d)
        {
            sleep.as_mut().reset(at);
        }
        Poll::Ready(Some(item))
    }
}

impl Stream for Timed {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            return this.pass(first);
        }
        if this.finished {
            // The answer is complete: end now, whatever the upstream connection does. Dropping
            // the inner stream lets it finish reading its body in the background (the SSE
            // decoder does), so the connection can still go back to the pool.
            this.inner = None;
            return Poll::Ready(None);
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => return this.pass(item),
            Poll::Ready(None) => {
                this.inner = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some((d, sleep)) = &mut this.total
            && sleep.as_mut().poll(cx).is_ready()
        {
            let d = *d;
            return this.timeout(TimeoutPhase::Total, d);
        }
        if let Some((d, sleep)) = &mut this.idle
            && sleep.as_mut().poll(cx).is_ready()
        {
            let d = *d;
            return this.timeout(TimeoutPhase::Idle, d);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::FinishReason;
    use futures::stream;

    fn finish() -> StreamEvent {
        StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_gap_ends_the_stream_with_an_idle_timeout() {
        let inner: EventStream =
            Box::pin(stream::iter([Ok(StreamEvent::Delta("b".into()))]).chain(stream::pending()));
        let timed = Timed::new(
            StreamEvent::Delta("a".into()),
            inner,
            Some(Duration::from_secs(5)),
            None,
            "u".into(),
        );
        let items: Vec<_> = timed.collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[1], Ok(StreamEvent::Delta("b".into())));
        assert!(
            matches!(&items[2], Err(Error::Timeout { phase: TimeoutPhase::Idle, after, .. }) if *after == Duration::from_secs(5))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_beats_idle_and_nothing_follows_a_finish() {
        let inner: EventStream = Box::pin(stream::pending());
        let deadline = Instant::now() + Duration::from_secs(1);
        let timed = Timed::new(
            StreamEvent::Delta("a".into()),
            inner,
            Some(Duration::from_secs(5)),
            Some((Duration::from_secs(1), deadline)),
            "u".into(),
        );
        let items: Vec<_> = timed.collect().await;
        assert!(matches!(
            &items[1],
            Err(Error::Timeout {
                phase: TimeoutPhase::Total,
                ..
            })
        ));

        let inner: EventStream = Box::pin(stream::iter([Ok(finish())]).chain(stream::pending()));
        let timed = Timed::new(
            StreamEvent::Delta("a".into()),
            inner,
            Some(Duration::from_secs(5)),
            None,
            "u".into(),
        );
        let items: Vec<_> = timed.collect().await;
        assert_eq!(
            items,
            vec![Ok(StreamEvent::Delta("a".into())), Ok(finish())]
        );
    }
}
