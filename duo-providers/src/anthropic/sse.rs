//! Anthropic's stream: named SSE events (`message_start`, `content_block_delta`, …,
//! `message_stop`) read by [`MessageEvents`] on the shared decoder (`crate::sse`).

use std::error::Error as StdError;
use std::sync::Arc;

use bytes::Bytes;
use duo_core::{CallOrdinals, Error, EventStream, FinishReason, StreamEvent, ToolCallDelta, Usage};
use eventsource_stream::Event;
use futures::Stream;

use super::error::stream_error;
use super::wire::{self, Delta, ErrorBody, WireUsage};
use crate::http::excerpt;
use crate::sse::{SseProtocol, Step};

/// Decodes an Anthropic Messages stream into model events: a [`StreamEvent::Delta`] per
/// non-empty `text_delta`, a [`StreamEvent::ToolCall`] per `tool_use` block start (id and name)
/// and per `input_json_delta` (more arguments; calls numbered by ordinal), then one [`StreamEvent::Finish`] at `message_stop` with the stop
/// reason of `message_delta` (`end_turn`, `stop_sequence` → stop, `max_tokens` → length,
/// `tool_use` → tool calls, `refusal` → content filter) and the usage of `message_start` and
/// `message_delta`. `ping`, other block starts, block stops, other deltas (thinking,
/// signatures) and event types this version does not know yield nothing. An `error` event is
/// the error its type stands for (`overloaded_error` as a 529, retryable before the first
/// token); a body that ends before a stop reason was seen is a truncated answer
/// ([`Error::BrokenStream`]). Events larger than `max_event_bytes` are refused unread.
pub fn decode_messages_sse<S, E>(body: S, upstream: Arc<str>, max_event_bytes: usize) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: StdError + Send + Sync + 'static,
{
    crate::sse::decode(body, upstream, max_event_bytes, MessageEvents::default())
}

/// What the events said so far.
#[derive(Debug, Default)]
pub(crate) struct MessageEvents {
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
    stop: Option<FinishReason>,
    /// Tool calls by the content block they started in.
    calls: CallOrdinals,
}

impl MessageEvents {
    fn count(&mut self, usage: Option<WireUsage>) {
        let Some(usage) = usage else { return };
        if usage.input_tokens.is_some() {
            self.input_tokens = usage.input_tokens;
        }
        if usage.output_tokens.is_some() {
            self.output_tokens = usage.output_tokens;
        }
    }
}

/// A stop reason as a finish reason (Anthropic's `refusal` is its safety filter).
pub(crate) fn finish_reason(stop_reason: Option<&str>) -> FinishReason {
    match stop_reason {
        None => FinishReason::Stop,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::parse(other),
    }
}

impl SseProtocol for MessageEvents {
    const TRUNCATED: &'static str =
        "the stream ended before the model finished (no stop_reason, no message_stop)";

    fn on_event(&mut self, event: &Event, upstream: &str) -> Result<Step, Error> {
        let data = event.data.trim();
        let bad_json = |e: serde_json::Error| Error::Protocol {
            upstream: upstream.to_owned(),
            message: format!("bad JSON in a stream event ({e}): {}", excerpt(data, 200)),
        };
        if event.event == "error" {
            let body: ErrorBody = serde_json::from_str(data).map_err(bad_json)?;
            return Err(stream_error(
                upstream,
                &body.error.kind,
                &body.error.message,
            ));
        }
        let parsed: wire::StreamEvent = serde_json::from_str(data).map_err(bad_json)?;
        Ok(match parsed {
            wire::StreamEvent::MessageStart { message } => {
                self.count(message.usage);
                Step::Nothing
            }
            wire::StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block.kind.as_str() {
                "text" => match content_block.text {
                    Some(text) if !text.is_empty() => Step::Event(StreamEvent::Delta(text)),
                    _ => Step::Nothing,
                },
                "tool_use" => Step::Event(StreamEvent::ToolCall(ToolCallDelta::start(
                    self.calls.start(index),
                    content_block.id.unwrap_or_default(),
                    content_block.name.unwrap_or_default(),
                ))),
                _ => Step::Nothing,
            },
            wire::StreamEvent::ContentBlockDelta {
                delta: Delta::Text { text },
                ..
            } if !text.is_empty() => Step::Event(StreamEvent::Delta(text)),
            wire::StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::InputJson { partial_json },
            } if !partial_json.is_empty() => Step::Event(StreamEvent::ToolCall(
                ToolCallDelta::arguments(self.calls.start(index), partial_json),
            )),
            wire::StreamEvent::MessageDelta { delta, usage } => {
                self.count(usage);
                self.stop = Some(finish_reason(delta.stop_reason.as_deref()));
                Step::Nothing
            }
            wire::StreamEvent::MessageStop {} => {
                if self.stop.is_none() {
                    return Err(Error::BrokenStream {
                        upstream: upstream.to_owned(),
                        message: "message_stop came without a stop_reason: the answer was cut \
                                  short"
                            .into(),
                    });
                }
                Step::Done
            }
            wire::StreamEvent::Error { error } => {
                return Err(stream_error(upstream, &error.kind, &error.message));
            }
            wire::StreamEvent::ContentBlockDelta { .. }
            | wire::StreamEvent::ContentBlockStop {}
            | wire::StreamEvent::Ping {}
            | wire::StreamEvent::Unknown => Step::Nothing,
        })
    }

    fn complete(&self) -> bool {
        self.stop.is_some()
    }

    fn finish(&mut self) -> StreamEvent {
        let usage = (self.input_tokens.is_some() || self.output_tokens.is_some()).then(|| Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
        });
        StreamEvent::Finish {
            reason: self.stop.take().unwrap_or_default(),
            usage,
        }
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
