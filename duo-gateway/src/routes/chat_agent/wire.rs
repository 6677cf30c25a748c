//! The wire shapes of `POST /v2/chat/agent`: the request body and the NDJSON events answered.
//!
//! Field names follow `contract/reference.md` §1.9. Validation that serde cannot express (the
//! scratchpad-only-on-assistant rule, the context categories) lives in the route module.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::ModelMetadata;

/// What the gateway assumes the caller cannot reach when the request does not say.
pub const DEFAULT_UNAVAILABLE_RESOURCES: &str = "Merge Requests, Pipelines, Vulnerabilities";

/// The body of `POST /v2/chat/agent`.
#[derive(Debug, Deserialize)]
pub struct AgentRequest {
    /// The conversation, oldest first; the question is the last user message.
    pub messages: Vec<ChatMessage>,
    /// The agent's state (the scratchpad of the steps taken so far).
    #[serde(default)]
    pub options: Option<AgentOptions>,
    /// The self-hosted model to ask.
    #[serde(default)]
    pub model_metadata: Option<ModelMetadata>,
    /// Resources the assistant must say it cannot access; `null` means none.
    #[serde(default = "default_unavailable_resources")]
    pub unavailable_resources: Option<Vec<String>>,
}

fn default_unavailable_resources() -> Option<Vec<String>> {
    Some(vec![DEFAULT_UNAVAILABLE_RESOURCES.to_owned()])
}

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The user.
    User,
    /// Duo Chat.
    Assistant,
    /// Instructions.
    System,
}

/// One message of the conversation.
#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: ChatRole,
    /// The text; `null` on a trailing assistant message that carries the in-progress scratchpad.
    #[serde(default)]
    pub content: Option<String>,
    /// The page the user is looking at (an issue, an epic, …).
    #[serde(default)]
    pub context: Option<PageContext>,
    /// The file open in the editor, or the code the user selected.
    #[serde(default)]
    pub current_file: Option<CurrentFile>,
    /// Items the user attached (files, snippets, merge requests …).
    #[serde(default)]
    pub additional_context: Option<Vec<AdditionalContext>>,
    /// The agent's steps so far (assistant messages only).
    #[serde(default)]
    pub agent_scratchpad: Option<Vec<MessageStep>>,
}

/// The page context: older instances send `content`, newer ones only a `title`.
#[derive(Debug, Deserialize)]
pub struct PageContext {
    /// `issue`, `epic`, `merge_request`, `commit` or `build`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The page's content, as GitLab rendered it.
    #[serde(default)]
    pub content: Option<String>,
    /// The page's title.
    #[serde(default)]
    pub title: Option<String>,
}

/// `current_file` of a chat message.
#[derive(Debug, Deserialize)]
pub struct CurrentFile {
    /// The file's path.
    pub file_path: String,
    /// The file's content or the selection.
    pub data: String,
    /// Whether `data` is a selection rather than the whole file.
    #[serde(default)]
    pub selected_code: bool,
}

/// One item of `additional_context`.
#[derive(Debug, Deserialize)]
pub struct AdditionalContext {
    /// The kind of item; the caller needs `include_<category>_context` to send it.
    pub category: String,
    /// Its id (a path, a reference).
    #[serde(default)]
    pub id: Option<String>,
    /// Its text.
    #[serde(default)]
    pub content: Option<String>,
    /// Free-form metadata (not sent to the model).
    #[allow(
        dead_code,
        reason = "accepted as GitLab sends it; not sent to the model"
    )]
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// A scratchpad step as carried on an assistant message: `{action: {...}, observation}`.
#[derive(Debug, Deserialize)]
pub struct MessageStep {
    /// The tool call; steps without one are skipped.
    #[serde(default)]
    pub action: Option<StepAction>,
    /// What the tool answered.
    #[serde(default)]
    pub observation: String,
}

/// The tool call of a [`MessageStep`].
#[derive(Debug, Deserialize)]
pub struct StepAction {
    /// The agent's reasoning.
    #[serde(default)]
    pub thought: String,
    /// The tool's name.
    pub tool: String,
    /// The tool's input.
    #[serde(default)]
    pub tool_input: String,
}

/// `options` of the request.
#[derive(Debug, Deserialize)]
pub struct AgentOptions {
    /// The agent's state.
    pub agent_scratchpad: OptionsScratchpad,
}

