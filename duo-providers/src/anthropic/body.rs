//! The Messages API's request body from a [`ModelRequest`], the whole answer as a
//! [`Generation`], and an error status's body as an [`Error`]: shared by Anthropic's own API and
//! Claude on Vertex AI (whose body names no `model` and carries an `anthropic_version`).

use duo_core::{Error, Generation, ModelRequest, Role, ToolCall, ToolChoice, Usage};

use super::error::status_error;
use super::sse::finish_reason;
use super::wire::{
    ErrorBody, MessageResponse, MessagesRequest, WireBlock, WireMessage, WireTool, WireToolChoice,
};
use crate::http::{ErrorResponse, excerpt};
use crate::turns::{Block, chat_turns};

/// What differs between the platforms that serve the Messages API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body<'a> {
    /// The `model` field (none when the URL names the model, as on Vertex).
    pub model: Option<&'a str>,
    /// The `anthropic_version` field (Vertex's; Anthropic's API takes a header instead).
    pub anthropic_version: Option<&'a str>,
    /// `max_tokens` when the request sets none.
    pub default_max_tokens: u32,
    /// The platform, named in errors.
    pub platform: &'a str,
}

/// The body for `request`: system messages joined into `system`, the turns as text,
/// `tool_use` and `tool_result` blocks, `max_tokens` always, stop sequences, `temperature` or
/// (only without it) `top_p`, the tools with their choice.
///
/// # Errors
/// [`Error::InvalidRequest`] for a prompt the turns cannot express.
pub(crate) fn messages_body<'a>(
    request: &'a ModelRequest,
    body: Body<'a>,
    stream: bool,
) -> Result<MessagesRequest<'a>, Error> {
    let turns = chat_turns(&request.prompt, body.platform)?;
    let messages = turns
        .turns
        .into_iter()
        .map(|turn| WireMessage {
            role: if turn.role == Role::Assistant {
                "assistant"
            } else {
                "user"
            },
            content: turn.blocks.into_iter().map(wire_block).collect(),
        })
        .collect();
    let params = &request.params;
    Ok(MessagesRequest {
        model: body.model,
        anthropic_version: body.anthropic_version,
        max_tokens: params.max_tokens.unwrap_or(body.default_max_tokens),
        messages,
        system: (!turns.system.is_empty()).then(|| turns.system.join("\n\n")),
        stop_sequences: params
            .stop
            .iter()
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
            .collect(),
        temperature: params.temperature,
        top_p: params.top_p.filter(|_| params.temperature.is_none()),
        tools: request
            .tools
            .iter()
            .map(|tool| WireTool {
                name: &tool.name,
                description: &tool.description,
                input_schema: tool.schema(),
            })
            .collect(),
        tool_choice: (!request.tools.is_empty()).then(|| tool_choice(&request.tool_choice)),
        stream,
    })
}

/// A turn's block on the wire.
fn wire_block(block: Block<'_>) -> WireBlock<'_> {
    match block {
        Block::Text(text) => WireBlock::Text { text },
        Block::ToolUse(call) => WireBlock::ToolUse {
            id: &call.id,
            name: &call.name,
            input: call.arguments_value(),
        },
        Block::ToolResult {
            call_id, content, ..
        } => WireBlock::ToolResult {
            tool_use_id: call_id,
            content,
        },
    }
}

/// `tool_choice` (Anthropic's `any` is [`ToolChoice::Required`]).
fn tool_choice(choice: &ToolChoice) -> WireToolChoice<'_> {
    let (kind, name) = match choice {
        ToolChoice::Auto => ("auto", None),
        ToolChoice::None => ("none", None),
        ToolChoice::Required => ("any", None),
        ToolChoice::Named(name) => ("tool", Some(name.as_str())),
    };
    WireToolChoice { kind, name }
}

/// Parses a whole answer.
///
/// # Errors
/// [`Error::Protocol`] for a body that is not a message.
pub(crate) fn parse_answer(bytes: &[u8], upstream: &str) -> Result<MessageResponse, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Protocol {
        upstream: upstream.to_owned(),
        message: format!(
            "bad JSON in the answer ({e}): {}",
            excerpt(&String::from_utf8_lossy(bytes), 200)
        ),
    })
}

/// A whole answer as a generation: its text blocks joined, its `tool_use` blocks as calls.
pub(crate) fn generation(answer: MessageResponse) -> Generation {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in answer.content {
        match block.kind.as_str() {
            "text" => text.push_str(block.text.as_deref().unwrap_or_default()),
            "tool_use" => tool_calls.push(ToolCall::new(
                block.id.unwrap_or_default(),
                block.name.unwrap_or_default(),
                block
                    .input
                    .map_or_else(|| "{}".to_owned(), |v| v.to_string()),
            )),
            _ => {}
        }
    }
    Generation {
        text,
        tool_calls,
        finish_reason: finish_reason(answer.stop_reason.as_deref()),
        usage: answer.usage.map(|u| Usage {
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
        }),
    }
}

/// The error an unsuccessful answer stands for, with Anthropic's error type and message when
/// the body has them.
pub(crate) fn answer_error(answer: &ErrorResponse, upstream: &str) -> Error {
    let (kind, message) = match serde_json::from_str::<ErrorBody>(&answer.text) {
        Ok(body) if !body.error.message.is_empty() => {
            let message = format!("{}: {}", body.error.kind, body.error.message);
            (body.error.kind, message)
        }
        _ => (String::new(), answer.quoted()),
    };
    status_error(upstream, answer.status, &kind, message, answer.retry_after)
}
