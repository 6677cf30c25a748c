//! The JSON of OpenAI-style APIs (vLLM, OpenAI, Azure OpenAI): request bodies, answers, stream
//! chunks, error bodies. Private to the `openai` module; translated to `duo-core` types here.

use duo_core::{FinishReason, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `/completions` and `/chat/completions`.
#[derive(Debug, Serialize)]
pub(crate) struct RequestBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// OpenAI's reasoning models take this instead of `max_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop: &'a [String],
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// vLLM: continue the trailing assistant message instead of starting a new turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_final_message: Option<bool>,
    /// vLLM: must be false when `continue_final_message` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_generation_prompt: Option<bool>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
}

/// One chat message; `role` is `system`, `developer` (OpenAI's reasoning models), `user`,
/// `assistant` or `tool`. An assistant message that only calls tools has `content: null`.
#[derive(Debug, Serialize)]
pub(crate) struct ChatMessage<'a> {
    pub role: &'static str,
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
}

/// `{"type": "function", "function": {"name", "description", "parameters"}}`.
#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: WireFunction<'a>,
}

/// A tool's function.
#[derive(Debug, Serialize)]
pub(crate) struct WireFunction<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    pub parameters: Value,
}

/// A call an assistant message made: `{"id", "type": "function", "function": {"name",
/// "arguments"}}`.
#[derive(Debug, Serialize)]
pub(crate) struct WireToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: WireCalled<'a>,
}

/// The function a call names, with its arguments as JSON text.
#[derive(Debug, Serialize)]
pub(crate) struct WireCalled<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

/// `stream_options`: we always ask for the final usage chunk.
#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// `usage` of an answer or of the last stream chunk.
#[derive(Debug, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: u32,
    #[serde(default)]
    pub completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Self {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

/// One `data:` event of a stream. Unknown fields (Azure's filter results, logprobs) are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamChunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Some servers report a failure mid-stream as `data: {"error": ...}`.
    #[serde(default)]
    pub error: Option<Value>,
}

/// A choice of a stream chunk: `text` on `/completions`, `delta.content` on chat.
#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The `delta` of a chat stream chunk.
#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<DeltaToolCall>,
}

/// A piece of a streamed tool call: `id` and `function.name` on its first piece, more of
/// `function.arguments` on each.
#[derive(Debug, Deserialize)]
pub(crate) struct DeltaToolCall {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<CalledPiece>,
}

/// The function part of a call: whole in an answer, in pieces in a stream.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CalledPiece {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

impl DeltaToolCall {
    /// As a duo tool-call piece.
    pub fn into_delta(self) -> duo_core::ToolCallDelta {
        let function = self.function.unwrap_or_default();
        duo_core::ToolCallDelta {
            index: self.index,
            id: self.id.filter(|id| !id.is_empty()),
            name: function.name.filter(|n| !n.is_empty()),
            arguments: function.arguments.unwrap_or_default(),
        }
    }
}

impl ChunkChoice {
    /// The text and tool-call pieces this choice adds, whichever API it came from.
    pub fn into_parts(self) -> (Option<String>, Vec<DeltaToolCall>) {
        let (content, calls) = match self.delta {
            Some(d) => (d.content, d.tool_calls),
            None => (None, Vec::new()),
        };
        (self.text.or(content).filter(|t| !t.is_empty()), calls)
    }
}

/// A non-streamed answer.
#[derive(Debug, Deserialize)]
pub(crate) struct FullResponse {
    #[serde(default)]
    pub choices: Vec<FullChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A choice of a non-streamed answer.
#[derive(Debug, Deserialize)]
pub(crate) struct FullChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub message: Option<FullMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The `message` of a non-streamed chat answer (`content` is null for tool calls).
#[derive(Debug, Deserialize)]
pub(crate) struct FullMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<FullToolCall>,
}

/// A call of a non-streamed answer.
#[derive(Debug, Deserialize)]
pub(crate) struct FullToolCall {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub function: CalledPiece,
}

impl From<FullToolCall> for duo_core::ToolCall {
    fn from(call: FullToolCall) -> Self {
        Self::new(
            call.id,
            call.function.name.unwrap_or_default(),
            call.function
                .arguments
                .filter(|a| !a.trim().is_empty())
                .unwrap_or_else(|| "{}".to_owned()),
        )
    }
}

/// `GET /models`.
#[cfg(any(feature = "vllm", feature = "openai"))]
#[derive(Debug, Deserialize)]
pub(crate) struct ModelList {
    #[serde(default)]
    pub data: Vec<ModelEntry>,
}

