//! OpenAI's wire format: request bodies of `/v1/chat/completions` and `/v1/completions`, and the
//! objects the API answers (`chat.completion`, `chat.completion.chunk`, `text_completion`,
//! `list` of `model`, errors), as OpenAI's API reference defines them.
//!
//! Requests are owned (deserialized once); responses borrow, so the stream path serializes each
//! chunk straight from the model's text without copying it into a struct first. Fields this
//! gateway does not act on are ignored, except those whose silent loss would change the answer
//! (`n`, `functions`, `logprobs`, `echo`, …), which the gateway refuses with a 400 naming the
//! field.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// `POST /v1/chat/completions`.
#[derive(Debug, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model's name, as listed by `GET /v1/models`.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Maximum tokens to generate (legacy name).
    pub max_tokens: Option<u32>,
    /// Maximum tokens to generate (current name; wins over `max_tokens`).
    pub max_completion_tokens: Option<u32>,
    /// How hard a reasoning model thinks: `none`, `minimal`, `low`, `medium` or `high`.
    pub reasoning_effort: Option<String>,
    /// Sampling temperature, 0–2.
    pub temperature: Option<f32>,
    /// Nucleus sampling, 0–1.
    pub top_p: Option<f32>,
    /// Stop sequences.
    pub stop: Option<Stop>,
    /// Answer as server-sent events.
    pub stream: Option<bool>,
    /// Streaming options.
    pub stream_options: Option<StreamOptions>,
    /// How many choices (only 1 is served).
    pub n: Option<u32>,
    /// The tools the model may call.
    pub tools: Option<Vec<ToolDefinition>>,
    /// `auto`, `none`, `required` (or `any`), or `{"type": "function", "function": {"name"}}`.
    pub tool_choice: Option<serde_json::Value>,
    /// Legacy function definitions (not served: use `tools`).
    pub functions: Option<Vec<IgnoredAny>>,
    /// Token log-probabilities (not served).
    pub logprobs: Option<bool>,
}

/// One message of a chat request.
#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text, or content parts; `null` for an assistant turn that only called tools.
    pub content: Option<MessageContent>,
    /// The calls an assistant turn made.
    pub tool_calls: Option<Vec<ToolCallIn>>,
    /// Which call a `tool` message answers.
    pub tool_call_id: Option<String>,
}

/// `{"type": "function", "function": {"name", "description", "parameters", "strict"}}`.
#[derive(Debug, Deserialize)]
pub struct ToolDefinition {
    /// `function` (the only kind served).
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

/// A tool's function.
#[derive(Debug, Deserialize)]
pub struct FunctionDefinition {
    /// `[a-zA-Z0-9_-]{1,64}`.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// A JSON Schema object of its arguments.
    pub parameters: Option<serde_json::Value>,
}

/// A call in an assistant message of a request.
#[derive(Debug, Deserialize)]
pub struct ToolCallIn {
    /// The call's id.
    pub id: String,
    /// `function`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The function called.
    pub function: CalledFunction,
}

/// The function a call names, with its arguments as JSON text.
#[derive(Debug, Deserialize)]
pub struct CalledFunction {
    /// The tool's name.
    pub name: String,
    /// The arguments, JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A message's content: a string or a list of parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Content parts (`{"type": "text", "text": …}`; other types are refused).
    Parts(Vec<ContentPart>),
}

/// One content part.
#[derive(Debug, Deserialize)]
pub struct ContentPart {
    /// The part's type (`text`, `image_url`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    pub text: Option<String>,
}

/// `stop`: one sequence or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One sequence.
    One(String),
    /// Several sequences.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the usage (and `"usage": null` on the others).
    pub include_usage: Option<bool>,
}

