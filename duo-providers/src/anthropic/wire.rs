//! Anthropic's Messages API on the wire: the request body, the whole answer, the stream's
//! events and the error body, as plain serde structs (no logic beyond reading them).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// `POST /v1/messages`.
#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    /// The model (none on Vertex AI, whose URL names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    /// Vertex AI's version field (Anthropic's API takes the `anthropic-version` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anthropic_version: Option<&'a str>,
    /// Required by the API: the request's, else the configured default.
    pub max_tokens: u32,
    pub messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub stop_sequences: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<WireToolChoice<'a>>,
    pub stream: bool,
}

/// One turn: `user` or `assistant`, its content blocks.
#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: Vec<WireBlock<'a>>,
}

/// A content block of a request's turn, by `type`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WireBlock<'a> {
    /// `{"type": "text", "text": …}`.
    Text { text: Cow<'a, str> },
    /// A call the assistant made: `{"type": "tool_use", "id", "name", "input": {…}}`.
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: serde_json::Value,
    },
    /// A tool's result, in a user turn: `{"type": "tool_result", "tool_use_id", "content"}`.
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
    },
}

/// A tool the model may call: `{"name", "description", "input_schema"}`.
#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    pub input_schema: serde_json::Value,
}

/// `tool_choice`: `{"type": "auto" | "any" | "none"}` or `{"type": "tool", "name"}`.
#[derive(Debug, Serialize)]
pub(crate) struct WireToolChoice<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

/// The whole answer of a non-streamed call.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageResponse {
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A content block of an answer: text and tool use are read (thinking and others skipped).
#[derive(Debug, Deserialize)]
pub(crate) struct ContentBlock {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    /// A `tool_use` block's call id.
    #[serde(default)]
    pub id: Option<String>,
    /// A `tool_use` block's tool name.
    #[serde(default)]
    pub name: Option<String>,
    /// A `tool_use` block's input (an object; `{}` at a stream's block start).
    #[serde(default)]
    pub input: Option<serde_json::Value>,
}

/// Token counts (`message_start` has both; `message_delta` the output so far).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u32>,
    #[serde(default)]
    pub output_tokens: Option<u32>,
}

/// One event of a stream, by its `type`; unknown types are [`StreamEvent::Unknown`] (the API
/// may add event types, which clients are to ignore).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u64,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u64,
        delta: Delta,
    },
    ContentBlockStop {},
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Ping {},
    Error {
        error: ErrorDetail,
    },
    #[serde(other)]
    Unknown,
}

/// The message `message_start` announces.
#[derive(Debug, Deserialize)]
pub(crate) struct StartedMessage {
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A block's delta: text and tool input JSON are read; the other kinds (thinking,
/// signatures, citations) are not part of the answer.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "input_json_delta")]
    InputJson {
        #[serde(default)]
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

/// `message_delta`'s `delta`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// `{"type": "error", "error": {"type": …, "message": …}}`, as an error status's body or a
/// stream's `error` event.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error's type (`overloaded_error`, …) and message.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}
