//! [`Reply`]: what the fake answers to one request, built step by step.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

/// One scripted answer of [`FakeAnthropic`](super::FakeAnthropic).
///
/// A message ([`Reply::text`], [`Reply::tool_use`]) is rendered in the shape the request asks
/// for: a JSON `message` when the body has no `"stream": true`, the SSE event sequence
/// otherwise. The stream faults ([`stream_error_after`](Self::stream_error_after),
/// [`cut_after`](Self::cut_after), [`abort_after`](Self::abort_after)) only touch streams.
/// Errors ([`Reply::error`], [`Reply::status`]) and raw bodies ([`Reply::raw_sse`]) are sent
/// as they are, streamed request or not.
///
/// ```
/// use std::time::Duration;
/// use duo_testkit::anthropic::Reply;
/// use serde_json::json;
///
/// let slow = Reply::text("Hello there").chunks(3).chunk_delay(Duration::from_millis(5));
/// let tool = Reply::tool_use("toolu_01", "get_weather", json!({"city": "Paris"}))
///     .with_text("Let me check.")
///     .chunks(2);
/// let overloaded = Reply::text("never sent whole").chunks(4)
///     .stream_error_after(2, "overloaded_error", "Overloaded");
/// let limited = Reply::status(429).retry_after("2");
/// # let _ = (slow, tool, overloaded, limited);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) kind: Kind,
    pub(crate) first_byte_delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) headers: Vec<(String, String)>,
}

/// What a [`Reply`] is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A successful `message`.
    Message(Message),
    /// A JSON error body `{"type":"error","error":{…},"request_id":…}` with `status`.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// A body sent as it is.
    Raw {
        status: u16,
        content_type: String,
        pieces: Vec<Bytes>,
    },
}

/// A successful message and the faults to inject into its stream.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub blocks: Vec<Block>,
    /// Deltas per block (at least 1).
    pub chunks: usize,
    /// `None`: `tool_use` when a block is a tool call, `end_turn` otherwise.
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
    /// `(input_tokens, output_tokens)`; `None`: words of the prompt, number of deltas.
    pub usage: Option<(u32, u32)>,
    pub fault: Option<Fault>,
}

impl Message {
    /// The stop reason sent.
    pub(crate) fn stop_reason(&self) -> &str {
        match &self.stop_reason {
            Some(reason) => reason,
            None if self
                .blocks
                .iter()
                .any(|b| matches!(b, Block::ToolUse { .. })) =>
            {
                "tool_use"
            }
            None => "end_turn",
        }
    }
}

/// One content block of a message.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// How a streamed message goes wrong after `after` deltas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// An `event: error` with this error, then the body ends.
    Error {
        after: usize,
        error_type: String,
        message: String,
    },
    /// The body ends cleanly (no `content_block_stop`, `message_delta`, `message_stop`).
    End { after: usize },
    /// The connection is dropped.
    Abort { after: usize },
}

impl Fault {
    /// After how many deltas the fault strikes.
    pub(crate) fn after(&self) -> usize {
        match self {
            Self::Error { after, .. } | Self::End { after } | Self::Abort { after } => *after,
        }
    }
}

impl Reply {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            first_byte_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    fn message(blocks: Vec<Block>) -> Self {
        Self::new(Kind::Message(Message {
            blocks,
            chunks: 1,
            stop_reason: None,
            stop_sequence: None,
            usage: None,
            fault: None,
        }))
    }

    /// A message of one text block (`stop_reason` `end_turn`; one delta when streamed).
    pub fn text(text: impl Into<String>) -> Self {
        Self::message(vec![Block::Text(text.into())])
    }

    /// A message calling tool `name` with `input` (`stop_reason` `tool_use`); `id` is the
    /// block's `toolu_…` id.
    pub fn tool_use(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        Self::message(vec![Block::ToolUse {
            id: id.into(),
            name: name.into(),
            input,
        }])
    }

    /// Adds another tool call after the message's blocks (parallel tool use). Only for messages.
    #[must_use]
    pub fn and_tool_use(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        input: Value,
    ) -> Self {
        if let Some(m) = self.message_mut() {
            m.blocks.push(Block::ToolUse {
                id: id.into(),
                name: name.into(),
                input,
            });
        }
        self
    }