/// One served model.
#[cfg(any(feature = "vllm", feature = "openai"))]
#[derive(Debug, Deserialize)]
pub(crate) struct ModelEntry {
    pub id: String,
}

/// Parses a finish reason, treating a missing one as a natural stop.
pub(crate) fn finish_reason(reason: Option<&str>) -> FinishReason {
    reason.map_or(FinishReason::Stop, FinishReason::parse)
}

/// What an error body says, whatever shape the server used: OpenAI's and Azure's
/// `{"error": {"message", "code", "innererror"}}`, vLLM's older `{"object": "error", "message"}`,
/// `{"error": "text"}`, FastAPI's `{"detail": ...}`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorInfo {
    pub message: Option<String>,
    pub code: Option<String>,
    /// The content-filter verdict, when the error is Azure's `content_filter`.
    pub filtered: Option<String>,
}

impl ErrorInfo {
    /// Reads an error body (or a stream chunk's `error` value).
    pub fn parse(value: &Value) -> Self {
        let inner = value.get("error").unwrap_or(value);
        if let Some(text) = inner.as_str() {
            return Self {
                message: Some(text.to_owned()),
                ..Self::default()
            };
        }
        let text_of = |v: Option<&Value>| -> Option<String> {
            match v? {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }
        };
        let message = text_of(inner.get("message")).or_else(|| text_of(value.get("detail")));
        let code = text_of(inner.get("code"));
        let inner_code = inner.pointer("/innererror/code").and_then(Value::as_str);
        let is_filter = code.as_deref() == Some("content_filter")
            || inner_code == Some("ResponsibleAIPolicyViolation");
        let filtered = is_filter.then(|| filtered_categories(inner));
        Self {
            message,
            code,
            filtered,
        }
    }
}

/// `violence (medium), hate (high)` from Azure's `innererror.content_filter_result`.
fn filtered_categories(error: &Value) -> String {
    let Some(Value::Object(results)) = error.pointer("/innererror/content_filter_result") else {
        return String::new();
    };
    let mut hits: Vec<String> = results
        .iter()
        .filter(|(_, r)| r.get("filtered").and_then(Value::as_bool) == Some(true))
        .map(
            |(name, r)| match r.get("severity").and_then(Value::as_str) {
                Some(sev) => format!("{name} ({sev})"),
                None => name.clone(),
            },
        )
        .collect();
    hits.sort();
    hits.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_body_omits_what_is_unset() {
        let stop = vec!["\n\n".to_owned()];
        let body = RequestBody {
            model: Some("m"),
            prompt: Some("p"),
            suffix: None,
            messages: None,
            max_tokens: Some(64),
            max_completion_tokens: None,
            reasoning_effort: None,
            temperature: Some(0.32),
            top_p: None,
            stop: &stop,
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            continue_final_message: None,
            add_generation_prompt: None,
            tools: Vec::new(),
            tool_choice: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"model":"m","prompt":"p","max_tokens":64,"temperature":0.32,"stop":["\n\n"],"stream":true,"stream_options":{"include_usage":true}}"#
        );
    }

    #[test]
    fn error_info_reads_every_shape() {
        let openai = json!({"error": {"message": "bad", "type": "x", "code": 400}});
        assert_eq!(
            ErrorInfo::parse(&openai),
            ErrorInfo {
                message: Some("bad".into()),
                code: Some("400".into()),
                filtered: None
            }
        );
        let vllm = json!({"object": "error", "message": "no model", "code": 404});
        assert_eq!(ErrorInfo::parse(&vllm).message.as_deref(), Some("no model"));
        let plain = json!({"error": "Unauthorized"});
        assert_eq!(
            ErrorInfo::parse(&plain).message.as_deref(),
            Some("Unauthorized")
        );
        let fastapi = json!({"detail": "Not Found"});
        assert_eq!(
            ErrorInfo::parse(&fastapi).message.as_deref(),
            Some("Not Found")
        );
        let azure = json!({"error": {"code": "content_filter", "message": "filtered", "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {"hate": {"filtered": true, "severity": "high"},
                                      "violence": {"filtered": true, "severity": "medium"},
                                      "sexual": {"filtered": false, "severity": "safe"}}}}});
        assert_eq!(
            ErrorInfo::parse(&azure).filtered.as_deref(),
            Some("hate (high), violence (medium)")
        );
    }
}
