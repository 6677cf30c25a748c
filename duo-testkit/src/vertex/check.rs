//! The body checks Vertex makes before it runs a model: Gemini's `GenerateContentRequest` (its
//! refusals are 400 `INVALID_ARGUMENT`, worded as Google words them) and Claude's Messages body
//! on Vertex (400 `invalid_request_error`, in Anthropic's words). `Err` holds the message.

use serde_json::{Map, Value};

use super::VERTEX_ANTHROPIC_VERSION;

type Checked = Result<(), String>;

const LEARN_MORE: &str =
    "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini";
const CONTENT: &str = "type.googleapis.com/google.cloud.aiplatform.v1.Content";
const PART: &str = "type.googleapis.com/google.cloud.aiplatform.v1.Part";
const TOOL: &str = "type.googleapis.com/google.cloud.aiplatform.v1.Tool";
const FUNCTION_NAME_RULE: &str = "Invalid function name. Must start with a letter or an \
    underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or \
    dashes (-), with a maximum length of 64.";

const REQUEST_FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "generationConfig",
    "tools",
    "toolConfig",
    "safetySettings",
    "labels",
    "cachedContent",
    "modelArmorConfig",
];
const PART_FIELDS: &[&str] = &[
    "text",
    "functionCall",
    "functionResponse",
    "inlineData",
    "fileData",
    "executableCode",
    "codeExecutionResult",
    "thought",
    "thoughtSignature",
    "videoMetadata",
];
/// The members of a part's `data` oneof: exactly one must be set.
const PART_DATA: &[&str] = &[
    "text",
    "functionCall",
    "functionResponse",
    "inlineData",
    "fileData",
    "executableCode",
    "codeExecutionResult",
];

/// `camel` in snake_case (the proto name Google uses in error paths).
fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Field `camel` of `o`, by its lowerCamelCase or its snake_case name (Google takes both).
fn field<'a>(o: &'a Map<String, Value>, camel: &str) -> Option<&'a Value> {
    o.get(camel).or_else(|| o.get(&snake(camel)))
}

fn unknown_names(o: &Map<String, Value>, names: &[&str], at: &str) -> Checked {
    match o
        .keys()
        .find(|key| !names.iter().any(|n| n == key || snake(n) == **key))
    {
        None => Ok(()),
        Some(key) if at.is_empty() => Err(format!(
            "Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."
        )),
        Some(key) => Err(format!(
            "Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find field."
        )),
    }
}

fn invalid(at: &str, kind: &str, value: &Value) -> String {
    format!("Invalid value at '{at}' ({kind}), {value}")
}

fn argument(at: &str, message: &str) -> String {
    format!("* GenerateContentRequest.{at}: {message}")
}

fn contents_required() -> String {
    format!(
        "Unable to submit request because at least one contents field is required. {LEARN_MORE}"
    )
}

fn parts_required() -> String {
    format!(
        "Unable to submit request because it must include at least one parts field, which \
         describes the prompt input. {LEARN_MORE}"
    )
}

/// Checks a Gemini `GenerateContentRequest` (`raw` is the body text, for telling an empty body
/// from malformed JSON).
pub(crate) fn gemini(body: &Value, raw: &str) -> Checked {
    let request = match body {
        Value::Object(o) => o,
        Value::Null if raw.trim().is_empty() => return Err(contents_required()),
        Value::Null if serde_json::from_str::<Value>(raw).is_err() => {
            return Err("Invalid JSON payload received. Unexpected token.".into());
        }
        _ => {
            return Err(
                "Invalid JSON payload received. Unknown name \"\": Root element must be a message."
                    .into(),
            );
        }
    };
    unknown_names(request, REQUEST_FIELDS, "")?;
    let contents = match field(request, "contents") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        None | Some(Value::Null | Value::Array(_)) => return Err(contents_required()),
        Some(other) => return Err(invalid("contents", CONTENT, other)),
    };
    for (i, content) in contents.iter().enumerate() {
        let at = format!("contents[{i}]");
        let Some(o) = content.as_object() else {
            return Err(invalid(&at, CONTENT, content));
        };
        unknown_names(o, &["role", "parts"], &at)?;
        if !matches!(
            o.get("role").and_then(Value::as_str),
            Some("user" | "model")
        ) {
            return Err("Please use a valid role: user, model.".into());
        }
        parts(o.get("parts"), &at)?;
    }
    if let Some(system) = field(request, "systemInstruction") {
        let Some(o) = system.as_object() else {
            return Err(invalid("system_instruction", CONTENT, system));
        };
        unknown_names(o, &["role", "parts"], "system_instruction")?;
        parts(o.get("parts"), "system_instruction")?;
    }
    if let Some(config) = field(request, "generationConfig") {
        generation_config(config)?;
    }
    if let Some(tools) = field(request, "tools") {
        function_declarations(tools)?;
    }
    if let Some(config) = field(request, "toolConfig") {
        tool_config(config)?;
    }
    Ok(())
}