    /// Sets the leading text block (replacing it when the message starts with text, else
    /// inserting it before the tool calls). Only for messages.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        if let Some(m) = self.message_mut() {
            match m.blocks.first_mut() {
                Some(Block::Text(t)) => *t = text.into(),
                _ => m.blocks.insert(0, Block::Text(text.into())),
            }
        }
        self
    }

    /// An error answer: `status` with `{"type":"error","error":{"type":error_type,
    /// "message":message},"request_id":"req_…"}`. A 429 carries `retry-after: 0` unless
    /// [`retry_after`](Self::retry_after) says otherwise.
    pub fn error(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Kind::Error {
            status,
            error_type: error_type.into(),
            message: message.into(),
        })
    }

    /// [`Reply::error`] with the error type Anthropic uses for `status` (400
    /// `invalid_request_error`, 401 `authentication_error`, 402 `billing_error`, 403
    /// `permission_error`, 404 `not_found_error`, 413 `request_too_large`, 429
    /// `rate_limit_error`, 504 `timeout_error`, 529 `overloaded_error`, others `api_error`).
    pub fn status(status: u16) -> Self {
        let (error_type, message) = super::wire::standard_error(status);
        Self::error(status, error_type, message)
    }

    /// A 200 `text/event-stream` body of exactly these pieces, written one after the other
    /// (with [`chunk_delay`](Self::chunk_delay) between them): for malformed or split events.
    pub fn raw_sse(pieces: impl IntoIterator<Item = impl Into<Bytes>>) -> Self {
        Self::raw(200, super::render::SSE_CONTENT_TYPE, pieces)
    }

    /// A body of exactly these pieces with `status` and `content_type`.
    pub fn raw(
        status: u16,
        content_type: impl Into<String>,
        pieces: impl IntoIterator<Item = impl Into<Bytes>>,
    ) -> Self {
        Self::new(Kind::Raw {
            status,
            content_type: content_type.into(),
            pieces: pieces.into_iter().map(Into::into).collect(),
        })
    }

    fn message_mut(&mut self) -> Option<&mut Message> {
        match &mut self.kind {
            Kind::Message(m) => Some(m),
            _ => None,
        }
    }

    /// Streams each text block, and each tool call's input JSON, as `n` deltas of about equal
    /// length, split on char boundaries (at least 1; fewer when shorter). Only for messages.
    #[must_use]
    pub fn chunks(mut self, n: usize) -> Self {
        if let Some(m) = self.message_mut() {
            m.chunks = n.max(1);
        }
        self
    }

    /// The `stop_reason` sent (default `end_turn`, or `tool_use` when the message calls a tool).
    #[must_use]
    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        if let Some(m) = self.message_mut() {
            m.stop_reason = Some(reason.into());
        }
        self
    }

    /// Stops on `sequence`: `stop_reason` `stop_sequence` and `stop_sequence` set to it.
    #[must_use]
    pub fn stop_sequence(mut self, sequence: impl Into<String>) -> Self {
        if let Some(m) = self.message_mut() {
            m.stop_reason = Some("stop_sequence".into());
            m.stop_sequence = Some(sequence.into());
        }
        self
    }

    /// The usage reported (default: input tokens = words of `system` and `messages`, output
    /// tokens = number of deltas).
    #[must_use]
    pub fn usage(mut self, input_tokens: u32, output_tokens: u32) -> Self {
        if let Some(m) = self.message_mut() {
            m.usage = Some((input_tokens, output_tokens));
        }
        self
    }

    fn fault(mut self, fault: Fault) -> Self {
        if let Some(m) = self.message_mut() {
            m.fault = Some(fault);
        }
        self
    }

    /// After `k` deltas (0: before the first; past the last: after it) the stream sends
    /// `event: error` with this error and ends. Only for streamed messages.
    #[must_use]
    pub fn stream_error_after(
        self,
        k: usize,
        error_type: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.fault(Fault::Error {
            after: k,
            error_type: error_type.into(),
            message: message.into(),
        })
    }

    /// After `k` deltas the body ends cleanly, without `content_block_stop`, `message_delta`
    /// or `message_stop`. Only for streamed messages.
    #[must_use]
    pub fn cut_after(self, k: usize) -> Self {
        self.fault(Fault::End { after: k })
    }

    /// After `k` deltas the connection is dropped (the client sees a broken body, not an end).
    /// Only for streamed messages.
    #[must_use]
    pub fn abort_after(self, k: usize) -> Self {
        self.fault(Fault::Abort { after: k })
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `retry-after: value` (seconds, as given).
    #[must_use]
    pub fn retry_after(self, value: impl Into<String>) -> Self {
        self.header("retry-after", value)
    }

    /// Waits `delay` before sending the status line and headers.
    #[must_use]
    pub fn first_byte_delay(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    /// Waits `delay` between two streamed deltas (or raw pieces); not before the first.
    #[must_use]
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_follows_the_blocks_unless_set() {
        let reason = |r: Reply| match r.kind {
            Kind::Message(m) => m.stop_reason().to_owned(),
            _ => String::new(),
        };
        assert_eq!(reason(Reply::text("a")), "end_turn");
        assert_eq!(
            reason(Reply::tool_use("t", "f", Value::Null).with_text("a")),
            "tool_use"
        );
        assert_eq!(
            reason(Reply::text("a").stop_reason("max_tokens")),
            "max_tokens"
        );
        assert_eq!(
            reason(Reply::text("a").stop_sequence("##")),
            "stop_sequence"
        );
    }
}
