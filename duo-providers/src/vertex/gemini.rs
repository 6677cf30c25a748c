//! A [`ModelRequest`] as Gemini's `generateContent` body, and its whole answer as a
//! [`Generation`].

use duo_core::{Error, Generation, ModelRequest, Role, ToolChoice};
use serde_json::{Value, json};

use super::gemini_sse::{chunk_events, finish_reason, usage};
use super::gemini_wire::{
    Content, FunctionCallingConfig, FunctionDeclaration, GenerateRequest, GenerateResponse,
    GenerationConfig, Part, SystemInstruction, ToolConfig, ToolSet,
};
use crate::turns::{Block, chat_turns};

/// Gemini takes at most this many stop sequences.
const MAX_STOP_SEQUENCES: usize = 5;

/// The body for `request`: system messages as `systemInstruction`, turns as `user`/`model`
/// contents of text, `functionCall` and `functionResponse` parts, sampling as
/// `generationConfig`, tools as `functionDeclarations` with their `functionCallingConfig`.
///
/// # Errors
/// [`Error::InvalidRequest`] for a prompt the turns cannot express, or a tool result that
/// answers no call the conversation holds (Gemini needs the function's name).
pub(crate) fn gemini_body(request: &ModelRequest) -> Result<GenerateRequest<'_>, Error> {
    let turns = chat_turns(&request.prompt, "Vertex AI")?;
    let contents = turns
        .turns
        .into_iter()
        .map(|turn| {
            let parts = turn
                .blocks
                .into_iter()
                .map(part)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Content {
                role: if turn.role == Role::Assistant {
                    "model"
                } else {
                    "user"
                },
                parts,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let params = &request.params;
    let tools = if request.tools.is_empty() {
        Vec::new()
    } else {
        vec![ToolSet {
            function_declarations: request
                .tools
                .iter()
                .map(|tool| FunctionDeclaration {
                    name: &tool.name,
                    description: &tool.description,
                    parameters: openapi_schema(tool.schema()),
                })
                .collect(),
        }]
    };
    let tool_config = (!request.tools.is_empty()).then(|| {
        let (mode, allowed) = match &request.tool_choice {
            ToolChoice::Auto => ("AUTO", Vec::new()),
            ToolChoice::None => ("NONE", Vec::new()),
            ToolChoice::Required => ("ANY", Vec::new()),
            ToolChoice::Named(name) => ("ANY", vec![name.as_str()]),
        };
        ToolConfig {
            function_calling_config: FunctionCallingConfig {
                mode,
                allowed_function_names: allowed,
            },
        }
    });
    Ok(GenerateRequest {
        contents,
        system_instruction: (!turns.system.is_empty()).then(|| SystemInstruction {
            parts: turns
                .system
                .into_iter()
                .map(|s| Part::Text(s.into()))
                .collect(),
        }),
        generation_config: GenerationConfig {
            max_output_tokens: params.max_tokens,
            temperature: params.temperature,
            top_p: params.top_p,
            stop_sequences: params
                .stop
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .take(MAX_STOP_SEQUENCES)
                .collect(),
        },
        tools,
        tool_config,
    })
}

fn part(block: Block<'_>) -> Result<Part<'_>, Error> {
    Ok(match block {
        Block::Text(text) => Part::Text(text),
        Block::ToolUse(call) => Part::FunctionCall {
            name: &call.name,
            args: call.arguments_value(),
        },
        Block::ToolResult {
            call_id,
            name,
            content,
        } => Part::FunctionResponse {
            name: name.ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "the tool result for call '{call_id}' answers no call of the conversation \
                     (Gemini needs the function's name)"
                ))
            })?,
            response: match serde_json::from_str::<Value>(content) {
                Ok(object @ Value::Object(_)) => object,
                _ => json!({ "content": content }),
            },
        },
    })
}

/// A JSON Schema as Gemini's OpenAPI-subset `parameters`: the keywords it refuses
/// (`$schema`, `additionalProperties`) removed at every level.
fn openapi_schema(mut schema: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("$schema");
                map.remove("additionalProperties");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut schema);
    schema
}

/// A whole answer as a generation (candidate 0; a refused prompt is an empty, content-filtered
/// answer).
///
/// # Errors
/// [`Error::Protocol`] for an answer with neither a candidate nor a block reason.
pub(crate) fn generation(
    mut answer: GenerateResponse,
    upstream: &str,
) -> Result<Generation, Error> {
    let usage = answer.usage_metadata.map(usage);
    if answer
        .prompt_feedback
        .as_ref()
        .is_some_and(|f| f.block_reason.is_some())
    {
        return Ok(Generation {
            finish_reason: duo_core::FinishReason::ContentFilter,
            usage,
            ..Generation::default()
        });
    }
    let reason = answer
        .candidates
        .iter()
        .find(|c| c.index == 0)
        .map(|c| c.finish_reason.clone())
        .ok_or_else(|| Error::Protocol {
            upstream: upstream.to_owned(),
            message: "the answer has no candidates".into(),
        })?;
    let mut calls = 0;
    let mut generation = Generation {
        usage,
        ..Generation::default()
    };
    for event in chunk_events(&mut answer, &mut calls) {
        match event {
            duo_core::StreamEvent::Delta(text) => generation.text.push_str(&text),
            duo_core::StreamEvent::ToolCall(call) => {
                generation.tool_calls.push(duo_core::ToolCall::new(
                    call.id.unwrap_or_default(),
                    call.name.unwrap_or_default(),
                    call.arguments,
                ));
            }
            _ => {}
        }
    }
    generation.finish_reason = finish_reason(reason.as_deref().unwrap_or("STOP"), calls > 0);
    Ok(generation)
}