fn parts(parts: Option<&Value>, at: &str) -> Checked {
    let parts = match parts {
        Some(Value::Array(p)) if !p.is_empty() => p,
        None | Some(Value::Null | Value::Array(_)) => return Err(parts_required()),
        Some(other) => return Err(invalid(&format!("{at}.parts"), PART, other)),
    };
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{at}.parts[{j}]");
        let Some(o) = part.as_object() else {
            return Err(invalid(&at, PART, part));
        };
        unknown_names(o, PART_FIELDS, &at)?;
        let set: Vec<&str> = PART_DATA
            .iter()
            .copied()
            .filter(|name| field(o, name).is_some())
            .collect();
        match set.as_slice() {
            [] => {
                return Err(argument(
                    &format!("{at}.data"),
                    "required oneof field 'data' must have one initialized field",
                ));
            }
            [_, second, ..] => {
                return Err(format!(
                    "Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '{second}'"
                ));
            }
            [_] => {}
        }
        if let Some(text) = o.get("text") {
            match text.as_str() {
                None => return Err(invalid(&format!("{at}.text"), "TYPE_STRING", text)),
                Some("") => {
                    return Err(format!(
                        "Unable to submit request because it has an empty text parameter. Add a \
                         value to the parameter and try again. {LEARN_MORE}"
                    ));
                }
                Some(_) => {}
            }
        }
        for (camel, payload) in [("functionCall", "args"), ("functionResponse", "response")] {
            let Some(call) = field(o, camel) else {
                continue;
            };
            let at = format!("{at}.{}", snake(camel));
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            if !call.is_object() {
                return Err(invalid(
                    &at,
                    "type.googleapis.com/google.protobuf.Struct",
                    call,
                ));
            }
            if name.is_empty() {
                return Err(argument(&format!("{at}.name"), "Name cannot be empty."));
            }
            let value = call.get(payload);
            let required = camel == "functionResponse";
            if value.map_or(required, |v| !v.is_object()) {
                return Err(argument(
                    &format!("{at}.{payload}"),
                    "must be a JSON object (google.protobuf.Struct)",
                ));
            }
        }
    }
    Ok(())
}

fn out_of_range(name: &str, value: &Value, low: &str, high: &str) -> String {
    format!(
        "Unable to submit request because it has a {name} value of {value} but the supported \
         range is from {low} (inclusive) to {high} (exclusive). Update the value and try again."
    )
}

fn generation_config(config: &Value) -> Checked {
    let Some(o) = config.as_object() else {
        return Err(invalid(
            "generation_config",
            "type.googleapis.com/google.cloud.aiplatform.v1.GenerationConfig",
            config,
        ));
    };
    for (name, high) in [("temperature", 2.0001_f64), ("topP", 1.0001)] {
        let Some(value) = field(o, name) else {
            continue;
        };
        let Some(number) = value.as_f64() else {
            let at = format!("generation_config.{}", snake(name));
            return Err(invalid(&at, "TYPE_FLOAT", value));
        };
        if !(0.0..high).contains(&number) {
            return Err(out_of_range(name, value, "0", &high.to_string()));
        }
    }
    if let Some(value) = field(o, "maxOutputTokens") {
        let Some(n) = value.as_i64() else {
            return Err(invalid(
                "generation_config.max_output_tokens",
                "TYPE_INT32",
                value,
            ));
        };
        if !(1..65537).contains(&n) {
            return Err(out_of_range("maxOutputTokens", value, "1", "65537"));
        }
    }
    if let Some(value) = field(o, "stopSequences")
        && !value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(invalid(
            "generation_config.stop_sequences",
            "TYPE_STRING",
            value,
        ));
    }
    Ok(())
}

/// Whether `name` is a function name Gemini takes.
fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
}

