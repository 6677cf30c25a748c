//! Decoding an OpenAI-style SSE body into [`StreamEvent`]s: `eventsource-stream` does the SSE
//! framing (CRLF, comments, events split across reads, UTF-8 split across chunks); this module
//! turns each `data:` event into deltas and one final [`StreamEvent::Finish`].

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use duo_core::{Error, EventStream, FinishReason, StreamEvent, Usage};
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

use super::wire::{self, ErrorInfo, StreamChunk};
use crate::bounded::{BodyError, EventLimit};
use crate::http::{chain, excerpt};

/// The largest SSE event [`decode_sse`] reads (1 MiB); [`decode_sse_limited`] takes another.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// How long a finished stream's leftover bytes are drained in the background, so its
/// connection can go back to the pool.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// Decodes an OpenAI-style SSE body (vLLM, OpenAI, Azure OpenAI) into model events.
///
/// Yields a [`StreamEvent::Delta`] per non-empty piece of text (choice 0), then exactly one
/// [`StreamEvent::Finish`] with the finish reason and the usage chunk's counts: as soon as both a
/// finish reason and the usage arrived, else at `data: [DONE]` or the end of the body, provided a
/// finish reason was seen. A stream that ends without a finish reason (at EOF, or at `[DONE]`,
/// as llama.cpp's server does when it interrupts a stream) is a truncated answer: it yields
/// [`Error::BrokenStream`] after the deltas already yielded; a transport error mid-body the same;
/// bad JSON or invalid UTF-8 yields [`Error::Protocol`]; an event larger than
/// [`DEFAULT_MAX_EVENT_BYTES`] yields [`Error::ResponseTooLarge`] without buffering it; an
/// `error` object in a chunk (or an `event: error`) yields [`Error::BrokenStream`] with its
/// message. Nothing follows an error or the finish.
///
/// `upstream` names the server in errors (e.g. `vLLM at http://vllm:8000/v1`).
///
/// ```
/// use bytes::Bytes;
/// use duo_core::StreamEvent;
/// use futures::StreamExt;
///
/// # futures::executor::block_on(async {
/// let body = futures::stream::iter([
///     Ok::<_, std::io::Error>(Bytes::from_static(b"data: {\"choices\":[{\"text\":\"hi\"}]}\n\n")),
///     Ok(Bytes::from_static(b"data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")),
/// ]);
/// let events: Vec<_> = duo_providers::openai::decode_sse(body, "test".into()).collect().await;
/// assert_eq!(events[0], Ok(StreamEvent::Delta("hi".into())));
/// assert!(matches!(events[1], Ok(StreamEvent::Finish { .. })));
/// # });
/// ```
pub fn decode_sse<S, E>(body: S, upstream: Arc<str>) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: StdError + Send + Sync + 'static,
{
    decode_sse_limited(body, upstream, DEFAULT_MAX_EVENT_BYTES)
}

/// [`decode_sse`] with another limit on one event's size, in bytes.
pub fn decode_sse_limited<S, E>(body: S, upstream: Arc<str>, max_event_bytes: usize) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: StdError + Send + Sync + 'static,
{
    Box::pin(Decoder {
        events: Some(Box::pin(
            EventLimit::new(body, max_event_bytes).eventsource(),
        )),
        state: ChunkState::default(),
        upstream,
        draining: false,
        seen_event: false,
    })
}

type SseEvents<E> = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<E>>> + Send>>;

struct Decoder<E: Send + 'static> {
    /// `None` once the stream is over and the body released.
    events: Option<SseEvents<BodyError<E>>>,
    state: ChunkState,
    upstream: Arc<str>,
    /// The finish was yielded; what is left of the body only needs reading to its end.
    draining: bool,
    /// Whether any SSE event arrived (an empty 200 stream is a protocol error, not retried).
    seen_event: bool,
}

