//! Decoding an OpenAI-style SSE body into [`StreamEvent`]s: the shared decoder (`crate::sse`)
//! does the framing and limits; this module's `ChunkState` turns each `data:` chunk into deltas
//! and one final [`StreamEvent::Finish`].

use std::error::Error as StdError;
use std::sync::Arc;

use bytes::Bytes;
use duo_core::{Error, EventStream, FinishReason, StreamEvent, Usage};
use eventsource_stream::Event;
use futures::Stream;

use super::wire::{self, ErrorInfo, StreamChunk};
use crate::http::excerpt;
use crate::sse::{SseProtocol, Step};

/// The largest SSE event [`decode_sse`] reads (1 MiB); [`decode_sse_limited`] takes another.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// Decodes an OpenAI-style SSE body (vLLM, OpenAI, Azure OpenAI) into model events.
///
/// Yields a [`StreamEvent::Delta`] per non-empty piece of text (choice 0) and a
/// [`StreamEvent::ToolCall`] per piece of `delta.tool_calls`, then exactly one
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
    crate::sse::decode(body, upstream, max_event_bytes, ChunkState::default())
}

/// What the chunks said so far.
#[derive(Debug, Default)]
pub(crate) struct ChunkState {
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl SseProtocol for ChunkState {
    const TRUNCATED: &'static str =
        "the stream ended before the model finished (no finish_reason, no [DONE])";

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
        let mut events = Vec::new();
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(reason) = choice.finish_reason.as_deref() {
                self.finish = Some(wire::finish_reason(Some(reason)));
            }
            let (text, calls) = choice.into_parts();
            events.extend(text.map(StreamEvent::Delta));
            events.extend(
                calls
                    .into_iter()
                    .map(|call| StreamEvent::ToolCall(call.into_delta())),
            );
        }
        if events.is_empty() && self.finish.is_some() && self.usage.is_some() {
            // Nothing more can come that the answer needs: end now, not at [DONE] or EOF.
            return Ok(Step::Done);
        }
        Ok(match events.len() {
            0 => Step::Nothing,
            1 => Step::Event(events.remove(0)),
            _ => Step::Events(events),
        })
    }

    fn complete(&self) -> bool {
        self.finish.is_some()
    }

    fn finish(&mut self) -> StreamEvent {
        StreamEvent::Finish {
            reason: self.finish.take().unwrap_or_default(),
            usage: self.usage.take(),
        }
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
