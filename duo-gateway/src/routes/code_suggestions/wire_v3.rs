//! Request and response bodies of `POST /v3/code/completions` and `POST /v4/code/suggestions`
//! (reference §1.5, §1.6), as plain serde structs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire::{Choice, ModelMetadata};

/// The body: prompt components and, top-level, the self-hosted model.
///
/// Components stay JSON values here so that errors can name the component's index
/// (see `v3::parse`).
#[derive(Debug, Deserialize)]
pub(super) struct CompletionRequest {
    /// 1 to 100 components; the first decides completion or generation.
    pub(super) prompt_components: Vec<Value>,
    /// The model (`provider`, `name`, `endpoint`, `api_key`, `identifier`).
    #[serde(default)]
    pub(super) model_metadata: Option<ModelMetadata>,
}

/// `metadata` of a component (informational).
#[derive(Debug, Deserialize)]
pub(super) struct ComponentMetadata {
    /// The client, e.g. `GitLab EE`.
    pub(super) source: String,
    /// Its version.
    pub(super) version: String,
}

/// `payload` of a `code_editor_completion` or `code_editor_generation` component. Fields this
/// gateway does not use (`model_name`, `role_arn`, `choices_count`) are ignored.
#[derive(Debug, Deserialize)]
pub(super) struct EditorPayload {
    /// The file's name (language detection).
    pub(super) file_name: String,
    /// Code before the cursor.
    pub(super) content_above_cursor: String,
    /// Code after the cursor.
    pub(super) content_below_cursor: String,
    /// The editor's language id.
    #[serde(default)]
    pub(super) language_identifier: Option<String>,
    /// A GitLab-managed provider (`vertex-ai`, `anthropic`, `amazon_q`): not served here.
    #[serde(default)]
    pub(super) model_provider: Option<String>,
    /// Stream the answer.
    #[serde(default)]
    pub(super) stream: Option<bool>,
    /// Completion: a string or messages; generation: a string (≤ 400 000). Not used, as in the
    /// reference (generation instructions come in `prompt_enhancer.user_instruction`).
    #[serde(default)]
    pub(super) prompt: Option<Value>,
    /// Generation: the prompt definition (`code_suggestions/generations`).
    #[serde(default)]
    pub(super) prompt_id: Option<String>,
    /// Generation: its semver constraint (default `^1.0.0`).
    #[serde(default)]
    pub(super) prompt_version: Option<String>,
    /// Generation: extra template variables (`examples_array`, `libraries`, `user_instruction` …).
    #[serde(default)]
    pub(super) prompt_enhancer: Option<Map<String, Value>>,
}

/// `payload` of a `code_context` component.
#[derive(Debug, Deserialize)]
pub(super) struct CodeContextPayload {
    /// E.g. `file` or `snippet`.
    #[serde(rename = "type")]
    pub(super) kind: String,
    /// E.g. a path.
    pub(super) name: String,
    /// The text.
    pub(super) content: String,
}

/// `model` of a v3/v4 response (and of its `metadata`).
#[derive(Debug, Clone, Serialize)]
pub(super) struct ModelInfo {
    /// The request's `model_metadata.provider` (`litellm` when absent), as the reference echoes it.
    pub(super) engine: String,
    /// The model family key.
    pub(super) name: String,
    /// The file's language.
    pub(super) lang: Option<String>,
}

/// `metadata` of a v3/v4 response, and of the v4 `stream_start` event.
#[derive(Debug, Serialize)]
pub(super) struct ResponseMetadata {
    /// Which model answered.
    pub(super) model: ModelInfo,
    /// Unix seconds.
    pub(super) timestamp: u64,
    /// The flags the instance pushed.
    pub(super) enabled_feature_flags: Vec<String>,
    /// Always `null`: no cloud region for self-hosted models.
    pub(super) region: Option<String>,
}

/// The non-streaming answer of v3 and v4.
#[derive(Debug, Serialize)]
pub(super) struct CompletionResponse {
    /// Zero (empty suggestion) or one suggestion.
    pub(super) choices: Vec<Choice>,
    /// Model, time, flags.
    pub(super) metadata: ResponseMetadata,
    /// The same as `metadata.model`, as the running reference answers.
    pub(super) model: ModelInfo,
}

/// `data` of the v4 `stream_start` event.
#[derive(Debug, Serialize)]
pub(super) struct StreamStart<'a> {
    /// The response metadata, sent once.
    pub(super) metadata: &'a ResponseMetadata,
}
