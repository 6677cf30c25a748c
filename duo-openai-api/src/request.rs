//! OpenAI request bodies → a duo-core [`ModelRequest`], with OpenAI-style 400s that name the
//! field at fault (`param`).

use duo_core::{GenerationParams, Message, ModelRequest, Prompt, Role};
use serde::de::DeserializeOwned;

use crate::error::OpenAiError;
use crate::wire::{
    ChatCompletionRequest, CompletionRequest, MessageContent, PromptInput, Stop, StreamOptions,
};

/// A validated request: which model, what to ask, and how to answer.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The model's name as the client sent it.
    pub model: String,
    /// What to send upstream.
    pub request: ModelRequest,
    /// Answer as server-sent events.
    pub stream: bool,
    /// Add the usage chunk to the stream.
    pub include_usage: bool,
}

/// Parses a JSON body; errors name the field (`messages[0].content`) in `param`.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, OpenAiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(OpenAiError::invalid_body(
                "The request body is empty; expected a JSON object.",
            ));
        }
        // serde would read a top-level array as a struct's fields by position
        Some(b'{') => {}
        Some(_) => {
            return Err(OpenAiError::invalid_body(
                "The request body must be a JSON object.",
            ));
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        OpenAiError::invalid_body(format!("The request body is not valid JSON: {e}"))
    })?;
    duo_core::limits::check_body(&value)
        .map_err(|e| OpenAiError::invalid(e.field.clone(), e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde reports a missing field at its parent: name the field itself
        if let Some(field) = missing_field(&message) {
            let param = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            let message = format!("Missing required parameter: '{param}'.");
            return OpenAiError::invalid(param, message);
        }
        let param = path;
        if param == "." {
            return OpenAiError::invalid_body(format!("Invalid request body: {message}"));
        }
        OpenAiError::invalid(
            param.clone(),
            format!("Invalid value for '{param}': {message}"),
        )
    })
}

/// `x` of serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Validates a chat request and maps it to a [`Prompt::Chat`].
pub(crate) fn chat(r: ChatCompletionRequest) -> Result<Parsed, OpenAiError> {
    only_one(r.n, "n")?;
    let tools = crate::tools::tools(r.tools.unwrap_or_default())?;
    let tool_choice = crate::tools::tool_choice(r.tool_choice, &tools)?;
    if r.functions.as_ref().is_some_and(|f| !f.is_empty()) {
        return Err(unsupported("functions", "Function calling"));
    }
    if r.logprobs == Some(true) {
        return Err(unsupported("logprobs", "Log probabilities"));
    }
    if r.messages.is_empty() {
        return Err(OpenAiError::invalid(
            "messages",
            "'messages' must contain at least one message.",
        ));
    }
    let mut messages = Vec::with_capacity(r.messages.len());
    for (i, m) in r.messages.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            "function" => {
                return Err(OpenAiError::invalid(
                    format!("messages[{i}].role"),
                    "Messages with the legacy role 'function' are not supported: send tool \
                     results as 'tool' messages with a 'tool_call_id'.",
                ));
            }
            other => {
                return Err(OpenAiError::invalid(
                    format!("messages[{i}].role"),
                    format!(
                        "Invalid value '{}' for 'messages[{i}].role': expected system, developer, user, assistant or tool.",
                        other.chars().take(50).collect::<String>()
                    ),
                ));
            }
        };
        let tool_calls = match m.tool_calls {
            Some(calls) if role == Role::Assistant => crate::tools::calls(i, calls)?,
            Some(calls) if !calls.is_empty() => {
                return Err(OpenAiError::invalid(
                    format!("messages[{i}].tool_calls"),
                    "Only assistant messages carry 'tool_calls'.",
                ));
            }
            _ => Vec::new(),
        };
        let tool_call_id = match (role, m.tool_call_id) {
            (Role::Tool, Some(id)) if !id.is_empty() => Some(id),
            (Role::Tool, _) => {
                return Err(OpenAiError::invalid(
                    format!("messages[{i}].tool_call_id"),
                    format!(
                        "Missing required parameter: 'messages[{i}].tool_call_id' (a tool message answers a call)."
                    ),
                ));
            }
            _ => None,
        };
        let content = match m.content {
            Some(MessageContent::Text(text)) => text,
            Some(MessageContent::Parts(parts)) => {
                let mut text = String::new();
                for (j, part) in parts.into_iter().enumerate() {
                    match (part.kind.as_str(), part.text) {
                        ("text", Some(t)) => {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(&t);
                        }
                        ("text", None) => {
                            return Err(OpenAiError::invalid(
                                format!("messages[{i}].content[{j}].text"),
                                "A text content part needs 'text'.",
                            ));
                        }
                        _ => {
                            return Err(OpenAiError::invalid(
                                format!("messages[{i}].content[{j}].type"),
                                "Only text content parts are supported.",
                            ));
                        }
                    }
                }
                text
            }
            None if role == Role::Assistant => String::new(),
            None => {
                return Err(OpenAiError::invalid(
                    format!("messages[{i}].content"),
                    format!(
                        "'messages[{i}].content' is required for {} messages.",
                        m.role
                    ),
                ));
            }
        };
        messages.push(Message {
            tool_calls,
            tool_call_id,
            ..Message::new(role, content)
        });
    }
    let max_tokens = match (r.max_completion_tokens, r.max_tokens) {
        (Some(n), _) => Some((n, "max_completion_tokens")),
        (None, Some(n)) => Some((n, "max_tokens")),
        (None, None) => None,
    };
    let mut params = params(max_tokens, r.temperature, r.top_p, r.stop)?;
    params.reasoning_effort = reasoning_effort(r.reasoning_effort)?;
    let (stream, include_usage) = streaming(r.stream, r.stream_options)?;
    Ok(Parsed {
        model: r.model,
        request: ModelRequest::new(Prompt::Chat(messages))
            .with_params(params)
            .with_tools(tools, tool_choice),
        stream,
        include_usage,
    })
}

