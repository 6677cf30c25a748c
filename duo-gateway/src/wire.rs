//! GitLab's AI-gateway request and response bodies, as plain serde structs.
//!
//! Field names, limits and shapes follow `contract/reference.md` §1. Translation to `duo-core`
//! types happens in the route modules, once.

use duo_core::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `current_file` of a code-suggestions request.
#[derive(Debug, Deserialize)]
pub struct CurrentFile {
    /// The file's name (language detection).
    pub file_name: String,
    /// The editor's language id, overriding detection.
    #[serde(default)]
    pub language_identifier: Option<String>,
    /// Code before the cursor.
    pub content_above_cursor: String,
    /// Code after the cursor.
    pub content_below_cursor: String,
}

/// One `context` item: another open file, an import, a snippet.
#[derive(Debug, Deserialize)]
pub struct ContextItem {
    /// The kind, e.g. `file` or `snippet`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name, e.g. a path.
    pub name: String,
    /// Its text.
    pub content: String,
}

/// `POST /v2/code/completions` and `/v2/code/generations`.
#[derive(Debug, Deserialize)]
pub struct CodeSuggestionsRequest {
    /// 1: build the prompt; 2: `prompt` is a ready string (or null); 3: `prompt` is messages.
    #[serde(default = "default_prompt_version")]
    pub prompt_version: u8,
    /// The file being edited.
    pub current_file: CurrentFile,
    /// The project's path (logged only).
    #[serde(default)]
    pub project_path: Option<String>,
    /// The project's id (logged only).
    #[allow(
        dead_code,
        reason = "type-checked as GitLab's gateway checks it; not used"
    )]
    #[serde(default)]
    pub project_id: Option<i64>,
    /// `litellm` for self-hosted models.
    #[serde(default)]
    pub model_provider: Option<String>,
    /// The model family key.
    #[serde(default)]
    pub model_name: Option<String>,
    /// The model server's base URL.
    #[serde(default)]
    pub model_endpoint: Option<String>,
    /// The model server's key.
    #[serde(default)]
    pub model_api_key: Option<Secret>,
    /// `provider/model`.
    #[serde(default)]
    pub model_identifier: Option<String>,
    /// Legacy client telemetry (ignored).
    #[serde(default)]
    pub telemetry: Vec<Value>,
    /// Stream the answer as raw text chunks.
    #[serde(default)]
    pub stream: bool,
    /// Number of suggestions asked for (only one is served for self-hosted models).
    #[allow(
        dead_code,
        reason = "type-checked as GitLab's gateway checks it; not used"
    )]
    #[serde(default)]
    pub choices_count: u32,
    /// Extra context items.
    #[serde(default)]
    pub context: Vec<ContextItem>,
    /// The prompt definition to use (generations: `code_suggestions/generations`).
    #[serde(default)]
    pub prompt_id: Option<String>,
    /// Amazon Q only (ignored).
    #[allow(
        dead_code,
        reason = "type-checked as GitLab's gateway checks it; not used"
    )]
    #[serde(default)]
    pub role_arn: Option<String>,
    /// Version 2: a string; version 3: a list of `{role, content}`.
    #[serde(default)]
    pub prompt: Option<Value>,
}

fn default_prompt_version() -> u8 {
    1
}

/// `model_metadata`: the self-hosted model a chat or prompt request is for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModelMetadata {
    /// Rails' provider label (`openai`, `api`, `bedrock`, …); not used for routing.
    #[serde(default)]
    pub provider: Option<String>,
    /// The model family key.
    #[serde(default)]
    pub name: Option<String>,
    /// The model server's base URL.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The model server's key.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// `provider/model`.
    #[serde(default)]
    pub identifier: Option<String>,
}

/// `POST /v1/prompts/{prompt_id}` and `/v2/prompts/{prompt_id}`.
#[derive(Debug, Deserialize)]
pub struct PromptRequest {
    /// Template variables.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// A semver constraint; `^1.0.0` when absent.
    #[serde(default)]
    pub prompt_version: Option<String>,
    /// Stream the answer.
    #[serde(default)]
    pub stream: bool,
    /// The model to use.
    #[serde(default)]
    pub model_metadata: Option<ModelMetadata>,
}

/// `model` of a code-suggestions response.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    /// `litellm`, as the reference answers for self-hosted models.
    pub engine: &'static str,
    /// The model family key.
    pub name: String,
    /// The language of the file.
    pub lang: Option<String>,
    /// Token counts of the call, when the upstream reported them.
    pub tokens_consumption_metadata: Option<TokensConsumption>,
}

/// Token counts in a code-suggestions response.
#[derive(Debug, Serialize)]
pub struct TokensConsumption {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
}

/// One suggestion.
#[derive(Debug, Serialize)]
pub struct Choice {
    /// The suggested code.
    pub text: String,
    /// Always 0: one suggestion per request.
    pub index: u32,
    /// `length`, as the reference answers.
    pub finish_reason: &'static str,
}

/// `metadata` of a code-suggestions response.
#[derive(Debug, Serialize)]
pub struct ResponseMetadata {
    /// The feature flags the instance pushed in `x-gitlab-enabled-feature-flags`.
    pub enabled_feature_flags: Vec<String>,
}

/// The non-streaming answer of the v2 code-suggestions routes.
#[derive(Debug, Serialize)]
pub struct CodeSuggestionsResponse {
    /// Always `id`.
    pub id: &'static str,
    /// Always `text_completion`.
    pub object: &'static str,
    /// Unix seconds.
    pub created: u64,
    /// Which model answered.
    pub model: ModelInfo,
    /// Always empty.
    pub experiments: Vec<Value>,
    /// Echoed feature flags.
    pub metadata: ResponseMetadata,
    /// Zero (empty suggestion) or one suggestion.
    pub choices: Vec<Choice>,
}