/// `POST /v1/completions`.
#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    /// The model's name, as listed by `GET /v1/models`.
    pub model: String,
    /// The prompt: a string, or a list holding one string.
    pub prompt: Option<PromptInput>,
    /// Text after the completion (fill-in-the-middle).
    pub suffix: Option<String>,
    /// Maximum tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0–2.
    pub temperature: Option<f32>,
    /// Nucleus sampling, 0–1.
    pub top_p: Option<f32>,
    /// Stop sequences.
    pub stop: Option<Stop>,
    /// Answer as server-sent events.
    pub stream: Option<bool>,
    /// Streaming options.
    pub stream_options: Option<StreamOptions>,
    /// How many choices (only 1 is served).
    pub n: Option<u32>,
    /// Server-side best-of sampling (only 1 is served).
    pub best_of: Option<u32>,
    /// Echo the prompt back (not served).
    pub echo: Option<bool>,
    /// Token log-probabilities (not served).
    pub logprobs: Option<u32>,
}

/// `prompt` of a completions request.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PromptInput {
    /// One prompt.
    One(String),
    /// A batch of prompts (only a batch of one is served).
    Many(Vec<String>),
}

/// Token counts, as OpenAI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Their sum.
    pub total_tokens: u32,
}

impl From<duo_core::Usage> for Usage {
    fn from(u: duo_core::Usage) -> Self {
        Self {
            prompt_tokens: u.input_tokens,
            completion_tokens: u.output_tokens,
            total_tokens: u.total_tokens(),
        }
    }
}

/// A `chat.completion` object.
#[derive(Debug, Serialize)]
pub struct ChatCompletion<'a> {
    /// `chatcmpl-<uuid>`.
    pub id: &'a str,
    /// `chat.completion`.
    pub object: &'static str,
    /// Unix seconds.
    pub created: u64,
    /// The model's name as the client sent it.
    pub model: &'a str,
    /// The one choice.
    pub choices: &'a [ChatChoice<'a>],
    /// Token counts, when the upstream reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// A choice of a `chat.completion`.
#[derive(Debug, Serialize)]
pub struct ChatChoice<'a> {
    /// Always 0.
    pub index: u32,
    /// The answer.
    pub message: AssistantMessage<'a>,
    /// Always `null`.
    pub logprobs: Option<()>,
    /// `stop`, `length`, `content_filter`, …
    pub finish_reason: &'a str,
}

/// The assistant's message of a choice.
#[derive(Debug, Serialize)]
pub struct AssistantMessage<'a> {
    /// `assistant`.
    pub role: &'static str,
    /// The answer's text; `null` when the model only called tools.
    pub content: Option<&'a str>,
    /// The calls the model made.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tool_calls: Vec<ToolCallOut<'a>>,
}

/// A call of an answer, or a piece of one in a stream (`index` only in a stream; `id`, `type`
/// and `name` only on a call's first piece).
#[derive(Debug, Serialize)]
pub struct ToolCallOut<'a> {
    /// Which call of the answer (streams only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The call's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// `function`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The function and (more of) its arguments.
    pub function: FunctionOut<'a>,
}

/// The function of a [`ToolCallOut`].
#[derive(Debug, Serialize)]
pub struct FunctionOut<'a> {
    /// The tool's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// The arguments (JSON text), or the next piece of them.
    pub arguments: &'a str,
}

/// A `chat.completion.chunk` object (one SSE event).
#[derive(Debug, Serialize)]
pub struct ChatCompletionChunk<'a> {
    /// The same id on every chunk of a stream.
    pub id: &'a str,
    /// `chat.completion.chunk`.
    pub object: &'static str,
    /// Unix seconds, the same on every chunk.
    pub created: u64,
    /// The model's name as the client sent it.
    pub model: &'a str,
    /// One choice, or none on the usage chunk.
    pub choices: &'a [ChunkChoice<'a>],
    /// Absent unless `stream_options.include_usage`; then `null` except on the last chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// A choice of a chunk.
#[derive(Debug, Serialize)]
pub struct ChunkChoice<'a> {
    /// Always 0.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta<'a>,
    /// Always `null`.
    pub logprobs: Option<()>,
    /// `null` until the last content chunk.
    pub finish_reason: Option<&'a str>,
}