/// Validates a completions request and maps it to a [`Prompt::Text`] (or a
/// [`Prompt::FillInTheMiddle`] when it has a `suffix`).
pub(crate) fn completion(r: CompletionRequest) -> Result<Parsed, OpenAiError> {
    only_one(r.n, "n")?;
    only_one(r.best_of, "best_of")?;
    if r.echo == Some(true) {
        return Err(unsupported("echo", "Echoing the prompt"));
    }
    if r.logprobs.is_some_and(|n| n > 0) {
        return Err(unsupported("logprobs", "Log probabilities"));
    }
    let prompt = match r.prompt {
        Some(PromptInput::One(p)) => p,
        Some(PromptInput::Many(mut batch)) if batch.len() == 1 => batch.remove(0),
        Some(PromptInput::Many(_)) => {
            return Err(OpenAiError::invalid(
                "prompt",
                "Send one prompt per request: batches of prompts are not supported.",
            ));
        }
        None => {
            return Err(OpenAiError::invalid("prompt", "'prompt' is required."));
        }
    };
    let prompt = match r.suffix {
        Some(suffix) if !suffix.is_empty() => Prompt::FillInTheMiddle {
            prefix: prompt,
            suffix,
        },
        _ => Prompt::Text(prompt),
    };
    let params = params(
        r.max_tokens.map(|n| (n, "max_tokens")),
        r.temperature,
        r.top_p,
        r.stop,
    )?;
    let (stream, include_usage) = streaming(r.stream, r.stream_options)?;
    Ok(Parsed {
        model: r.model,
        request: ModelRequest::new(prompt).with_params(params),
        stream,
        include_usage,
    })
}

/// The reasoning efforts OpenAI's API accepts.
const REASONING_EFFORTS: [&str; 5] = ["none", "minimal", "low", "medium", "high"];

fn reasoning_effort(effort: Option<String>) -> Result<Option<String>, OpenAiError> {
    match effort {
        Some(e) if !REASONING_EFFORTS.contains(&e.as_str()) => Err(OpenAiError::invalid(
            "reasoning_effort",
            format!(
                "'reasoning_effort' must be one of {} (got '{e}').",
                REASONING_EFFORTS.join(", ")
            ),
        )),
        other => Ok(other),
    }
}

fn only_one(value: Option<u32>, param: &str) -> Result<(), OpenAiError> {
    match value {
        Some(n) if n != 1 => Err(OpenAiError::invalid(
            param,
            format!("Only {param}=1 is supported (got {n})."),
        )),
        _ => Ok(()),
    }
}

fn unsupported(param: &str, what: &str) -> OpenAiError {
    OpenAiError::invalid(
        param,
        format!("{what} is not supported by this gateway ('{param}')."),
    )
}

fn params(
    max_tokens: Option<(u32, &str)>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    stop: Option<Stop>,
) -> Result<GenerationParams, OpenAiError> {
    if let Some((0, param)) = max_tokens {
        return Err(OpenAiError::invalid(
            param,
            format!("'{param}' must be at least 1."),
        ));
    }
    if let Some(t) = temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(OpenAiError::invalid(
            "temperature",
            format!("'temperature' must be between 0 and 2 (got {t})."),
        ));
    }
    if let Some(p) = top_p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(OpenAiError::invalid(
            "top_p",
            format!("'top_p' must be between 0 and 1 (got {p})."),
        ));
    }
    let stop = match stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s],
        Some(Stop::Many(list)) => list,
    };
    if let Some(i) = stop.iter().position(String::is_empty) {
        return Err(OpenAiError::invalid(
            format!("stop[{i}]"),
            "Stop sequences must not be empty.",
        ));
    }
    Ok(GenerationParams {
        max_tokens: max_tokens.map(|(n, _)| n),
        temperature,
        top_p,
        stop,
        timeout: None,
        reasoning_effort: None,
    })
}

fn streaming(
    stream: Option<bool>,
    options: Option<StreamOptions>,
) -> Result<(bool, bool), OpenAiError> {
    let stream = stream.unwrap_or(false);
    match options {
        Some(_) if !stream => Err(OpenAiError::invalid(
            "stream_options",
            "'stream_options' is only allowed when 'stream' is true.",
        )),
        Some(o) => Ok((stream, o.include_usage.unwrap_or(false))),
        None => Ok((stream, false)),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
