//! Chat features, generations and the ReAct agent prompt: rendering with empty, partial and
//! hostile inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{chat, inputs, registry, resolve};
use duo_core::{ModelFamily, Role};
use duo_prompts::RenderError;
use serde_json::{Map, Value, json};

const SLASH: [&str; 4] = [
    "chat/explain_code",
    "chat/write_tests",
    "chat/refactor_code",
    "chat/fix_code",
];

#[test]
fn every_chat_prompt_renders_with_empty_inputs_for_every_family() {
    let r = registry();
    let empty = Map::new();
    for id in r
        .prompt_ids()
        .into_iter()
        .filter(|id| id.starts_with("chat/"))
    {
        for family in ModelFamily::KNOWN {
            let def = r.resolve(id, family, "^1.0.0").unwrap();
            if !def.required_inputs().is_empty() {
                continue; // required_inputs_are_enforced_per_feature
            }
            let req = def
                .render(&empty)
                .unwrap_or_else(|e| panic!("{id} for {family}: {e}"));
            let msgs = chat(&req.prompt);
            assert!(
                msgs.iter()
                    .any(|m| m.role == Role::User && !m.content.trim().is_empty()),
                "{id}"
            );
            assert!(
                !msgs.iter().any(|m| m.content.contains("none")),
                "{id}: printed a none"
            );
        }
    }
}

#[test]
fn slash_commands_render_with_any_input_missing_empty_or_null() {
    let r = registry();
    let all = [
        "selected_text",
        "file_content",
        "file_content_reuse",
        "language_info",
        "input",
    ];
    for id in SLASH {
        let def = resolve(&r, id, "general");
        for skip in all {
            let mut given = Map::new();
            for name in all.iter().filter(|n| **n != skip) {
                given.insert((*name).into(), format!("<{name} value>").into());
            }
            let msgs_missing = def.render(&given).unwrap();
            given.insert(skip.into(), "".into());
            def.render(&given).unwrap();
            given.insert(skip.into(), Value::Null);
            let with_null = def.render(&given).unwrap();
            let user = &chat(&with_null.prompt)[1].content;
            assert!(!user.contains(&format!("<{skip} value>")));
            assert_eq!(
                chat(&msgs_missing.prompt),
                chat(&with_null.prompt),
                "{id} {skip}"
            );
        }
    }
}

#[test]
fn explain_code_shows_the_selection_file_and_instruction() {
    let r = registry();
    let def = resolve(&r, "chat/explain_code", "gpt");
    let req = def
        .render(&inputs(&[
            ("selected_text", "fn main() {}".into()),
            ("file_content", "// lib\nfn main() {}".into()),
            ("language_info", "The code is written in Rust.".into()),
            ("input", "why is it empty?".into()),
        ]))
        .unwrap();
    let msgs = chat(&req.prompt);
    assert_eq!(msgs[0].role, Role::System);
    assert_eq!(
        msgs[1].content,
        "The code is written in Rust.\nThe file the code comes from:\n<file>\n// lib\nfn main() {}\n</file>\nThe selected code:\n<selected_code>\nfn main() {}\n</selected_code>\n\nExplain the selected code. In particular: why is it empty?"
    );
    assert_eq!(def.unit_primitive().as_str(), "explain_code");
    assert_eq!(req.params.max_tokens, Some(2048));
}

#[test]
fn mistral_family_variants_send_no_system_turn() {
    let r = registry();
    for id in r.prompt_ids() {
        if id == "code_suggestions/completions" {
            continue; // the contract keeps the system message there
        }
        for family in ["mistral", "mixtral"] {
            let def = r
                .resolve(id, &ModelFamily::parse(family), "^1.0.0")
                .unwrap();
            let mut given = Map::new();
            for name in def.required_inputs() {
                let value = if name == "documents" {
                    json!([])
                } else {
                    "x".into()
                };
                given.insert(name.clone(), value);
            }
            let req = def.render(&given).unwrap();
            let msgs = chat(&req.prompt);
            assert!(msgs.iter().all(|m| m.role != Role::System), "{id} {family}");
            assert_eq!(msgs[0].role, Role::User, "{id} {family}");
        }
    }
}

#[test]
fn input_values_are_data_not_templates() {
    let r = registry();
    let def = resolve(&r, "generate_commit_message", "general");
    let hostile = "{{ 7 * 7 }} {% include 'chat/code_context.jinja' %} {# x #}";
    let req = def.render(&inputs(&[("diff", hostile.into())])).unwrap();
    let user = &chat(&req.prompt)[1].content;
    assert!(user.contains(hostile), "{user}");
    assert!(!user.contains("49"));
}

