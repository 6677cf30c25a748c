//! The request checks OpenAI makes on a chat request's tools before it runs the model.
//!
//! What they answer is listed in the [module docs](super#tool-calls).

use serde_json::{Value, json};

/// A failed check: OpenAI's 400 body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    pub message: String,
    pub param: String,
    pub code: Option<&'static str>,
}

impl Invalid {
    fn new(
        message: impl Into<String>,
        param: impl Into<String>,
        code: Option<&'static str>,
    ) -> Self {
        Self {
            message: message.into(),
            param: param.into(),
            code,
        }
    }

    fn missing(param: String) -> Self {
        Self::new(
            format!("Missing required parameter: '{param}'."),
            param,
            Some("missing_required_parameter"),
        )
    }

    /// The response body.
    pub(crate) fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": self.code,
        }})
    }
}

/// `value[key]`, a JSON `null` counting as absent.
fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// Checks a chat request `body`'s `tools`, `tool_choice` and `tool` messages as OpenAI does.
pub(crate) fn check_chat(body: &Value) -> Result<(), Invalid> {
    let tools = field(body, "tools").and_then(Value::as_array);
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        match field(tool, "type") {
            None => return Err(Invalid::missing(format!("tools[{i}].type"))),
            Some(kind) if kind.as_str() != Some("function") => {
                let shown = kind
                    .as_str()
                    .map_or_else(|| kind.to_string(), str::to_owned);
                return Err(Invalid::new(
                    format!("Invalid value: '{shown}'. Supported values are: 'function'."),
                    format!("tools[{i}].type"),
                    Some("invalid_value"),
                ));
            }
            Some(_) => {}
        }
        let Some(function) = field(tool, "function") else {
            return Err(Invalid::missing(format!("tools[{i}].function")));
        };
        if field(function, "name").is_none() {
            return Err(Invalid::missing(format!("tools[{i}].function.name")));
        }
    }
    if field(body, "tool_choice").is_some() && tools.is_none_or(Vec::is_empty) {
        return Err(Invalid::new(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
            None,
        ));
    }
    let messages = field(body, "messages").and_then(Value::as_array);
    check_tool_messages(messages.map_or(&[], Vec::as_slice))
}

/// Every `tool` message has a `tool_call_id` naming a call of the assistant message before it.
fn check_tool_messages(messages: &[Value]) -> Result<(), Invalid> {
    // The call ids a `tool` message may answer now: those of the latest assistant message with
    // `tool_calls`, as long as only `tool` messages followed it.
    let mut open: Vec<&str> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = field(message, "role").and_then(Value::as_str);
        if role != Some("tool") {
            open = match role {
                Some("assistant") => field(message, "tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|call| field(call, "id").and_then(Value::as_str))
                    .collect(),
                _ => Vec::new(),
            };
            continue;
        }
        let Some(id) = field(message, "tool_call_id") else {
            return Err(Invalid::new(
                "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
                format!("messages.[{i}].tool_call_id"),
                None,
            ));
        };
        if !id.as_str().is_some_and(|id| open.contains(&id)) {
            return Err(Invalid::new(
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                format!("messages.[{i}].role"),
                None,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(body: &Value) -> Option<String> {
        check_chat(body).err().map(|e| e.param)
    }

    #[test]
    fn well_formed_tool_turns_pass() {
        let body = json!({
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "auto",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c2", "content": "2"},
                {"role": "tool", "tool_call_id": "c1", "content": "1"},
                {"role": "assistant", "content": "done"}]
        });
        assert_eq!(check_chat(&body), Ok(()));
        assert_eq!(check_chat(&Value::Null), Ok(()));
        assert_eq!(check_chat(&json!({"tool_choice": null})), Ok(()));
    }

    #[test]
    fn each_check_names_its_param() {
        let tool =
            |t: Value| json!({"tools": [{"type": "function", "function": {"name": "ok"}}, t]});
        assert_eq!(
            param(&tool(json!({"function": {"name": "f"}}))).as_deref(),
            Some("tools[1].type")
        );
        assert_eq!(
            param(&tool(json!({"type": "fn", "function": {"name": "f"}}))).as_deref(),
            Some("tools[1].type")
        );
        assert_eq!(
            param(&tool(json!({"type": "function"}))).as_deref(),
            Some("tools[1].function")
        );
        assert_eq!(
            param(&tool(json!({"type": "function", "function": {}}))).as_deref(),
            Some("tools[1].function.name")
        );
        assert_eq!(
            param(&json!({"tool_choice": "none", "tools": []})).as_deref(),
            Some("tool_choice")
        );
        let answered = |messages: Value| param(&json!({"messages": messages}));
        assert_eq!(
            answered(json!([{"role": "user"}, {"role": "tool", "content": "x"}])).as_deref(),
            Some("messages.[1].tool_call_id")
        );
        assert_eq!(
            answered(json!([{"role": "user"}, {"role": "tool", "tool_call_id": "c1"}])).as_deref(),
            Some("messages.[1].role")
        );
        let call = json!({"role": "assistant", "tool_calls": [{"id": "c1"}]});
        assert_eq!(
            answered(json!([call, {"role": "tool", "tool_call_id": "c9"}])).as_deref(),
            Some("messages.[1].role"),
            "an id the assistant did not call"
        );
        assert_eq!(
            answered(json!([call, {"role": "user"}, {"role": "tool", "tool_call_id": "c1"}]))
                .as_deref(),
            Some("messages.[2].role"),
            "a user message between the call and its answer"
        );
    }
}
