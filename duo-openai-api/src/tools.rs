//! Tool calling on the OpenAI-compatible API: `tools` and `tool_choice` of a chat request as
//! duo-core [`Tool`]s and a [`ToolChoice`], the calls of assistant messages, and calls as the
//! answer's `tool_calls`.
//!
//! `parallel_tool_calls` and a function's `strict` are accepted and not forwarded: not every
//! platform has them, and each model then decides as it does by default.

use duo_core::{Tool, ToolCall, ToolCallDelta, ToolChoice};
use serde_json::Value;

use crate::error::OpenAiError;
use crate::wire::{FunctionOut, ToolCallIn, ToolCallOut, ToolDefinition};

/// How many tools one request may offer (OpenAI's limit).
pub(crate) const MAX_TOOLS: usize = 128;

/// `tools` as duo tools.
///
/// # Errors
/// A 400 naming the field: more than [`MAX_TOOLS`], a type other than `function`, a name that
/// is not `[a-zA-Z0-9_-]{1,64}` or appears twice, parameters that are not an object.
pub(crate) fn tools(defs: Vec<ToolDefinition>) -> Result<Vec<Tool>, OpenAiError> {
    if defs.len() > MAX_TOOLS {
        return Err(OpenAiError::invalid(
            "tools",
            format!("'tools' may hold at most {MAX_TOOLS} tools."),
        ));
    }
    let mut out: Vec<Tool> = Vec::with_capacity(defs.len());
    for (i, def) in defs.into_iter().enumerate() {
        if def.kind != "function" {
            return Err(OpenAiError::invalid(
                format!("tools[{i}].type"),
                format!(
                    "Invalid value for 'tools[{i}].type': only 'function' tools are supported."
                ),
            ));
        }
        let function = def.function;
        if !valid_name(&function.name) {
            return Err(OpenAiError::invalid(
                format!("tools[{i}].function.name"),
                format!(
                    "Invalid 'tools[{i}].function.name': expected a name of 1 to 64 letters, digits, \
                     underscores or dashes."
                ),
            ));
        }
        if out.iter().any(|t| t.name == function.name) {
            return Err(OpenAiError::invalid(
                format!("tools[{i}].function.name"),
                format!("Duplicate tool name '{}' in 'tools'.", function.name),
            ));
        }
        let parameters = match function.parameters {
            None | Some(Value::Null) => Value::Null,
            Some(schema @ Value::Object(_)) => schema,
            Some(_) => {
                return Err(OpenAiError::invalid(
                    format!("tools[{i}].function.parameters"),
                    format!(
                        "Invalid 'tools[{i}].function.parameters': expected a JSON Schema object."
                    ),
                ));
            }
        };
        out.push(Tool::new(
            function.name,
            function.description.unwrap_or_default(),
            parameters,
        ));
    }
    Ok(out)
}

/// `tool_choice` for `tools` (absent: `auto`).
///
/// # Errors
/// A 400 naming `tool_choice`: an unknown string, an object that is not
/// `{"type": "function", "function": {"name"}}`, a name `tools` does not hold, or a choice that
/// needs a tool when none is offered.
pub(crate) fn tool_choice(
    choice: Option<Value>,
    tools: &[Tool],
) -> Result<ToolChoice, OpenAiError> {
    let invalid = |message: String| OpenAiError::invalid("tool_choice", message);
    let choice = match choice {
        None | Some(Value::Null) => return Ok(ToolChoice::Auto),
        Some(Value::String(s)) => ToolChoice::parse(&s).ok_or_else(|| {
            invalid(format!(
                "Invalid value for 'tool_choice': '{}'; expected 'none', 'auto', 'required' or a \
                 named function.",
                s.chars().take(50).collect::<String>()
            ))
        })?,
        Some(object) => {
            let name = object
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            match (object.get("type").and_then(Value::as_str), name) {
                (Some("function"), Some(name)) => ToolChoice::Named(name.to_owned()),
                _ => {
                    return Err(invalid(
                        "Invalid value for 'tool_choice': expected {\"type\": \"function\", \
                         \"function\": {\"name\": …}}."
                            .into(),
                    ));
                }
            }
        }
    };
    match &choice {
        ToolChoice::Required if tools.is_empty() => Err(invalid(
            "'tool_choice' is 'required' but no 'tools' are given.".into(),
        )),
        ToolChoice::Named(name) if !tools.iter().any(|t| &t.name == name) => Err(invalid(format!(
            "'tool_choice' names the function '{}', which 'tools' does not hold.",
            name.chars().take(64).collect::<String>()
        ))),
        _ => Ok(choice),
    }
}

