//! The SSE decoder every provider with an SSE stream shares (OpenAI-style `data:` chunks,
//! Anthropic's named events): `eventsource-stream` does the framing (CRLF, comments, events split
//! across reads, UTF-8 split across chunks), `EventLimit` bounds one event's size without
//! buffering it, and an [`SseProtocol`] says what each event means.
//!
//! What every protocol gets from the decoder: exactly one [`StreamEvent::Finish`] at the end of a
//! complete answer and nothing after it or after an error; a body that ends before the protocol
//! saw its end is [`Error::BrokenStream`] (an empty one [`Error::Protocol`]); a transport error
//! mid-body is [`Error::BrokenStream`], bad UTF-8 or SSE [`Error::Protocol`], an event over the
//! limit [`Error::ResponseTooLarge`]; after the finish, the rest of the body is read (briefly,
//! in the background if need be) so the connection can go back to the pool.

use std::collections::VecDeque;
use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use duo_core::{Error, EventStream, StreamEvent};
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

use crate::bounded::{BodyError, EventLimit};
use crate::http::chain;

/// How long a finished stream's leftover bytes are drained in the background, so its
/// connection can go back to the pool.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// What one SSE event means to the answer.
pub(crate) enum Step {
    /// Nothing the consumer needs (a role chunk, a ping, a block start).
    Nothing,
    /// The next event of the answer.
    Event(StreamEvent),
    /// Several events from one SSE event (text and tool-call pieces of one chunk), in order;
    /// none is the same as [`Step::Nothing`].
    #[cfg_attr(
        not(any(
            feature = "vllm",
            feature = "azure",
            feature = "openai",
            feature = "vertex"
        )),
        allow(dead_code)
    )]
    Events(Vec<StreamEvent>),
    /// These events end the answer: they are yielded, then [`SseProtocol::finish`], as for
    /// [`Step::Done`] (a last chunk that carries both text and the finish reason).
    #[cfg_attr(not(feature = "vertex"), allow(dead_code))]
    Last(Vec<StreamEvent>),
    /// The answer is complete: [`SseProtocol::finish`] is yielded next.
    Done,
}

/// One provider's reading of its SSE events.
pub(crate) trait SseProtocol: Send + Unpin + 'static {
    /// Why a body that ended early is a truncated answer (naming the provider's end marker).
    const TRUNCATED: &'static str;

    /// What `event` means; an error ends the stream.
    fn on_event(&mut self, event: &Event, upstream: &str) -> Result<Step, Error>;

    /// Whether the answer is complete if the body ends now (e.g. a finish reason was seen).
    fn complete(&self) -> bool;

    /// The final event, called once, when the answer is complete.
    fn finish(&mut self) -> StreamEvent;
}

/// `response` if it is an SSE stream (or has no content type: some proxies drop it); any other
/// content type is [`Error::Protocol`] quoting the start of the body.
pub(crate) async fn require_sse(
    response: reqwest::Response,
    upstream: &str,
) -> Result<reqwest::Response, Error> {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.is_empty() || content_type.starts_with("text/event-stream") {
        return Ok(response);
    }
    let text = crate::bounded::read_body(response, 1000, upstream)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Err(Error::Protocol {
        upstream: upstream.to_owned(),
        message: format!(
            "asked for an SSE stream, got '{content_type}': {}",
            crate::http::excerpt(&text, 200)
        ),
    })
}

/// `events` with `secret` (when there is one) and the values of `extra` (the operator's extra
/// headers, when the call carried them) scrubbed from every error they yield.
pub(crate) fn scrubbed(
    events: EventStream,
    secret: Option<duo_core::Secret>,
    extra: Option<crate::ExtraHeaders>,
) -> EventStream {
    if secret.is_none() && extra.as_ref().is_none_or(crate::ExtraHeaders::is_empty) {
        return events;
    }
    Box::pin(events.map(move |e| {
        e.map_err(|err| crate::extra_headers::scrub(err, secret.as_ref(), extra.as_ref()))
    }))
}

/// Decodes `body` with `protocol`; one event may be at most `max_event_bytes`.
pub(crate) fn decode<P, S, E>(
    body: S,
    upstream: Arc<str>,
    max_event_bytes: usize,
    protocol: P,
) -> EventStream
where
    P: SseProtocol,
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: StdError + Send + Sync + 'static,
{
    Box::pin(Decoder {
        events: Some(Box::pin(
            EventLimit::new(body, max_event_bytes).eventsource(),
        )),
        protocol,
        upstream,
        draining: false,
        seen_event: false,
        queued: VecDeque::new(),
        done_after_queued: false,
    })
}

type SseEvents<E> = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<E>>> + Send>>;

