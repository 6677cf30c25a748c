//! The wire shapes of the deprecated `POST /v1/chat/{chat_invokable}` (reference §1.8).

use duo_core::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request body.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    /// Exactly one component.
    pub prompt_components: Vec<PromptComponent>,
    /// Stream the answer as raw text chunks.
    #[serde(default)]
    pub stream: Option<bool>,
}

/// The one prompt component.
#[derive(Debug, Deserialize)]
pub struct PromptComponent {
    /// A free label, e.g. `prompt` (at most 100 characters).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the prompt comes from.
    pub metadata: PromptMetadata,
    /// The prompt and the model to send it to.
    pub payload: PromptPayload,
}

/// `metadata` of a component.
#[derive(Debug, Deserialize)]
pub struct PromptMetadata {
    /// E.g. `GitLab EE` (at most 100 characters).
    pub source: String,
    /// E.g. `17.9.0` (at most 100 characters).
    pub version: String,
}

/// `payload` of a component.
#[derive(Debug, Deserialize)]
pub struct PromptPayload {
    /// A string (one user message) or a list of `{role, content}` messages.
    pub content: Value,
    /// `litellm` for self-hosted models.
    #[serde(default)]
    pub provider: Option<String>,
    /// The model family key (`mistral`, `mixtral`, `codegemma`, …).
    #[serde(default)]
    pub model: Option<String>,
    /// Sampling settings.
    #[serde(default)]
    pub params: Option<Params>,
    /// The model server's base URL.
    #[serde(default)]
    pub model_endpoint: Option<String>,
    /// The model server's key.
    #[serde(default)]
    pub model_api_key: Option<Secret>,
    /// `provider/model`.
    #[serde(default)]
    pub model_identifier: Option<String>,
}

/// `payload.params`.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    /// 1 to 10 stop sequences of at most 225 characters.
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    /// 0 to 1.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// 1 to 8192.
    #[serde(default)]
    pub max_tokens_to_sample: Option<u32>,
}

/// The non-streaming answer.
#[derive(Debug, Serialize)]
pub struct ChatResponse {
    /// The model's text.
    pub response: String,
    /// Who answered, and when.
    pub metadata: ChatResponseMetadata,
}

/// `metadata` of the answer.
#[derive(Debug, Serialize)]
pub struct ChatResponseMetadata {
    /// Always `litellm`.
    pub provider: &'static str,
    /// The `model` of the request.
    pub model: String,
    /// Unix seconds.
    pub timestamp: u64,
}
