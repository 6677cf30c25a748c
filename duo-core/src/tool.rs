//! Native tool calling: the [`Tool`]s a model may call, the [`ToolChoice`] it is given, the
//! [`ToolCall`]s it makes, and [`ToolCallDelta`], a call as it streams.
//!
//! A conversation with tools runs in rounds: the request carries the tools; the model answers
//! with tool calls (finish reason [`ToolCalls`](crate::FinishReason::ToolCalls)); the caller
//! runs them and sends the conversation back with the model's calls as an assistant
//! [`Message`](crate::Message) ([`Message::assistant_tool_calls`](crate::Message::assistant_tool_calls))
//! and each result as a [`Role::Tool`](crate::Role::Tool) message
//! ([`Message::tool_result`](crate::Message::tool_result)). Every provider maps these to its own
//! wire (OpenAI `tools`/`tool_calls`, Anthropic `tool_use`/`tool_result`, Bedrock
//! `toolUse`/`toolResult`, Gemini `functionCall`/`functionResponse`).
//!
//! ```
//! use duo_core::{ToolCall, ToolCallDelta, ToolCalls};
//!
//! // A streamed call arrives in pieces; the collector joins them by index.
//! let mut calls = ToolCalls::default();
//! calls.push(ToolCallDelta::start(0, "call_1", "get_weather"));
//! calls.push(ToolCallDelta::arguments(0, "{\"city\":"));
//! calls.push(ToolCallDelta::arguments(0, "\"Paris\"}"));
//! assert_eq!(calls.finish(), vec![ToolCall::new("call_1", "get_weather", "{\"city\":\"Paris\"}")]);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A function the model may call: its name, what it does and a JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The function's name (what the model's call names).
    pub name: String,
    /// What the function does, for the model; may be empty.
    #[serde(default)]
    pub description: String,
    /// A JSON Schema object for the arguments (`{"type": "object", …}`).
    pub parameters: Value,
}

impl Tool {
    /// A tool with `name`, `description` and the argument schema `parameters`.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            parameters,
        }
    }

    /// The argument schema, or an empty object schema when none was given (every provider
    /// needs one).
    #[must_use]
    pub fn schema(&self) -> Value {
        match &self.parameters {
            Value::Object(map) if !map.is_empty() => self.parameters.clone(),
            _ => serde_json::json!({"type": "object", "properties": {}}),
        }
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ToolChoice {
    /// The model decides (every provider's default).
    #[default]
    Auto,
    /// No tool call.
    None,
    /// At least one tool call, of any tool (OpenAI's `required`, Anthropic's and Bedrock's
    /// `any`, Gemini's `ANY`).
    Required,
    /// A call of this tool.
    Named(String),
}

impl ToolChoice {
    /// Parses a string choice: `auto`, `none`, `required`, or `any` (GitLab's and Anthropic's
    /// word for `required`). `None` for anything else.
    #[must_use]
    pub fn parse(choice: &str) -> Option<Self> {
        match choice {
            "auto" => Some(Self::Auto),
            "none" => Some(Self::None),
            "required" | "any" => Some(Self::Required),
            _ => None,
        }
    }
}

/// A call the model made: an id to answer it by, the tool's name and its arguments as JSON
/// text (as the model wrote it; providers that send an object have it serialized).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed by the tool result that answers it.
    pub id: String,
    /// The tool called.
    pub name: String,
    /// The arguments, JSON text (`{}` when the model gave none).
    pub arguments: String,
}

impl ToolCall {
    /// A call of `name` with `arguments` (JSON text), known by `id`.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// The arguments as a JSON value: an empty object for empty text, the text as a string
    /// value when it is not JSON (providers that take an object must still be sent something
    /// faithful).
    #[must_use]
    pub fn arguments_value(&self) -> Value {
        if self.arguments.trim().is_empty() {
            return Value::Object(serde_json::Map::new());
        }
        serde_json::from_str(&self.arguments)
            .unwrap_or_else(|_| Value::String(self.arguments.clone()))
    }
}

/// A piece of a tool call as it streams: the first piece of call `index` names its id and tool,
/// later pieces add argument text. Providers that send whole calls send one piece with all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallDelta {
    /// Which call of the answer (0, 1, … in the order they started).
    pub index: u32,
    /// The call's id, on its first piece.
    pub id: Option<String>,
    /// The tool's name, on its first piece.
    pub name: Option<String>,
    /// More argument text (may be empty).
    pub arguments: String,
}

impl ToolCallDelta {
    /// The first piece of call `index`: its id and tool name, no arguments yet.
    pub fn start(index: u32, id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            index,
            id: Some(id.into()),
            name: Some(name.into()),
            arguments: String::new(),
        }
    }

    /// More argument text for call `index`.
    pub fn arguments(index: u32, text: impl Into<String>) -> Self {
        Self {
            index,
            id: None,
            name: None,
            arguments: text.into(),
        }
    }

    /// A whole call as one piece.
    #[must_use]
    pub fn whole(index: u32, call: ToolCall) -> Self {
        Self {
            index,
            id: Some(call.id),
            name: Some(call.name),
            arguments: call.arguments,
        }
    }
}

