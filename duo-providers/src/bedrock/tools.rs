//! Tool calling on the Converse API: [`tool_config`] (`toolConfig`), the `toolUse` and
//! `toolResult` content blocks of a conversation, and JSON ↔ Smithy [`Document`] (the SDK's
//! type for tool schemas and arguments).

use std::collections::HashMap;

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, ContentBlock, SpecificToolChoice, Tool,
    ToolChoice as BedrockChoice, ToolConfiguration, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Document, Number};
use duo_core::{Error, ModelRequest, ToolCall, ToolChoice};
use serde_json::Value;

use crate::turns::{Block, ChatTurns};

/// `toolConfig` for `request`: its tools with the choice (`auto`, `any` for
/// [`ToolChoice::Required`], `tool` for a named one). Converse has no "none": with
/// [`ToolChoice::None`] the tools are left out, unless the conversation already holds tool
/// blocks (Converse then requires `toolConfig`), in which case they are sent with no choice.
///
/// # Errors
/// [`Error::InvalidRequest`] for a tool the SDK refuses to build (an empty name).
pub(crate) fn tool_config(
    request: &ModelRequest,
    turns: &ChatTurns<'_>,
) -> Result<Option<ToolConfiguration>, Error> {
    if request.tools.is_empty() {
        return Ok(None);
    }
    let has_tool_blocks = turns
        .turns
        .iter()
        .flat_map(|t| &t.blocks)
        .any(|b| !matches!(b, Block::Text(_)));
    let choice = match &request.tool_choice {
        ToolChoice::None if !has_tool_blocks => return Ok(None),
        ToolChoice::None | ToolChoice::Auto => {
            BedrockChoice::Auto(AutoToolChoice::builder().build())
        }
        ToolChoice::Required => BedrockChoice::Any(AnyToolChoice::builder().build()),
        ToolChoice::Named(name) => BedrockChoice::Tool(
            SpecificToolChoice::builder()
                .name(name)
                .build()
                .map_err(bad("toolChoice"))?,
        ),
    };
    let choice = (request.tool_choice != ToolChoice::None).then_some(choice);
    let tools = request
        .tools
        .iter()
        .map(|tool| {
            ToolSpecification::builder()
                .name(&tool.name)
                .set_description((!tool.description.is_empty()).then(|| tool.description.clone()))
                .input_schema(ToolInputSchema::Json(document(&tool.schema())))
                .build()
                .map(Tool::ToolSpec)
                .map_err(bad("tool"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(choice)
        .build()
        .map(Some)
        .map_err(bad("toolConfig"))
}

/// A turn's block as a Converse content block.
///
/// # Errors
/// [`Error::InvalidRequest`] for a call or result the SDK refuses to build (an empty id).
pub(crate) fn content_block(block: Block<'_>) -> Result<ContentBlock, Error> {
    Ok(match block {
        Block::Text(text) => ContentBlock::Text(text.into_owned()),
        Block::ToolUse(call) => ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id(&call.id)
                .name(&call.name)
                .input(document(&call.arguments_value()))
                .build()
                .map_err(bad("toolUse"))?,
        ),
        Block::ToolResult {
            call_id, content, ..
        } => ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id(call_id)
                .content(ToolResultContentBlock::Text(content.to_owned()))
                .build()
                .map_err(bad("toolResult"))?,
        ),
    })
}

/// A `toolUse` block of an answer as a call (its input as JSON text).
pub(crate) fn tool_call(block: &ToolUseBlock) -> ToolCall {
    ToolCall::new(
        block.tool_use_id(),
        block.name(),
        json(block.input()).to_string(),
    )
}

fn bad(what: &'static str) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> Error {
    move |e| Error::InvalidRequest(format!("bedrock {what}: {e}"))
}

/// JSON as a Smithy document.
pub(crate) fn document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document as JSON (a non-finite float becomes `null`, as JSON has none).
pub(crate) fn json(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(json).collect()),
        Document::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::turns::chat_turns;
    use duo_core::{Message, Prompt, Tool as DuoTool};
    use serde_json::json as j;

    fn request(choice: ToolChoice, messages: Vec<Message>) -> ModelRequest {
        ModelRequest::new(Prompt::Chat(messages)).with_tools(
            vec![DuoTool::new(
                "get_weather",
                "Weather of a city",
                j!({"type": "object", "properties": {"city": {"type": "string"}}}),
            )],
            choice,
        )
    }

    fn config(request: &ModelRequest) -> Option<ToolConfiguration> {
        let turns = chat_turns(&request.prompt, "Bedrock").unwrap();
        tool_config(request, &turns).unwrap()
    }

    #[test]
    fn documents_round_trip_json() {
        let value = j!({"a": [1, -2, 2.5, null, true, "s"], "b": {"c": {}}});
        assert_eq!(json(&document(&value)), value);
    }

    #[test]
    fn choices_map_to_converse_and_none_leaves_the_tools_out() {
        let ask = vec![Message::user("weather?")];
        let auto = config(&request(ToolChoice::Auto, ask.clone())).unwrap();
        assert!(matches!(auto.tool_choice(), Some(BedrockChoice::Auto(_))));
        let spec = auto.tools()[0].as_tool_spec().unwrap();
        assert_eq!(spec.name(), "get_weather");
        assert_eq!(spec.description(), Some("Weather of a city"));
        let Some(ToolInputSchema::Json(schema)) = spec.input_schema() else {
            panic!("no schema")
        };
        assert_eq!(json(schema)["properties"]["city"]["type"], "string");
        let any = config(&request(ToolChoice::Required, ask.clone())).unwrap();
        assert!(matches!(any.tool_choice(), Some(BedrockChoice::Any(_))));
        let named = config(&request(
            ToolChoice::Named("get_weather".into()),
            ask.clone(),
        ))
        .unwrap();
        let Some(BedrockChoice::Tool(t)) = named.tool_choice() else {
            panic!("not a named choice")
        };
        assert_eq!(t.name(), "get_weather");
        assert!(config(&request(ToolChoice::None, ask)).is_none());
    }

    #[test]
    fn none_with_tool_blocks_in_the_history_still_sends_the_tools_without_a_choice() {
        let history = vec![
            Message::user("weather?"),
            Message::assistant_tool_calls("", vec![ToolCall::new("t1", "get_weather", "{}")]),
            Message::tool_result("t1", "sunny"),
        ];
        let config = config(&request(ToolChoice::None, history)).unwrap();
        assert!(config.tool_choice().is_none());
        assert_eq!(config.tools().len(), 1);
    }

    #[test]
    fn calls_and_results_become_tool_use_and_tool_result_blocks() {
        let call = ToolCall::new("t1", "get_weather", "{\"city\":\"Oslo\"}");
        let ContentBlock::ToolUse(block) = content_block(Block::ToolUse(&call)).unwrap() else {
            panic!("not toolUse")
        };
        assert_eq!(json(block.input()), j!({"city": "Oslo"}));
        assert_eq!(tool_call(&block), call);
        let result = content_block(Block::ToolResult {
            call_id: "t1",
            name: None,
            content: "12 °C",
        })
        .unwrap();
        let ContentBlock::ToolResult(result) = result else {
            panic!("not toolResult")
        };
        assert_eq!(result.tool_use_id(), "t1");
        assert_eq!(result.content()[0].as_text().unwrap(), "12 °C");
    }
}
