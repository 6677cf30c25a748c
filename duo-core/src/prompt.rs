//! [`Prompt`], [`GenerationParams`] and [`ModelRequest`]: what the model is asked, and how.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Tool, ToolCall, ToolChoice};

/// Who speaks a chat [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The user's turn.
    User,
    /// The model's turn (or a prefill of it).
    Assistant,
    /// The result of a tool call, answering the model's call named by
    /// [`Message::tool_call_id`].
    Tool,
}

impl Role {
    /// The lower-case name used on every wire (`system`, `user`, `assistant`, `tool`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
        }
    }
}

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said (for a [`Role::Tool`] message, the tool's result).
    pub content: String,
    /// The tool calls an assistant message made (none for other roles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Which call a [`Role::Tool`] message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with `role` and `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// An assistant message that made `calls` (its text may be empty).
    pub fn assistant_tool_calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::new(Role::Assistant, content)
        }
    }

    /// The result of the call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(Role::Tool, content)
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// What the model is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// Raw text for a completions endpoint, already laid out (it may contain a family's FIM tokens).
    Text(String),
    /// Code before and after the cursor, for servers that lay out fill-in-the-middle themselves
    /// (OpenAI-style `suffix`); providers without native FIM send it as one user turn.
    FillInTheMiddle {
        /// Code before the cursor.
        prefix: String,
        /// Code after the cursor.
        suffix: String,
    },
    /// Chat turns for a chat endpoint.
    Chat(Vec<Message>),
}

impl Prompt {
    /// The prompt's size in characters (Unicode scalar values), summed over its parts (tool
    /// calls' names and arguments included).
    #[must_use]
    pub fn char_len(&self) -> usize {
        match self {
            Self::Text(t) => t.chars().count(),
            Self::FillInTheMiddle { prefix, suffix } => {
                prefix.chars().count() + suffix.chars().count()
            }
            Self::Chat(messages) => messages
                .iter()
                .map(|m| {
                    m.content.chars().count()
                        + m.tool_calls
                            .iter()
                            .map(|c| c.name.chars().count() + c.arguments.chars().count())
                            .sum::<usize>()
                })
                .sum(),
        }
    }

    /// Whether this is a chat prompt.
    #[must_use]
    pub fn is_chat(&self) -> bool {
        matches!(self, Self::Chat(_))
    }
}

/// Sampling and length settings for one call; `None` leaves the upstream's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationParams {
    /// Maximum tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Sequences that end the answer (not included in it).
    pub stop: Vec<String>,
    /// How long the whole call may take, as the prompt definition asks (`params.timeout`).
    pub timeout: Option<Duration>,
    /// How hard a reasoning model thinks (`minimal`, `low`, `medium`, `high`, as OpenAI names
    /// it), sent to OpenAI-style APIs as `reasoning_effort`; others ignore it.
    pub reasoning_effort: Option<String>,
}

impl GenerationParams {
    /// The first `n` stop sequences: OpenAI's and Azure's APIs accept at most four.
    #[must_use]
    pub fn stop_limited(&self, n: usize) -> &[String] {
        &self.stop[..self.stop.len().min(n)]
    }
}

/// One call to a model: the prompt, its parameters and the tools it may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    /// What to ask.
    pub prompt: Prompt,
    /// How to sample.
    pub params: GenerationParams,
    /// The tools the model may call (none: a plain answer).
    pub tools: Vec<Tool>,
    /// Whether and which tool it must call; ignored without tools.
    pub tool_choice: ToolChoice,
}

impl ModelRequest {
    /// A request with default parameters and no tools.
    #[must_use]
    pub fn new(prompt: Prompt) -> Self {
        Self {
            prompt,
            params: GenerationParams::default(),
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
        }
    }

    /// Gives the model `tools` to call, as `choice` says.
    #[must_use]
    pub fn with_tools(mut self, tools: Vec<Tool>, choice: ToolChoice) -> Self {
        self.tools = tools;
        self.tool_choice = choice;
        self
    }

    /// Whether the model is to be offered tools: some are given and the choice is not
    /// [`ToolChoice::None`].
    #[must_use]
    pub fn offers_tools(&self) -> bool {
        !self.tools.is_empty() && self.tool_choice != ToolChoice::None
    }

    /// Replaces the parameters.
    #[must_use]
    pub fn with_params(mut self, params: GenerationParams) -> Self {
        self.params = params;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_serialize_lowercase() {
        let m = Message::assistant("hi");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"role":"assistant","content":"hi"}"#
        );
        let back: Message = serde_json::from_str(r#"{"role":"system","content":"x"}"#).unwrap();
        assert_eq!(back, Message::system("x"));
        assert!(serde_json::from_str::<Message>(r#"{"role":"robot","content":"x"}"#).is_err());
        assert_eq!(Role::User.as_str(), "user");
        let result = Message::tool_result("call_1", "42");
        assert_eq!(
            serde_json::to_string(&result).unwrap(),
            r#"{"role":"tool","content":"42","tool_call_id":"call_1"}"#
        );
        let call = Message::assistant_tool_calls("", vec![ToolCall::new("c", "t", "{}")]);
        let json = serde_json::to_string(&call).unwrap();
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), call);
    }

    #[test]
    fn char_len_counts_characters_not_bytes() {
        assert_eq!(Prompt::Text("héllo".into()).char_len(), 5);
        let fim = Prompt::FillInTheMiddle {
            prefix: "ab".into(),
            suffix: "｜".into(),
        };
        assert_eq!(fim.char_len(), 3);
        let chat = Prompt::Chat(vec![Message::system("ab"), Message::user("cde")]);
        assert_eq!(chat.char_len(), 5);
        assert!(chat.is_chat());
        assert!(!fim.is_chat());
    }

    #[test]
    fn stop_limited_takes_at_most_n() {
        let p = GenerationParams {
            stop: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
            ..GenerationParams::default()
        };
        assert_eq!(p.stop_limited(4), ["a", "b", "c", "d"]);
        assert_eq!(p.stop_limited(10).len(), 5);
        assert!(GenerationParams::default().stop_limited(4).is_empty());
    }

    #[test]
    fn request_builder_keeps_params() {
        let params = GenerationParams {
            max_tokens: Some(64),
            ..GenerationParams::default()
        };
        let r = ModelRequest::new(Prompt::Text("x".into())).with_params(params.clone());
        assert_eq!(r.params, params);
    }
}