pub(crate) struct Decoder<P, E: Send + 'static> {
    /// `None` once the stream is over and the body released.
    events: Option<SseEvents<BodyError<E>>>,
    protocol: P,
    upstream: Arc<str>,
    /// The finish was yielded; what is left of the body only needs reading to its end.
    draining: bool,
    /// Whether any SSE event arrived (an empty 200 stream is a protocol error, not retried).
    seen_event: bool,
    /// Events of a [`Step::Events`] or [`Step::Last`] not yielded yet.
    queued: VecDeque<StreamEvent>,
    /// A [`Step::Last`] came: once `queued` is empty, the answer is complete.
    done_after_queued: bool,
}

impl<P, E: StdError + Send + Sync + 'static> Decoder<P, E> {
    fn stream_error(&self, err: EventStreamError<BodyError<E>>) -> Error {
        let upstream = self.upstream.to_string();
        match err {
            EventStreamError::Transport(BodyError::EventTooLarge(limit)) => {
                Error::ResponseTooLarge {
                    upstream,
                    what: "an SSE event",
                    limit,
                }
            }
            EventStreamError::Utf8(e) => Error::Protocol {
                upstream,
                message: format!("the stream is not valid UTF-8: {e}"),
            },
            EventStreamError::Parser(e) => Error::Protocol {
                upstream,
                message: format!("the stream is not valid SSE: {e}"),
            },
            EventStreamError::Transport(e) => Error::BrokenStream {
                upstream,
                message: chain(&e),
            },
        }
    }
}

impl<P: SseProtocol, E: StdError + Send + Sync + 'static> Stream for Decoder<P, E> {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(event) = this.queued.pop_front() {
            return Poll::Ready(Some(Ok(event)));
        }
        if this.done_after_queued {
            this.done_after_queued = false;
            return Poll::Ready(Some(Ok(this.complete(cx))));
        }
        let Some(events) = this.events.as_mut() else {
            return Poll::Ready(None);
        };
        if this.draining {
            // The consumer asks for more after the finish: read the body to its end in place.
            while let Some(item) = futures::ready!(events.poll_next_unpin(cx)) {
                if item.is_err() {
                    break;
                }
            }
            this.events = None;
            this.draining = false;
            return Poll::Ready(None);
        }
        loop {
            let Some(events) = this.events.as_mut() else {
                return Poll::Ready(None);
            };
            let item = futures::ready!(events.poll_next_unpin(cx));
            if matches!(item, Some(Ok(_))) {
                this.seen_event = true;
            }
            let out = match item {
                Some(Ok(event)) => match this.protocol.on_event(&event, &this.upstream) {
                    Ok(Step::Nothing) => continue,
                    Ok(Step::Event(event)) => return Poll::Ready(Some(Ok(event))),
                    Ok(Step::Events(events)) => {
                        this.queued.extend(events);
                        match this.queued.pop_front() {
                            Some(event) => return Poll::Ready(Some(Ok(event))),
                            None => continue,
                        }
                    }
                    Ok(Step::Last(events)) => {
                        this.queued.extend(events);
                        match this.queued.pop_front() {
                            Some(event) => {
                                this.done_after_queued = true;
                                return Poll::Ready(Some(Ok(event)));
                            }
                            None => return Poll::Ready(Some(Ok(this.complete(cx)))),
                        }
                    }
                    Ok(Step::Done) => return Poll::Ready(Some(Ok(this.complete(cx)))),
                    Err(e) => Err(e),
                },
                Some(Err(e)) => Err(this.stream_error(e)),
                None if this.protocol.complete() => Ok(this.protocol.finish()),
                None if !this.seen_event => Err(Error::Protocol {
                    upstream: this.upstream.to_string(),
                    message: "the model server answered with an empty stream (no SSE event)".into(),
                }),
                None => Err(Error::BrokenStream {
                    upstream: this.upstream.to_string(),
                    message: P::TRUNCATED.into(),
                }),
            };
            this.events = None;
            return Poll::Ready(Some(out));
        }
    }
}

impl<P: SseProtocol, E: StdError + Send + Sync + 'static> Decoder<P, E> {
    /// The answer is complete: the finish event. Usually the rest of the body ([DONE], its end)
    /// came in the same read: what is already here is read without waiting, so the connection
    /// goes back to the pool before the consumer sees the finish; otherwise the rest is drained
    /// later.
    fn complete(&mut self, cx: &mut Context<'_>) -> StreamEvent {
        if let Some(events) = self.events.as_mut() {
            let ended = loop {
                match events.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(None | Some(Err(_))) => break true,
                    Poll::Pending => break false,
                }
            };
            if ended {
                self.events = None;
            } else {
                self.draining = true;
            }
        }
        self.protocol.finish()
    }
}

impl<P, E: Send + 'static> Drop for Decoder<P, E> {
    fn drop(&mut self) {
        // After its end the body usually has only its terminating chunk left; reading it lets the
        // connection return to the pool instead of being closed.
        if !self.draining {
            return;
        }
        let (Some(events), Ok(runtime)) =
            (self.events.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(async move {
            let drain = events
                .take_while(|item| futures::future::ready(item.is_ok()))
                .for_each(|_| async {});
            let _ = tokio::time::timeout(DRAIN_LIMIT, drain).await;
        });
    }
}