/// `options.agent_scratchpad`.
#[derive(Debug, Deserialize)]
pub struct OptionsScratchpad {
    /// Must be `react`.
    pub agent_type: String,
    /// The steps taken so far.
    pub steps: Vec<OptionsStep>,
}

/// A flat scratchpad step of `options.agent_scratchpad.steps`.
#[derive(Debug, Deserialize)]
pub struct OptionsStep {
    /// The agent's reasoning.
    pub thought: String,
    /// The tool's name.
    pub tool: String,
    /// The tool's input.
    pub tool_input: String,
    /// What the tool answered.
    pub observation: String,
}

/// Token counts of the model call, in the usage event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UsageCounts {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
}

/// One NDJSON line of the answer: `{"type": "<kind>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The model asks for a tool; GitLab runs it and calls again with the observation.
    Action {
        /// The tool's name.
        tool: String,
        /// The tool's input.
        tool_input: String,
        /// The model's reasoning before the call.
        thought: String,
    },
    /// The next piece of the final answer.
    FinalAnswerDelta {
        /// The text.
        text: String,
        /// Why the model stopped, on the last delta only.
        #[serde(skip_serializing_if = "Option::is_none")]
        finish_reason: Option<String>,
    },
    /// Output that follows no ReAct format, whole.
    Unknown {
        /// The text.
        text: String,
    },
    /// The model failed after the answer started.
    Error {
        /// What went wrong.
        message: String,
        /// Whether asking again may succeed.
        retryable: bool,
    },
    /// Token counts, keyed by the model id.
    Usage {
        /// `{"<model>": {"input_tokens", "output_tokens"}}`.
        usage: BTreeMap<String, UsageCounts>,
    },
}

impl AgentEvent {
    /// A final-answer delta without a finish reason.
    #[must_use]
    pub fn delta(text: impl Into<String>) -> Self {
        Self::FinalAnswerDelta {
            text: text.into(),
            finish_reason: None,
        }
    }

    /// Appends the event as one JSON line to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        // Serialising these plain structs cannot fail; a failure would drop only this line.
        if serde_json::to_writer(&mut *out, self).is_ok() {
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(e: &AgentEvent) -> Value {
        let mut out = Vec::new();
        e.write_line(&mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn events_serialise_as_type_and_data() {
        assert_eq!(
            line(&AgentEvent::Action {
                tool: "issue_reader".into(),
                tool_input: "#1".into(),
                thought: "read it".into()
            }),
            json!({"type": "action", "data": {"tool": "issue_reader", "tool_input": "#1", "thought": "read it"}})
        );
        assert_eq!(
            line(&AgentEvent::delta("hi")),
            json!({"type": "final_answer_delta", "data": {"text": "hi"}})
        );
        assert_eq!(
            line(&AgentEvent::FinalAnswerDelta {
                text: String::new(),
                finish_reason: Some("stop".into())
            }),
            json!({"type": "final_answer_delta", "data": {"text": "", "finish_reason": "stop"}})
        );
        assert_eq!(
            line(&AgentEvent::Unknown { text: "x".into() }),
            json!({"type": "unknown", "data": {"text": "x"}})
        );
        assert_eq!(
            line(&AgentEvent::Error {
                message: "m".into(),
                retryable: true
            }),
            json!({"type": "error", "data": {"message": "m", "retryable": true}})
        );
        let usage = BTreeMap::from([(
            "m".to_owned(),
            UsageCounts {
                input_tokens: 3,
                output_tokens: 4,
            },
        )]);
        assert_eq!(
            line(&AgentEvent::Usage { usage }),
            json!({"type": "usage", "data": {"usage": {"m": {"input_tokens": 3, "output_tokens": 4}}}})
        );
    }

    #[test]
    fn unavailable_resources_default_and_null() {
        let r: AgentRequest =
            serde_json::from_value(json!({"messages": [{"role": "user", "content": "hi"}]}))
                .unwrap();
        assert_eq!(
            r.unavailable_resources,
            Some(vec![DEFAULT_UNAVAILABLE_RESOURCES.to_owned()])
        );
        let r: AgentRequest = serde_json::from_value(
            json!({"messages": [{"role": "user", "content": "hi"}], "unavailable_resources": null}),
        )
        .unwrap();
        assert_eq!(r.unavailable_resources, None);
    }
}
