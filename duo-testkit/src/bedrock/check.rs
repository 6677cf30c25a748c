//! The request checks Bedrock makes before it runs the model.

use serde_json::Value;

use super::errors::ErrorReply;

/// Refuses, as Bedrock does, `toolUse` or `toolResult` content blocks in `messages` when the
/// request has no `toolConfig` (a JSON `null` counts as absent).
pub(crate) fn check(body: &Value) -> Result<(), ErrorReply> {
    let has_tool_config = body.get("toolConfig").is_some_and(|c| !c.is_null());
    let uses_tools = body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|message| message.get("content").and_then(Value::as_array))
        .flatten()
        .any(|block| block.get("toolUse").is_some() || block.get("toolResult").is_some());
    if uses_tools && !has_tool_config {
        return Err(ErrorReply::tool_config_missing());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tool_blocks_need_a_tool_config() {
        let turn = |config: Value| {
            json!({
                "messages": [
                    {"role": "user", "content": [{"text": "weather?"}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}]}],
                "toolConfig": config,
            })
        };
        assert!(check(&turn(json!({"tools": []}))).is_ok());
        let refused = check(&turn(Value::Null)).unwrap_err();
        assert_eq!(
            (refused.status, refused.error_type.as_str()),
            (400, "ValidationException")
        );
        let result_only = json!({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": []}}]}]});
        assert!(check(&result_only).is_err());
        assert!(
            check(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})).is_ok()
        );
        assert!(check(&Value::Null).is_ok());
    }
}
