//! The YAML schema of a definition file (serde structs only; the meaning lives in `loader`).
//!
//! Unknown keys are rejected so that a typo fails the load instead of being silently ignored. A
//! few keys of GitLab's own schema that have no effect here (`model.params.max_retries`,
//! `model.params.model`, `operation_type`) are accepted and ignored, so GitLab-style definitions
//! load with few changes.

use serde::Deserialize;

/// One definition file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefinitionFile {
    /// Display name (the response's `model.name` on some routes).
    pub name: String,
    /// How the prompt is sent: chat turns (default) or raw text.
    #[serde(default)]
    pub kind: KindField,
    /// Model parameters.
    #[serde(default)]
    pub model: Option<ModelSection>,
    /// The unit primitive (token scope) the feature needs.
    pub unit_primitive: String,
    /// Invocation parameters: timeout and stop sequences.
    #[serde(default)]
    pub params: Option<ParamsSection>,
    /// Inputs that must be present; rendering without one fails with a missing-variable error.
    #[serde(default)]
    pub required_inputs: Vec<String>,
    /// The input holding earlier chat turns (`[{role, content}]`), sent between system and user.
    #[serde(default)]
    pub history_input: Option<String>,
    /// Jinja templates per role.
    pub prompt_template: TemplateSection,
    /// GitLab's billing hint; accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    pub operation_type: Option<String>,
}

/// `kind:` of a definition.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KindField {
    /// Chat messages.
    #[default]
    Chat,
    /// Raw text for a `/completions` endpoint: the `user` template is the whole prompt.
    Text,
}

/// `model:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelSection {
    /// Sampling parameters.
    #[serde(default)]
    pub params: ModelParams,
}

/// `model.params:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelParams {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub top_p: Option<f32>,
    /// Accepted for GitLab compatibility; retries belong to the gateway's resilience layer.
    #[allow(dead_code)]
    pub max_retries: Option<u32>,
    /// Accepted for GitLab compatibility; the model comes from the request's identifier.
    #[allow(dead_code)]
    pub model: Option<String>,
}

/// `params:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParamsSection {
    /// Seconds the whole call may take.
    pub timeout: Option<f64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
}

/// `prompt_template:` section: each role is one template, or a list of templates (one message each).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateSection {
    pub system: Option<OneOrMany>,
    pub user: Option<OneOrMany>,
    pub assistant: Option<OneOrMany>,
}

/// A template string, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}