/// The calls of assistant message `i`.
///
/// # Errors
/// A 400 naming the field: a type other than `function`, an empty id or name.
pub(crate) fn calls(i: usize, calls: Vec<ToolCallIn>) -> Result<Vec<ToolCall>, OpenAiError> {
    calls
        .into_iter()
        .enumerate()
        .map(|(j, call)| {
            let field = |name: &str| format!("messages[{i}].tool_calls[{j}].{name}");
            if call.kind.as_deref().is_some_and(|k| k != "function") {
                return Err(OpenAiError::invalid(
                    field("type"),
                    "Only 'function' tool calls are supported.",
                ));
            }
            if call.id.is_empty() {
                return Err(OpenAiError::invalid(
                    field("id"),
                    "A tool call needs an 'id'.",
                ));
            }
            if call.function.name.is_empty() {
                return Err(OpenAiError::invalid(
                    field("function.name"),
                    "A tool call needs a function name.",
                ));
            }
            Ok(ToolCall::new(
                call.id,
                call.function.name,
                call.function.arguments,
            ))
        })
        .collect()
}

/// A whole call as the answer's `message.tool_calls` entry.
pub(crate) fn call_out(call: &ToolCall) -> ToolCallOut<'_> {
    ToolCallOut {
        index: None,
        id: Some(&call.id),
        kind: Some("function"),
        function: FunctionOut {
            name: Some(&call.name),
            arguments: &call.arguments,
        },
    }
}

/// A streamed piece as a chunk's `delta.tool_calls` entry (`id`, `type` and `name` on the
/// call's first piece only, as OpenAI streams them).
pub(crate) fn delta_out(delta: &ToolCallDelta) -> ToolCallOut<'_> {
    ToolCallOut {
        index: Some(delta.index),
        id: delta.id.as_deref(),
        kind: delta.id.as_ref().map(|_| "function"),
        function: FunctionOut {
            name: delta.name.as_deref(),
            arguments: &delta.arguments,
        },
    }
}

/// OpenAI's rule for function names.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs(value: Value) -> Vec<ToolDefinition> {
        serde_json::from_value(value).unwrap()
    }

    fn weather() -> Vec<Tool> {
        tools(defs(
            json!([{"type": "function", "function": {"name": "get_weather",
            "description": "d", "parameters": {"type": "object"}}}]),
        ))
        .unwrap()
    }

    #[test]
    fn tools_become_duo_tools_and_bad_ones_name_their_field() {
        assert_eq!(weather()[0].name, "get_weather");
        assert_eq!(weather()[0].parameters, json!({"type": "object"}));
        for (value, param) in [
            (
                json!([{"type": "retrieval", "function": {"name": "a"}}]),
                "tools[0].type",
            ),
            (
                json!([{"type": "function", "function": {"name": "a b"}}]),
                "tools[0].function.name",
            ),
            (
                json!([{"type": "function", "function": {"name": ""}}]),
                "tools[0].function.name",
            ),
            (
                json!([{"type": "function", "function": {"name": "a"}},
                       {"type": "function", "function": {"name": "a"}}]),
                "tools[1].function.name",
            ),
            (
                json!([{"type": "function", "function": {"name": "a", "parameters": []}}]),
                "tools[0].function.parameters",
            ),
        ] {
            let err = tools(defs(value)).unwrap_err();
            assert_eq!(err.param(), Some(param));
        }
        let many: Vec<Value> = (0..=MAX_TOOLS)
            .map(|i| json!({"type": "function", "function": {"name": format!("t{i}")}}))
            .collect();
        assert_eq!(
            tools(defs(Value::Array(many))).unwrap_err().param(),
            Some("tools")
        );
    }

    #[test]
    fn choices_parse_and_are_checked_against_the_tools() {
        let tools = weather();
        assert_eq!(tool_choice(None, &tools).unwrap(), ToolChoice::Auto);
        assert_eq!(
            tool_choice(Some(json!("any")), &tools).unwrap(),
            ToolChoice::Required
        );
        assert_eq!(
            tool_choice(
                Some(json!({"type": "function", "function": {"name": "get_weather"}})),
                &tools
            )
            .unwrap(),
            ToolChoice::Named("get_weather".into())
        );
        for bad in [
            json!("always"),
            json!({"type": "function"}),
            json!({"type": "function", "function": {"name": "other"}}),
            json!(3),
        ] {
            assert_eq!(
                tool_choice(Some(bad), &tools).unwrap_err().param(),
                Some("tool_choice")
            );
        }
        assert!(tool_choice(Some(json!("required")), &[]).is_err());
        assert_eq!(
            tool_choice(Some(json!("none")), &[]).unwrap(),
            ToolChoice::None
        );
    }

    #[test]
    fn streamed_pieces_carry_the_id_and_type_on_the_first_piece_only() {
        let start = ToolCallDelta::start(0, "call_1", "get_weather");
        assert_eq!(
            serde_json::to_value(delta_out(&start)).unwrap(),
            json!({"index": 0, "id": "call_1", "type": "function",
                   "function": {"name": "get_weather", "arguments": ""}})
        );
        let more = ToolCallDelta::arguments(0, "{\"city\"");
        assert_eq!(
            serde_json::to_value(delta_out(&more)).unwrap(),
            json!({"index": 0, "function": {"arguments": "{\"city\""}})
        );
        let whole = ToolCall::new("call_2", "f", "{}");
        assert_eq!(
            serde_json::to_value(call_out(&whole)).unwrap(),
            json!({"id": "call_2", "type": "function", "function": {"name": "f", "arguments": "{}"}})
        );
    }
}
