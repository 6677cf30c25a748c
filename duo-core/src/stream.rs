//! [`StreamEvent`]s a model emits, and [`Generation`], the collected answer.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use serde::Serialize;

use crate::{Error, ToolCall, ToolCallDelta, ToolCalls};

/// A stream of model events, as every provider returns it.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, Error>> + Send>>;

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    #[default]
    Stop,
    /// The token limit was reached.
    Length,
    /// The upstream's content filter cut the answer.
    ContentFilter,
    /// The model asked for a tool call.
    ToolCalls,
    /// A reason this version does not know, as the upstream sent it.
    Other(String),
}

impl FinishReason {
    /// Parses the upstream's string (OpenAI's `finish_reason`, Bedrock's `stopReason`).
    #[must_use]
    pub fn parse(reason: &str) -> Self {
        match reason {
            "stop" | "end_turn" | "stop_sequence" | "eos" => Self::Stop,
            "length" | "max_tokens" | "model_length" => Self::Length,
            "content_filter" | "content_filtered" | "guardrail_intervened" => Self::ContentFilter,
            "tool_calls" | "tool_use" | "function_call" => Self::ToolCalls,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The OpenAI spelling (`stop`, `length`, `content_filter`, `tool_calls`, or as received).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ContentFilter => "content_filter",
            Self::ToolCalls => "tool_calls",
            Self::Other(s) => s,
        }
    }
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub input_tokens: u32,
    /// Tokens generated.
    pub output_tokens: u32,
}

impl Usage {
    /// Input plus output tokens.
    #[must_use]
    pub fn total_tokens(&self) -> u32 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The next piece of the answer's text.
    Delta(String),
    /// A piece of a tool call (its start, or more of its arguments).
    ToolCall(ToolCallDelta),
    /// The answer is complete: always the last event of a successful stream.
    Finish {
        /// Why the model stopped.
        reason: FinishReason,
        /// Token counts, when the upstream reported them.
        usage: Option<Usage>,
    },
}

/// A complete, non-streamed answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Generation {
    /// The answer's text.
    pub text: String,
    /// The tool calls the model made, in order (none without tools).
    pub tool_calls: Vec<ToolCall>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Token counts, when the upstream reported them.
    pub usage: Option<Usage>,
}

impl Generation {
    /// Drains a stream into one answer.
    ///
    /// # Errors
    /// The first error the stream yields, or [`Error::BrokenStream`] if it ends without a
    /// [`StreamEvent::Finish`] (a truncated answer is never returned as complete).
    pub async fn collect(mut stream: EventStream, upstream: &str) -> Result<Self, Error> {
        let mut text = String::new();
        let mut calls = ToolCalls::default();
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Delta(delta) => text.push_str(&delta),
                StreamEvent::ToolCall(delta) => calls.push(delta),
                StreamEvent::Finish { reason, usage } => {
                    return Ok(Self {
                        text,
                        tool_calls: calls.finish(),
                        finish_reason: reason,
                        usage,
                    });
                }
            }
        }
        Err(Error::BrokenStream {
            upstream: upstream.to_owned(),
            message: "the stream ended before the model finished".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn boxed(events: Vec<Result<StreamEvent, Error>>) -> EventStream {
        Box::pin(stream::iter(events))
    }

    #[test]
    fn finish_reasons_parse_from_every_upstream_spelling() {
        assert_eq!(FinishReason::parse("stop"), FinishReason::Stop);
        assert_eq!(FinishReason::parse("end_turn"), FinishReason::Stop);
        assert_eq!(FinishReason::parse("stop_sequence"), FinishReason::Stop);
        assert_eq!(FinishReason::parse("max_tokens"), FinishReason::Length);
        assert_eq!(FinishReason::parse("length"), FinishReason::Length);
        assert_eq!(
            FinishReason::parse("content_filter"),
            FinishReason::ContentFilter
        );
        assert_eq!(
            FinishReason::parse("guardrail_intervened"),
            FinishReason::ContentFilter
        );
        assert_eq!(FinishReason::parse("tool_use"), FinishReason::ToolCalls);
        let other = FinishReason::parse("abort");
        assert_eq!(other, FinishReason::Other("abort".into()));
        assert_eq!(other.as_str(), "abort");
        assert_eq!(FinishReason::Length.as_str(), "length");
    }

    #[test]
    fn collect_concatenates_deltas_and_keeps_usage() {
        let usage = Usage {
            input_tokens: 7,
            output_tokens: 3,
        };
        let s = boxed(vec![
            Ok(StreamEvent::Delta("def ".into())),
            Ok(StreamEvent::Delta("add".into())),
            Ok(StreamEvent::Finish {
                reason: FinishReason::Length,
                usage: Some(usage),
            }),
        ]);
        let g = futures::executor::block_on(Generation::collect(s, "test")).unwrap();
        assert_eq!(g.text, "def add");
        assert_eq!(g.finish_reason, FinishReason::Length);
        assert_eq!(g.usage.map(|u| u.total_tokens()), Some(10));
    }

    #[test]
    fn collect_joins_tool_call_pieces_beside_the_text() {
        let s = boxed(vec![
            Ok(StreamEvent::Delta("Let me look.".into())),
            Ok(StreamEvent::ToolCall(ToolCallDelta::start(
                0, "c1", "search",
            ))),
            Ok(StreamEvent::ToolCall(ToolCallDelta::arguments(
                0, "{\"q\":",
            ))),
            Ok(StreamEvent::ToolCall(ToolCallDelta::arguments(
                0,
                "\"rust\"}",
            ))),
            Ok(StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                usage: None,
            }),
        ]);
        let g = futures::executor::block_on(Generation::collect(s, "test")).unwrap();
        assert_eq!(g.text, "Let me look.");
        assert_eq!(
            g.tool_calls,
            vec![ToolCall::new("c1", "search", "{\"q\":\"rust\"}")]
        );
        assert_eq!(g.finish_reason, FinishReason::ToolCalls);
    }

    #[test]
    fn collect_reports_truncation_instead_of_a_short_answer() {
        let s = boxed(vec![Ok(StreamEvent::Delta("half".into()))]);
        let err =
            futures::executor::block_on(Generation::collect(s, "vllm at http://x")).unwrap_err();
        assert!(matches!(err, Error::BrokenStream { .. }));
        assert!(err.to_string().contains("vllm at http://x"));
    }

    #[test]
    fn collect_passes_errors_through() {
        let s = boxed(vec![
            Ok(StreamEvent::Delta("a".into())),
            Err(Error::Protocol {
                upstream: "u".into(),
                message: "bad json".into(),
            }),
        ]);
        let err = futures::executor::block_on(Generation::collect(s, "u")).unwrap_err();
        assert_eq!(err.kind(), "protocol");
    }

    #[test]
    fn usage_total_saturates() {
        let u = Usage {
            input_tokens: u32::MAX,
            output_tokens: 1,
        };
        assert_eq!(u.total_tokens(), u32::MAX);
    }
}

/// The error that ends a streamed HTTP body when the model's stream fails after the response
/// started: the server aborts the connection instead of finishing the body, so the client can
/// tell a truncated answer from a complete one. Its message is for the server's log, never sent.
#[derive(Debug, thiserror::Error)]
#[error("the upstream stream failed after the response started: {0}")]
pub struct StreamAborted(pub Error);