/// The delta of a chunk: the role on the first chunk, text on the next, nothing on the last.
#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    /// `assistant`, on the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// A piece of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
    /// A piece of a tool call.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tool_calls: Vec<ToolCallOut<'a>>,
}

/// A `text_completion` object (the whole answer, or one SSE event of a stream).
#[derive(Debug, Serialize)]
pub struct TextCompletion<'a> {
    /// `cmpl-<uuid>`.
    pub id: &'a str,
    /// `text_completion`.
    pub object: &'static str,
    /// Unix seconds.
    pub created: u64,
    /// The model's name as the client sent it.
    pub model: &'a str,
    /// One choice, or none on the usage chunk of a stream.
    pub choices: &'a [TextChoice<'a>],
    /// Token counts: on the answer when known; on a stream as for chat chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// A choice of a `text_completion`.
#[derive(Debug, Serialize)]
pub struct TextChoice<'a> {
    /// The text (the whole answer, or a piece of the stream).
    pub text: &'a str,
    /// Always 0.
    pub index: u32,
    /// Always `null`.
    pub logprobs: Option<()>,
    /// Why the model stopped; `null` on a stream's pieces.
    pub finish_reason: Option<&'a str>,
}

/// `GET /v1/models`: `{"object": "list", "data": […]}`.
#[derive(Debug, Serialize)]
pub struct ModelList<'a> {
    /// `list`.
    pub object: &'static str,
    /// The models.
    pub data: Vec<ModelObject<'a>>,
}

/// A `model` object.
#[derive(Debug, Serialize)]
pub struct ModelObject<'a> {
    /// The name clients send.
    pub id: &'a str,
    /// `model`.
    pub object: &'static str,
    /// Unix seconds (when the gateway started).
    pub created: u64,
    /// Who serves it.
    pub owned_by: &'a str,
}

/// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The error.
    pub error: ErrorDetail<'a>,
}

/// The error of an [`ErrorBody`].
#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    /// What went wrong, for humans.
    pub message: &'a str,
    /// `invalid_request_error`, `rate_limit_error`, `api_error`, …
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The request field at fault, if any.
    pub param: Option<&'a str>,
    /// A stable code (`invalid_api_key`, `model_not_found`, …), if any.
    pub code: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunks_serialize_as_openai_frames_them() {
        let choice = [ChunkChoice {
            index: 0,
            delta: Delta {
                role: Some("assistant"),
                content: Some(""),
                tool_calls: Vec::new(),
            },
            logprobs: None,
            finish_reason: None,
        }];
        let chunk = ChatCompletionChunk {
            id: "chatcmpl-1",
            object: "chat.completion.chunk",
            created: 7,
            model: "m",
            choices: &choice,
            usage: Some(None),
        };
        assert_eq!(
            serde_json::to_value(&chunk).unwrap(),
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7,
                   "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                   "logprobs": null, "finish_reason": null}], "usage": null})
        );
        let last = ChatCompletionChunk {
            choices: &[],
            usage: Some(Some(
                duo_core::Usage {
                    input_tokens: 3,
                    output_tokens: 4,
                }
                .into(),
            )),
            ..chunk
        };
        assert_eq!(
            serde_json::to_value(&last).unwrap()["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
        );
    }

    #[test]
    fn requests_accept_openai_variants() {
        let r: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}], "name": "x"}],
            "stop": "END", "stream_options": {"include_usage": true}, "user": "u", "seed": 1
        }))
        .unwrap();
        assert!(matches!(r.stop, Some(Stop::One(_))));
        assert!(matches!(
            r.messages[0].content,
            Some(MessageContent::Parts(_))
        ));
        let r: CompletionRequest =
            serde_json::from_value(json!({"model": "m", "prompt": ["a"], "stop": ["x", "y"]}))
                .unwrap();
        assert!(matches!(r.prompt, Some(PromptInput::Many(ref p)) if p.len() == 1));
    }
}