/// Joins [`ToolCallDelta`]s into [`ToolCall`]s, by index, in the order calls started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCalls {
    calls: Vec<(u32, ToolCall)>,
}

impl ToolCalls {
    /// Adds a piece: a new index starts a call, a known one extends it (a later id or name
    /// fills one still empty).
    pub fn push(&mut self, delta: ToolCallDelta) {
        let ToolCallDelta {
            index,
            id,
            name,
            arguments,
        } = delta;
        if let Some((_, call)) = self.calls.iter_mut().find(|(i, _)| *i == index) {
            if call.id.is_empty() {
                call.id = id.unwrap_or_default();
            }
            if call.name.is_empty() {
                call.name = name.unwrap_or_default();
            }
            call.arguments.push_str(&arguments);
        } else {
            self.calls.push((
                index,
                ToolCall::new(id.unwrap_or_default(), name.unwrap_or_default(), arguments),
            ));
        }
    }

    /// Whether no call has started.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls, in the order they started; a call with no argument text gets `{}`.
    #[must_use]
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .map(|(_, mut call)| {
                if call.arguments.trim().is_empty() {
                    call.arguments = "{}".to_owned();
                }
                call
            })
            .collect()
    }
}

/// Numbers tool calls 0, 1, … by the content block each started in, for streams that index
/// content blocks rather than calls (Anthropic's and Bedrock's count text blocks too).
#[derive(Debug, Clone, Default)]
pub struct CallOrdinals {
    blocks: Vec<u64>,
}

impl CallOrdinals {
    /// The ordinal of the call starting in `block` (a block seen before keeps its ordinal).
    pub fn start(&mut self, block: u64) -> u32 {
        if let Some(ordinal) = self.get(block) {
            return ordinal;
        }
        self.blocks.push(block);
        u32::try_from(self.blocks.len() - 1).unwrap_or(u32::MAX)
    }

    /// The ordinal of the call in `block`, if one started there.
    #[must_use]
    pub fn get(&self, block: u64) -> Option<u32> {
        self.blocks
            .iter()
            .position(|b| *b == block)
            .and_then(|i| u32::try_from(i).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deltas_join_by_index_in_start_order() {
        let mut calls = ToolCalls::default();
        calls.push(ToolCallDelta::start(1, "b", "second"));
        calls.push(ToolCallDelta::start(0, "a", "first"));
        calls.push(ToolCallDelta::arguments(0, "{\"x\":1}"));
        calls.push(ToolCallDelta::arguments(1, "{\"y\":"));
        calls.push(ToolCallDelta::arguments(1, "2}"));
        assert_eq!(
            calls.finish(),
            vec![
                ToolCall::new("b", "second", "{\"y\":2}"),
                ToolCall::new("a", "first", "{\"x\":1}"),
            ]
        );
    }

    #[test]
    fn a_call_without_arguments_gets_an_empty_object_and_late_ids_fill_in() {
        let mut calls = ToolCalls::default();
        calls.push(ToolCallDelta::arguments(0, ""));
        calls.push(ToolCallDelta {
            index: 0,
            id: Some("late".into()),
            name: Some("tool".into()),
            arguments: String::new(),
        });
        assert_eq!(calls.finish(), vec![ToolCall::new("late", "tool", "{}")]);
    }

    #[test]
    fn ordinals_count_calls_not_blocks() {
        let mut ordinals = CallOrdinals::default();
        assert_eq!(ordinals.get(0), None);
        assert_eq!(ordinals.start(1), 0);
        assert_eq!(ordinals.start(3), 1);
        assert_eq!(ordinals.start(1), 0);
        assert_eq!(ordinals.get(3), Some(1));
        assert_eq!(ordinals.get(2), None);
    }

    #[test]
    fn choices_parse_with_any_as_required() {
        assert_eq!(ToolChoice::parse("any"), Some(ToolChoice::Required));
        assert_eq!(ToolChoice::parse("required"), Some(ToolChoice::Required));
        assert_eq!(ToolChoice::parse("none"), Some(ToolChoice::None));
        assert_eq!(ToolChoice::parse("auto"), Some(ToolChoice::Auto));
        assert_eq!(ToolChoice::parse("sometimes"), None);
    }

    #[test]
    fn arguments_become_a_value_faithfully() {
        assert_eq!(ToolCall::new("i", "t", "").arguments_value(), json!({}));
        assert_eq!(
            ToolCall::new("i", "t", "{\"a\":[1]}").arguments_value(),
            json!({"a": [1]})
        );
        assert_eq!(
            ToolCall::new("i", "t", "oops").arguments_value(),
            json!("oops")
        );
    }

    #[test]
    fn a_tool_without_a_schema_gets_an_empty_object_schema() {
        let bare = Tool::new("t", "", Value::Null);
        assert_eq!(bare.schema(), json!({"type": "object", "properties": {}}));
        let typed = Tool::new("t", "d", json!({"type": "object", "required": ["a"]}));
        assert_eq!(typed.schema()["required"], json!(["a"]));
    }
}
