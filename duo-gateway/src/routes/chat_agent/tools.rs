//! The tools Duo Chat's agent may ask GitLab to run, as the prompt describes them.
//!
//! The gateway does not run tools: it names them in the prompt, parses the model's choice into
//! an `action` event, and GitLab runs the tool and calls again with the observation. A tool is
//! offered only when the caller's token holds its unit primitive.

use duo_core::UnitPrimitive;
use serde::Serialize;

use duo_auth::Caller;

/// One tool as the prompt lists it (`chat/react` input `tools`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// The name the model writes after `Action:`.
    pub name: &'static str,
    /// When to use it and what to pass.
    pub description: &'static str,
    /// A short worked example.
    pub example: &'static str,
    /// The scope the caller needs for GitLab to run it.
    #[serde(skip)]
    pub unit_primitive: UnitPrimitive,
}

/// Every tool the gateway knows, in prompt order.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "issue_reader",
        description: "Reads one issue (title, description, comments). Use it only when the user \
                      names an issue by reference (#123) or URL, or is looking at one. The input \
                      is the user's question, unchanged.",
        example: "Question: Who opened #42?\nThought: The question is about issue #42; I read it first.\nAction: issue_reader\nAction Input: Who opened #42?",
        unit_primitive: UnitPrimitive::AskIssue,
    },
    Tool {
        name: "epic_reader",
        description: "Reads one epic. Use it only when the user names an epic by reference (&12) \
                      or URL, or is looking at one. The input is the user's question, unchanged.",
        example: "Question: Summarise &12\nThought: I need the epic's content.\nAction: epic_reader\nAction Input: Summarise &12",
        unit_primitive: UnitPrimitive::AskEpic,
    },
    Tool {
        name: "merge_request_reader",
        description: "Reads one merge request (description, changes, discussion). Use it only when \
                      the user names a merge request by reference (!7) or URL, or is looking at \
                      one. The input is the user's question, unchanged.",
        example: "Question: What does !7 change?\nThought: I need to read merge request !7.\nAction: merge_request_reader\nAction Input: What does !7 change?",
        unit_primitive: UnitPrimitive::AskMergeRequest,
    },
    Tool {
        name: "commit_reader",
        description: "Reads one commit (message and diff). Use it only when the user gives a \
                      commit SHA or URL, or is looking at one. The input is the user's question, \
                      unchanged.",
        example: "Question: Why was a1b2c3d made?\nThought: I need the commit's message and diff.\nAction: commit_reader\nAction Input: Why was a1b2c3d made?",
        unit_primitive: UnitPrimitive::AskCommit,
    },
    Tool {
        name: "build_reader",
        description: "Reads one CI job (also called a build) and its log. Use it only when the \
                      user gives a job id or URL, or is looking at one. The input is the user's \
                      question, unchanged.",
        example: "Question: Why did job 981 fail?\nThought: I need the job's log.\nAction: build_reader\nAction Input: Why did job 981 fail?",
        unit_primitive: UnitPrimitive::AskBuild,
    },
    Tool {
        name: "gitlab_documentation",
        description: "Searches GitLab's documentation. Use it for questions about how GitLab \
                      works: projects, groups, issues, merge requests, CI/CD, settings, \
                      administration. The input is a short search phrase.",
        example: "Question: How do I protect a branch?\nThought: This is about a GitLab feature; I search the docs.\nAction: gitlab_documentation\nAction Input: protect a branch",
        unit_primitive: UnitPrimitive::DocumentationSearch,
    },
];

/// The tools `caller` may use, in prompt order.
#[must_use]
pub fn tools_for(caller: &Caller) -> Vec<&'static Tool> {
    TOOLS
        .iter()
        .filter(|t| caller.can(t.unit_primitive))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str]) -> Caller {
        Caller::with_scopes("s", "i", scopes)
    }

    #[test]
    fn tools_follow_the_callers_scopes() {
        let names: Vec<_> = tools_for(&caller(&["duo_chat", "ask_issue", "documentation_search"]))
            .iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["issue_reader", "gitlab_documentation"]);
        assert!(tools_for(&caller(&["duo_chat"])).is_empty());
    }

    #[test]
    fn tools_serialise_without_their_scope_and_name_themselves_in_the_example() {
        for tool in TOOLS {
            let v = serde_json::to_value(tool).unwrap();
            assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
            assert!(
                tool.example.contains(&format!("Action: {}", tool.name)),
                "{}",
                tool.name
            );
        }
    }
}
