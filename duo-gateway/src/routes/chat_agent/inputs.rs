//! From an [`AgentRequest`] to the `chat/react` prompt's inputs, with the checks serde cannot do.
//!
//! The question is the last user message; its `context`, `current_file` and
//! `additional_context` describe what the user is looking at. Earlier messages become the chat
//! history. The agent's steps so far come from `options.agent_scratchpad` or, as older instances
//! send them, from a trailing assistant message whose `content` is `null`.

use duo_core::UnitPrimitive;
use serde_json::{Map, Value, json};

use super::tools::Tool;
use super::wire::{AgentRequest, ChatMessage, ChatRole};
use crate::error::ApiError;

/// The `detail` of the 400 for a scratchpad on a non-assistant message (fixture F18).
pub const SCRATCHPAD_ROLE: &str = "agent_scratchpad can only be present when role is ASSISTANT";

/// The `additional_context` categories GitLab sends; each needs `include_<category>_context`.
const CATEGORIES: &[(&str, UnitPrimitive)] = &[
    ("file", UnitPrimitive::IncludeFileContext),
    ("snippet", UnitPrimitive::IncludeSnippetContext),
    ("merge_request", UnitPrimitive::IncludeMergeRequestContext),
    ("issue", UnitPrimitive::IncludeIssueContext),
    ("dependency", UnitPrimitive::IncludeDependencyContext),
    ("local_git", UnitPrimitive::IncludeLocalGitContext),
    ("terminal", UnitPrimitive::IncludeTerminalContext),
    ("repository", UnitPrimitive::IncludeRepositoryContext),
    ("directory", UnitPrimitive::IncludeDirectoryContext),
    ("os_information", UnitPrimitive::IncludeOsInformationContext),
    (
        "agent_user_environment",
        UnitPrimitive::IncludeAgentUserEnvironmentContext,
    ),
];

/// Checks the request's shape: the scratchpad rule (400), then messages, agent type and
/// context categories (422). Returns the index of the question (the last user message).
///
/// # Errors
/// [`ApiError::BadRequest`] with [`SCRATCHPAD_ROLE`]; [`ApiError::Validation`] otherwise.
pub fn validate(request: &AgentRequest) -> Result<usize, ApiError> {
    if request
        .messages
        .iter()
        .any(|m| m.agent_scratchpad.is_some() && m.role != ChatRole::Assistant)
    {
        return Err(ApiError::BadRequest(SCRATCHPAD_ROLE.into()));
    }
    if let Some(options) = &request.options
        && options.agent_scratchpad.agent_type != "react"
    {
        return Err(ApiError::Validation(format!(
            "options.agent_scratchpad.agent_type: only 'react' is supported, not '{}'",
            options.agent_scratchpad.agent_type
        )));
    }
    for (i, message) in request.messages.iter().enumerate() {
        for (j, item) in message.additional_context.iter().flatten().enumerate() {
            if category_primitive(&item.category).is_none() {
                return Err(ApiError::Validation(format!(
                    "messages[{i}].additional_context[{j}].category: unknown category '{}'",
                    item.category
                )));
            }
        }
    }
    let question = request
        .messages
        .iter()
        .rposition(|m| m.role == ChatRole::User)
        .ok_or_else(|| ApiError::Validation("messages: no user message to answer".into()))?;
    if request.messages[question + 1..]
        .iter()
        .any(|m| m.role != ChatRole::Assistant || m.content.is_some())
    {
        return Err(ApiError::Validation(
            "messages: the last message must be the user's question, optionally followed by an \
             assistant message with null content carrying the agent's scratchpad"
                .into(),
        ));
    }
    Ok(question)
}

/// The unit primitive an `additional_context` category needs.
#[must_use]
pub fn category_primitive(category: &str) -> Option<UnitPrimitive> {
    CATEGORIES
        .iter()
        .find(|(name, _)| *name == category)
        .map(|(_, up)| *up)
}