/// What the chunks said so far.
#[derive(Debug, Default)]
struct ChunkState {
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

/// What one SSE event means.
enum Step {
    Nothing,
    Delta(String),
    Done,
}

impl ChunkState {
    fn on_event(&mut self, event: &Event, upstream: &str) -> Result<Step, Error> {
        let data = event.data.trim();
        if event.event == "error" {
            return Err(Error::BrokenStream {
                upstream: upstream.to_owned(),
                message: format!("error event: {}", excerpt(data, 500)),
            });
        }
        if data == "[DONE]" {
            if self.finish.is_none() {
                return Err(Error::BrokenStream {
                    upstream: upstream.to_owned(),
                    message: "the stream ended with [DONE] but no finish_reason: the answer \
                              was cut short"
                        .into(),
                });
            }
            return Ok(Step::Done);
        }
        let chunk: StreamChunk = serde_json::from_str(data).map_err(|e| Error::Protocol {
            upstream: upstream.to_owned(),
            message: format!("bad JSON in a stream chunk ({e}): {}", excerpt(data, 200)),
        })?;
        if let Some(error) = &chunk.error {
            let info = ErrorInfo::parse(error);
            return Err(Error::BrokenStream {
                upstream: upstream.to_owned(),
                message: format!(
                    "error in stream: {}",
                    info.message
                        .unwrap_or_else(|| excerpt(&error.to_string(), 500))
                ),
            });
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let mut step = Step::Nothing;
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(reason) = choice.finish_reason.as_deref() {
                self.finish = Some(wire::finish_reason(Some(reason)));
            }
            if let Some(text) = choice.into_text() {
                step = Step::Delta(text);
            }
        }
        if matches!(step, Step::Nothing) && self.finish.is_some() && self.usage.is_some() {
            // Nothing more can come that the answer needs: end now, not at [DONE] or EOF.
            return Ok(Step::Done);
        }
        Ok(step)
    }

    fn finish(&mut self) -> StreamEvent {
        StreamEvent::Finish {
            reason: self.finish.take().unwrap_or_default(),
            usage: self.usage.take(),
        }
    }
}

impl<E: StdError + Send + Sync + 'static> Decoder<E> {
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

impl<E: StdError + Send + Sync + 'static> Stream for Decoder<E> {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
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
            let item = futures::ready!(events.poll_next_unpin(cx));
            if matches!(item, Some(Ok(_))) {
                this.seen_event = true;
            }
            let out = match item {
                Some(Ok(event)) => match this.state.on_event(&event, &this.upstream) {
                    Ok(Step::Nothing) => continue,
                    Ok(Step::Delta(text)) => {
                        return Poll::Ready(Some(Ok(StreamEvent::Delta(text))));
                    }
                    Ok(Step::Done) => {
                        // Usually the rest ([DONE], the body's end) came in the same read: read
                        // what is already here, without waiting, so the connection goes back to
                        // the pool before the consumer sees the finish.
                        let ended = loop {
                            match events.poll_next_unpin(cx) {
                                Poll::Ready(Some(Ok(_))) => {}
                                Poll::Ready(None | Some(Err(_))) => break true,
                                Poll::Pending => break false,
                            }
                        };
                        if ended {
                            this.events = None;
                        } else {
                            this.draining = true;
                        }
                        return Poll::Ready(Some(Ok(this.state.finish())));
                    }
                    Err(e) => Err(e),
                },
                Some(Err(e)) => Err(this.stream_error(e)),
                None if this.state.finish.is_some() => Ok(this.state.finish()),
                None if !this.seen_event => Err(Error::Protocol {
                    upstream: this.upstream.to_string(),
                    message: "the model server answered with an empty stream (no SSE event)".into(),
                }),
                None => Err(Error::BrokenStream {
                    upstream: this.upstream.to_string(),
                    message:
                        "the stream ended before the model finished (no finish_reason, no [DONE])"
                            .into(),
                }),
            };
            this.events = None;
            return Poll::Ready(Some(out));
        }
    }
}

impl<E: Send + 'static> Drop for Decoder<E> {
    fn drop(&mut self) {
        // After [DONE] the body usually has only its terminating chunk left; reading it lets the
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

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