fn function_declarations(tools: &Value) -> Checked {
    let Some(tools) = tools.as_array() else {
        return Err(invalid("tools", TOOL, tools));
    };
    for (i, tool) in tools.iter().enumerate() {
        let Some(o) = tool.as_object() else {
            return Err(invalid(&format!("tools[{i}]"), TOOL, tool));
        };
        let Some(declarations) = field(o, "functionDeclarations") else {
            continue;
        };
        let at = format!("tools[{i}].function_declarations");
        let Some(declarations) = declarations.as_array() else {
            return Err(invalid(&at, "FunctionDeclaration", declarations));
        };
        for (j, declaration) in declarations.iter().enumerate() {
            let at = format!("{at}[{j}]");
            let Some(d) = declaration.as_object() else {
                return Err(invalid(&at, "FunctionDeclaration", declaration));
            };
            let names = [
                "name",
                "description",
                "parameters",
                "parametersJsonSchema",
                "response",
                "responseJsonSchema",
            ];
            unknown_names(d, &names, &at)?;
            let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
            if !valid_function_name(name) {
                return Err(argument(&format!("{at}.name"), FUNCTION_NAME_RULE));
            }
            if let Some(description) = d.get("description")
                && !description.is_string()
            {
                return Err(invalid(
                    &format!("{at}.description"),
                    "TYPE_STRING",
                    description,
                ));
            }
            if let Some(parameters) = d.get("parameters")
                && !parameters.is_object()
            {
                return Err(invalid(&format!("{at}.parameters"), "Schema", parameters));
            }
        }
    }
    Ok(())
}

fn tool_config(config: &Value) -> Checked {
    let at = "tool_config.function_calling_config";
    let Some(calling) = config
        .as_object()
        .and_then(|o| field(o, "functionCallingConfig"))
    else {
        return Ok(());
    };
    if let Some(mode) = calling.get("mode")
        && !matches!(
            mode.as_str(),
            Some("AUTO" | "ANY" | "NONE" | "VALIDATED" | "MODE_UNSPECIFIED")
        )
    {
        let kind = "type.googleapis.com/google.cloud.aiplatform.v1.FunctionCallingConfig.Mode";
        return Err(invalid(&format!("{at}.mode"), kind, mode));
    }
    if let Some(names) = calling
        .as_object()
        .and_then(|o| field(o, "allowedFunctionNames"))
        && !names
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        let at = format!("{at}.allowed_function_names");
        return Err(invalid(&at, "TYPE_STRING", names));
    }
    Ok(())
}

/// Checks a Claude Messages body as Vertex takes it: `anthropic_version` `vertex-2023-10-16`,
/// no `model` (it is in the URL), a positive `max_tokens`, `messages`.
pub(crate) fn claude(body: &Value) -> Checked {
    let Some(o) = body.as_object() else {
        return Err(
            "There was an error parsing the body of your request: it must be a JSON object".into(),
        );
    };
    match o.get("anthropic_version") {
        None | Some(Value::Null) => return Err("anthropic_version: Field required".into()),
        Some(v) if v.as_str() != Some(VERTEX_ANTHROPIC_VERSION) => {
            return Err(format!(
                "anthropic_version: Input should be '{VERTEX_ANTHROPIC_VERSION}'"
            ));
        }
        Some(_) => {}
    }
    if o.contains_key("model") {
        return Err("model: Extra inputs are not permitted".into());
    }
    match o.get("max_tokens") {
        None | Some(Value::Null) => return Err("max_tokens: Field required".into()),
        Some(v) => match v.as_u64() {
            None => return Err("max_tokens: Input should be a valid integer".into()),
            Some(0) => return Err("max_tokens: Input should be greater than or equal to 1".into()),
            Some(_) => {}
        },
    }
    if o.get("messages").is_none_or(Value::is_null) {
        return Err("messages: Field required".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_and_ranges_in_googles_words() {
        assert_eq!(snake("maxOutputTokens"), "max_output_tokens");
        assert!(valid_function_name("get_weather.v2"));
        assert!(!valid_function_name("2fast"));
        assert!(!valid_function_name(&"a".repeat(65)));
        let ok = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                        "generation_config": {"max_output_tokens": 5, "top_p": 0.5}});
        assert_eq!(gemini(&ok, &ok.to_string()), Ok(()));
        let hot = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                         "generationConfig": {"temperature": 3}});
        assert_eq!(
            gemini(&hot, ""),
            Err(
                "Unable to submit request because it has a temperature value of 3 but the \
                 supported range is from 0 (inclusive) to 2.0001 (exclusive). Update the value \
                 and try again."
                    .into()
            )
        );
        let two = json!({"contents": [{"role": "user",
                          "parts": [{"text": "a", "functionCall": {"name": "f"}}]}]});
        assert_eq!(
            gemini(&two, ""),
            Err("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set 'functionCall'".into())
        );
        assert_eq!(
            gemini(&Value::Null, "{oops"),
            Err("Invalid JSON payload received. Unexpected token.".into())
        );
    }
}