/// Every primitive the request's additional context needs, in order of appearance.
pub fn context_primitives(request: &AgentRequest) -> impl Iterator<Item = UnitPrimitive> + '_ {
    request
        .messages
        .iter()
        .flat_map(|m| m.additional_context.iter().flatten())
        .filter_map(|item| category_primitive(&item.category))
}

/// The prompt inputs for a request that passed [`validate`] (`question` is its result).
#[must_use]
pub fn prompt_inputs(
    request: &AgentRequest,
    question: usize,
    tools: &[&Tool],
    current_date: String,
) -> Map<String, Value> {
    let asked = &request.messages[question];
    let mut inputs = Map::new();
    inputs.insert(
        "question".into(),
        Value::String(asked.content.clone().unwrap_or_default()),
    );
    inputs.insert(
        "chat_history".into(),
        Value::Array(history(&request.messages[..question])),
    );
    inputs.insert("agent_scratchpad".into(), Value::Array(scratchpad(request)));
    inputs.insert("tools".into(), json!(tools));
    if let Some(resources) = &request.unavailable_resources {
        inputs.insert("unavailable_resources".into(), json!(resources));
    }
    inputs.insert("current_date".into(), Value::String(current_date));
    if let Some(ctx) = &asked.context {
        let content = ctx.content.as_deref().or(ctx.title.as_deref());
        inputs.insert(
            "context".into(),
            json!({"type": ctx.kind, "content": content}),
        );
    }
    if let Some(file) = &asked.current_file {
        inputs.insert(
            "current_file".into(),
            json!({"file_path": file.file_path, "data": file.data, "selected_code": file.selected_code}),
        );
    }
    if let Some(items) = &asked.additional_context {
        let items: Vec<Value> = items
            .iter()
            .map(|c| json!({"category": c.category, "id": c.id, "content": c.content}))
            .collect();
        inputs.insert("additional_context".into(), Value::Array(items));
    }
    inputs
}

/// Earlier turns as `{role, content}`; assistant turns without content are scratchpad carriers.
fn history(messages: &[ChatMessage]) -> Vec<Value> {
    messages
        .iter()
        .filter_map(|m| {
            let content = m.content.as_deref()?;
            let role = match m.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
                ChatRole::System => "system",
            };
            Some(json!({"role": role, "content": content}))
        })
        .collect()
}