#[test]
fn required_inputs_are_enforced_per_feature() {
    let r = registry();
    for (id, name) in [
        ("generate_commit_message", "diff"),
        ("summarize_new_merge_request", "extracted_diff"),
        ("summarize_review", "draft_notes_content"),
        ("resolve_vulnerability", "vulnerable_code"),
        ("review_merge_request", "diff_lines"),
        ("glab_ask_git_command", "prompt"),
        ("code_suggestions/generations", "prefix"),
        ("chat/documentation_search", "question"),
    ] {
        let def = resolve(&r, id, "general");
        assert_eq!(
            def.render(&Map::new()).unwrap_err(),
            RenderError::MissingVariable { name: name.into() },
            "{id}"
        );
    }
}

#[test]
fn documentation_answer_shows_the_question_and_each_document_with_its_reference() {
    let r = registry();
    for family in ModelFamily::KNOWN {
        let def = r
            .resolve("chat/documentation_search", family, "^1.0.0")
            .unwrap();
        assert_eq!(def.unit_primitive().as_str(), "documentation_search");
        let req = def
            .render(&inputs(&[
                ("question", "How do I create a project?".into()),
                ("content_id", "ATTRS".into()),
                (
                    "documents",
                    json!([
                        {"id": "/user/project/index.md", "content": "# Create a project\nSelect **New project**.", "metadata": {"filename": "/user/project/index.md"}},
                        {"id": "/user/group/index.md", "content": "Groups hold projects.", "metadata": {"filename": "/user/group/index.md"}},
                    ]),
                ),
            ]))
            .unwrap();
        let msgs = chat(&req.prompt);
        let user = &msgs.last().unwrap().content;
        assert!(
            user.contains("<question>How do I create a project?</question>"),
            "{family}: {user}"
        );
        assert!(
            user.contains("<doc>\nCONTENT: # Create a project\nSelect **New project**.\nATTRS: CNT-IDX-/user/project/index.md\n</doc>"),
            "{family}: {user}"
        );
        assert!(
            user.contains("ATTRS: CNT-IDX-/user/group/index.md"),
            "{user}"
        );
        let instructions = msgs.iter().map(|m| m.content.as_str()).collect::<String>();
        assert!(instructions.contains("\"ATTRS:\" alone"), "{family}");
        assert_eq!(req.params.temperature, Some(0.1));

        let none = def
            .render(&inputs(&[
                ("question", "q".into()),
                ("content_id", "ATTRS".into()),
                ("documents", json!([])),
            ]))
            .unwrap();
        let user = &chat(&none.prompt).last().unwrap().content;
        assert!(user.contains("No documents were found."), "{user}");
        assert!(!user.contains("<doc>"), "{user}");
    }
}

#[test]
fn react_prompt_carries_tools_history_question_and_scratchpad() {
    let r = registry();
    let def = resolve(&r, "chat/react", "gpt");
    assert_eq!(def.params().stop, ["Observation:"]);
    assert_eq!(def.params().max_tokens, Some(8192));
    assert_eq!(def.unit_primitive().as_str(), "duo_classic_chat");
    let given = inputs(&[
        ("question", "What's the title of this issue?".into()),
        ("current_date", "August 22, 2026".into()),
        (
            "tools",
            json!([{"name": "issue_reader", "description": "Reads an issue."},
                   {"name": "gitlab_documentation", "description": "Searches the docs.", "example": "How do I fork?"}]),
        ),
        (
            "unavailable_resources",
            json!(["Pipelines", "Vulnerabilities"]),
        ),
        (
            "chat_history",
            json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]),
        ),
        (
            "context",
            json!({"type": "issue", "content": "issue content"}),
        ),
        (
            "current_file",
            json!({"file_path": "main.py", "data": "def main()", "selected_code": true}),
        ),
        (
            "agent_scratchpad",
            json!([{"thought": "I should read it", "tool": "issue_reader", "tool_input": "#1", "observation": "Title: Bug"}]),
        ),
    ]);
    let req = def.render(&given).unwrap();
    let msgs = chat(&req.prompt);
    let roles: Vec<Role> = msgs.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::User,
            Role::Assistant
        ]
    );
    let system = &msgs[0].content;
    assert!(system.contains("Today is August 22, 2026."));
    assert!(system.contains("- issue_reader: Reads an issue.\n- gitlab_documentation: Searches the docs.\n  Example: How do I fork?\n"));
    assert!(system.contains(
        "Action: the name of one tool (issue_reader, gitlab_documentation)\nAction Input:"
    ));
    assert!(system.contains("Final Answer:"));
    assert!(system.contains("You have no access to: Pipelines, Vulnerabilities."));
    assert_eq!(
        (msgs[1].content.as_str(), msgs[2].content.as_str()),
        ("hi", "hello")
    );
    assert!(
        msgs[3]
            .content
            .contains("<context>\nissue content\n</context>")
    );
    assert!(
        msgs[3]
            .content
            .contains("The user selected this code in `main.py`:\n<code>\ndef main()\n</code>")
    );
    assert!(
        msgs[3]
            .content
            .ends_with("Question: What's the title of this issue?")
    );
    assert_eq!(
        msgs[4].content,
        "Thought: I should read it\nAction: issue_reader\nAction Input: #1\nObservation: Title: Bug\n"
    );

    // The Mistral variant folds the instructions into the current user turn, after the history.
    let def = resolve(&r, "chat/react", "mixtral");
    let msgs = chat(&def.render(&given).unwrap().prompt).to_vec();
    let roles: Vec<Role> = msgs.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    assert!(msgs[2].content.starts_with("You are GitLab Duo Chat"));
    assert_eq!(def.params().max_tokens, Some(4096));
}

