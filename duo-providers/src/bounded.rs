//! Reading upstream bodies within a size limit: a whole answer ([`read_body`]) or one SSE event
//! at a time ([`EventLimit`]), so a model server that sends 100 MB costs no more than the limit.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use duo_core::Error;
use futures::Stream;

/// Reads a whole response body, failing with [`Error::ResponseTooLarge`] as soon as it passes
/// `limit` bytes (at once when `Content-Length` says so): the rest is never read.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    upstream: &str,
) -> Result<Bytes, Error> {
    let too_large = || Error::ResponseTooLarge {
        upstream: upstream.to_owned(),
        what: "an answer",
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::BrokenStream {
        upstream: upstream.to_owned(),
        message: format!("the answer broke off: {}", crate::http::chain(&e)),
    })? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A body error, or the event limit passed.
#[derive(Debug)]
pub enum BodyError<E> {
    /// The transport failed.
    Transport(E),
    /// One SSE event grew past the limit (in bytes) without its closing blank line.
    EventTooLarge(usize),
}

impl<E: fmt::Display> fmt::Display for BodyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => e.fmt(f),
            Self::EventTooLarge(limit) => {
                write!(f, "an SSE event grew past the limit of {limit} bytes")
            }
        }
    }
}

impl<E: StdError + 'static> StdError for BodyError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::EventTooLarge(_) => None,
        }
    }
}

pin_project_lite::pin_project! {
    /// Passes an SSE body through, ending it with [`BodyError::EventTooLarge`] when one event
    /// (the bytes since the last blank line) passes the limit; the SSE parser behind it then
    /// never buffers more than that.
    pub struct EventLimit<S> {
        #[pin]
        inner: S,
        limit: usize,
        // Bytes of the event being read.
        pending: usize,
        // Whether the last byte ended a line (so a newline now ends the event).
        line_ended: bool,
        done: bool,
    }
}

impl<S> EventLimit<S> {
    /// Limits each event of `inner` to `limit` bytes.
    pub fn new(inner: S, limit: usize) -> Self {
        Self {
            inner,
            limit,
            pending: 0,
            line_ended: false,
            done: false,
        }
    }
}

/// Advances the event size over `chunk`: `(pending, line_ended)` after it, with `pending`
/// counting only the bytes after the last blank line.
fn advance(chunk: &[u8], mut pending: usize, mut line_ended: bool) -> (usize, bool) {
    let mut since = 0;
    for (i, &b) in chunk.iter().enumerate() {
        match b {
            b'\n' if line_ended => {
                pending = 0;
                since = i + 1;
                line_ended = false;
            }
            b'\n' => line_ended = true,
            b'\r' => {}
            _ => line_ended = false,
        }
    }
    (pending + (chunk.len() - since), line_ended)
}

impl<S, E> Stream for EventLimit<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, BodyError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match futures::ready!(this.inner.poll_next(cx)) {
            Some(Ok(chunk)) => {
                let (pending, line_ended) = advance(&chunk, *this.pending, *this.line_ended);
                if pending > *this.limit {
                    *this.done = true;
                    return Poll::Ready(Some(Err(BodyError::EventTooLarge(*this.limit))));
                }
                *this.pending = pending;
                *this.line_ended = line_ended;
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(BodyError::Transport(e)))),
            None => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn events_are_measured_from_the_last_blank_line() {
        assert_eq!(advance(b"data: abc\n\n", 0, false), (0, false));
        assert_eq!(advance(b"data: abc\n", 0, false), (10, true));
        assert_eq!(advance(b"\ndata: x", 10, true), (7, false));
        assert_eq!(advance(b"data: a\r\n\r\ndata: bc", 0, false), (8, false));
        assert_eq!(advance(b"xyz", 5, false), (8, false));
    }

    #[tokio::test]
    async fn an_event_past_the_limit_ends_the_body_but_many_small_ones_pass() {
        let small: Vec<Result<Bytes, std::io::Error>> = (0..1000)
            .map(|_| Ok(Bytes::from_static(b"data: {\"x\":1}\n\n")))
            .collect();
        let passed: Vec<_> = EventLimit::new(futures::stream::iter(small), 64)
            .collect()
            .await;
        assert!(passed.iter().all(Result::is_ok));
        let big = (0..100).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 1000])));
        let items: Vec<_> = EventLimit::new(futures::stream::iter(big), 10_000)
            .collect()
            .await;
        assert_eq!(items.len(), 11, "ten chunks, then the error, then nothing");
        assert!(matches!(items[10], Err(BodyError::EventTooLarge(10_000))));
    }
}