/// The steps so far as `{thought, tool, tool_input, observation}`.
fn scratchpad(request: &AgentRequest) -> Vec<Value> {
    let step = |thought: &str, tool: &str, tool_input: &str, observation: &str| {
        json!({
            "thought": thought.replace("\\_", "_"),
            "tool": tool.replace("\\_", "_"),
            "tool_input": tool_input,
            "observation": observation,
        })
    };
    if let Some(options) = &request.options {
        return options
            .agent_scratchpad
            .steps
            .iter()
            .map(|s| step(&s.thought, &s.tool, &s.tool_input, &s.observation))
            .collect();
    }
    match request.messages.last() {
        Some(last) if last.role == ChatRole::Assistant && last.content.is_none() => last
            .agent_scratchpad
            .iter()
            .flatten()
            .filter_map(|s| {
                let a = s.action.as_ref()?;
                Some(step(&a.thought, &a.tool, &a.tool_input, &s.observation))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Today as the agent's prompt states it, e.g. `Friday, August 22, 2026`.
#[must_use]
pub fn current_date() -> String {
    let format = time::macros::format_description!(
        "[weekday repr:long], [month repr:long] [day padding:none], [year]"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(v: Value) -> AgentRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn scratchpad_on_a_user_message_is_a_400() {
        let r = request(
            json!({"messages": [{"role": "user", "content": "hi", "agent_scratchpad": []}]}),
        );
        let err = validate(&r).unwrap_err();
        assert_eq!(err.status_and_detail().0.as_u16(), 400);
        assert_eq!(err.to_string(), SCRATCHPAD_ROLE);
    }

    #[test]
    fn shape_errors_are_422() {
        for body in [
            json!({"messages": []}),
            json!({"messages": [{"role": "assistant", "content": "a"}]}),
            json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "answered"}]}),
            json!({"messages": [{"role": "user", "content": "q", "additional_context": [{"category": "secrets"}]}]}),
            json!({"messages": [{"role": "user", "content": "q"}],
                   "options": {"agent_scratchpad": {"agent_type": "plan", "steps": []}}}),
        ] {
            let err = validate(&request(body.clone())).unwrap_err();
            assert_eq!(err.status_and_detail().0.as_u16(), 422, "{body}");
        }
    }

    #[test]
    fn f17_becomes_history_question_context_and_scratchpad() {
        let r = request(json!({"messages": [
            {"role": "user", "content": "chat history"},
            {"role": "assistant", "content": "chat history"},
            {"role": "user", "content": "What's the title of this issue?",
             "context": {"type": "issue", "content": "issue content"},
             "current_file": {"file_path": "main.py", "data": "def main()", "selected_code": true},
             "additional_context": [{"category": "file", "id": "a.py", "content": "x = 1", "metadata": {"k": 1}}]},
            {"role": "assistant", "content": null,
             "agent_scratchpad": [{"action": {"thought": "thought", "tool": "issue\\_reader", "tool_input": "tool_input"}, "observation": "observation"},
                                  {"observation": "no action"}]}],
            "unavailable_resources": ["Mystery Resource 1"]}));
        let q = validate(&r).unwrap();
        assert_eq!(q, 2);
        assert_eq!(
            context_primitives(&r).collect::<Vec<_>>(),
            [UnitPrimitive::IncludeFileContext]
        );
        let inputs = prompt_inputs(&r, q, &[], "today".into());
        assert_eq!(inputs["question"], "What's the title of this issue?");
        assert_eq!(
            inputs["chat_history"],
            json!([{"role": "user", "content": "chat history"}, {"role": "assistant", "content": "chat history"}])
        );
        assert_eq!(
            inputs["agent_scratchpad"],
            json!([{"thought": "thought", "tool": "issue_reader", "tool_input": "tool_input", "observation": "observation"}])
        );
        assert_eq!(
            inputs["context"],
            json!({"type": "issue", "content": "issue content"})
        );
        assert_eq!(inputs["current_file"]["selected_code"], true);
        assert_eq!(
            inputs["additional_context"],
            json!([{"category": "file", "id": "a.py", "content": "x = 1"}])
        );
        assert_eq!(
            inputs["unavailable_resources"],
            json!(["Mystery Resource 1"])
        );
        assert_eq!(inputs["tools"], json!([]));
    }

    #[test]
    fn options_steps_win_and_titles_stand_in_for_content() {
        let r = request(json!({"messages": [
            {"role": "user", "content": "q", "context": {"type": "epic", "title": "Roadmap"}}],
            "options": {"agent_scratchpad": {"agent_type": "react",
                "steps": [{"thought": "t", "tool": "epic_reader", "tool_input": "i", "observation": "o"}]}},
            "unavailable_resources": null}));
        let inputs = prompt_inputs(&r, validate(&r).unwrap(), &[], "d".into());
        assert_eq!(inputs["agent_scratchpad"][0]["tool"], "epic_reader");
        assert_eq!(
            inputs["context"],
            json!({"type": "epic", "content": "Roadmap"})
        );
        assert!(!inputs.contains_key("unavailable_resources"));
    }

    #[test]
    fn every_category_maps_to_its_include_primitive() {
        for (name, up) in CATEGORIES {
            assert_eq!(up.as_str(), format!("include_{name}_context"));
        }
    }

    #[test]
    fn current_date_names_the_weekday() {
        let d = current_date();
        assert!(d.split(", ").count() == 3, "{d}");
    }
}