#[test]
fn react_rejects_a_malformed_history_with_a_clear_error() {
    let r = registry();
    let def = resolve(&r, "chat/react", "general");
    for bad in [
        json!("text"),
        json!([{"role": "robot", "content": "x"}]),
        json!([{"role": "user", "content": 5}]),
    ] {
        let err = def
            .render(&inputs(&[("chat_history", bad.clone())]))
            .unwrap_err();
        assert!(
            matches!(err, RenderError::InvalidInput { ref name, .. } if name == "chat_history"),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn generations_per_family() {
    let r = registry();
    let given = inputs(&[
        ("prefix", "# sort a list of numbers\n".into()),
        ("instruction", "".into()),
        ("user_instruction", "".into()),
        ("language", "python".into()),
        ("file_name", "sort.py".into()),
    ]);
    let codestral = resolve(&r, "code_suggestions/generations", "codestral");
    let req = codestral.render(&given).unwrap();
    let msgs = chat(&req.prompt);
    assert_eq!(msgs[0].role, Role::System);
    assert_eq!(
        msgs[1].content,
        "Existing code:\n# sort a list of numbers\n\n\nInstruction: follow the comment at the end of the existing code.\n\nAnswer with the new code only, inside <new_code></new_code> tags: no explanation, no repetition of the existing code."
    );
    assert_eq!(
        (req.params.temperature, req.params.max_tokens),
        (Some(0.3), Some(256))
    );
    assert_eq!(req.params.stop, ["</new_code>"]);
    assert_eq!(codestral.unit_primitive().as_str(), "generate_code");

    let mut with_instruction = given.clone();
    with_instruction.insert("instruction".into(), "Use quicksort.".into());
    let gemma = resolve(&r, "code_suggestions/generations", "codegemma");
    let req = gemma.render(&with_instruction).unwrap();
    let msgs = chat(&req.prompt);
    assert_eq!(
        msgs[1].content,
        "## Existing code:\n```python\n# sort a list of numbers\n\n```\n\n## Instruction:\nUse quicksort.\n\nReturn only the new code inside <new_code></new_code> tags, without repeating the existing code."
    );
    assert_eq!(
        (req.params.temperature, req.params.max_tokens),
        (Some(0.95), Some(512))
    );

    // Prompt-enhancer inputs appear in the generic system prompt.
    let mut enhanced = given.clone();
    enhanced.insert("libraries".into(), json!(["numpy", "pandas"]));
    enhanced.insert(
        "trimmed_content_above_cursor".into(),
        "import numpy\n".into(),
    );
    enhanced.insert("trimmed_content_below_cursor".into(), "\nmain()\n".into());
    enhanced.insert(
        "examples_array".into(),
        json!([{"example": "# add", "response": "def add(a, b): return a + b"}]),
    );
    let base = resolve(&r, "code_suggestions/generations", "claude_3");
    let system = chat(&base.render(&enhanced).unwrap().prompt)[0]
        .content
        .clone();
    assert!(system.contains("Libraries the project uses: numpy, pandas."));
    assert!(system.contains("<existing_code>\nimport numpy\n<cursor>\nmain()\n\n</existing_code>"));
    assert!(system.contains("<answer>def add(a, b): return a + b</answer>"));
    // With a null language the generations still render.
    let mut null_lang = given;
    null_lang.insert("language".into(), Value::Null);
    let llama = resolve(&r, "code_suggestions/generations", "llama3");
    let msgs = chat(&llama.render(&null_lang).unwrap().prompt).to_vec();
    assert!(msgs[1].content.starts_with("## Existing code:\n```\n"));
}
