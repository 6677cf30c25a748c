//! Golden tests: the exact prompt every family's code-completion definition renders for one fixed
//! input. The FIM token order is the contract (reference §4.3).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{chat, fim_inputs, inputs, registry, resolve, text};
use duo_core::Role;
use std::time::Duration;

const ID: &str = "code_suggestions/completions";
const P: &str = "def add(a, b):\n    ";
const S: &str = "\n\nprint(add(1, 2))\n";

fn stops(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

const MISTRAL_STOPS: [&str; 5] = ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]"];

#[test]
fn codestral_is_raw_text_with_the_suffix_first() {
    let r = registry();
    let def = resolve(&r, ID, "codestral");
    assert_eq!(def.family_folder(), "codestral");
    let req = def.render(&fim_inputs()).unwrap();
    assert_eq!(text(&req.prompt), format!("[SUFFIX]{S}[PREFIX]{P}"));
    assert_eq!(req.params.stop, stops(&MISTRAL_STOPS));
    assert_eq!(req.params.temperature, Some(0.32));
    assert_eq!(req.params.max_tokens, Some(64));
    assert_eq!(req.params.timeout, Some(Duration::from_secs(60)));
    assert_eq!(def.unit_primitive().as_str(), "complete_code");
    // The dated keys are the same family.
    assert_eq!(
        resolve(&r, ID, "codestral-2501").family_folder(),
        "codestral"
    );
}

#[test]
fn mistral_and_mixtral_are_chat_with_a_system_turn_and_the_codestral_layout() {
    let r = registry();
    for family in ["mistral", "mixtral"] {
        let def = resolve(&r, ID, family);
        assert_eq!(def.family_folder(), "mistral");
        let req = def.render(&fim_inputs()).unwrap();
        let msgs = chat(&req.prompt);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].role, Role::System);
        assert!(msgs[0].content.starts_with(
            "You are a code completion engine for python, working in the file `main.py`."
        ));
        assert_eq!(msgs[1].role, Role::User);
        assert_eq!(msgs[1].content, format!("[SUFFIX]{S}[PREFIX]{P}"));
        assert_eq!(req.params.stop, stops(&MISTRAL_STOPS));
        assert_eq!(req.params.max_tokens, Some(64));
        assert_eq!(req.params.temperature, Some(0.0));
        // Providers limited to four stop sequences send the first four.
        assert_eq!(req.params.stop_limited(4), &stops(&MISTRAL_STOPS)[..4]);
    }
}

#[test]
fn codegemma_is_raw_prefix_suffix_middle() {
    let r = registry();
    let req = resolve(&r, ID, "codegemma").render(&fim_inputs()).unwrap();
    assert_eq!(
        text(&req.prompt),
        format!("<|fim_prefix|>{P}<|fim_suffix|>{S}<|fim_middle|>")
    );
    assert_eq!(
        req.params.stop,
        stops(&[
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|file_separator|>"
        ])
    );
    assert_eq!(
        (req.params.max_tokens, req.params.temperature),
        (Some(128), Some(0.95))
    );
}

#[test]
fn codellama_puts_spaces_around_its_tokens() {
    let r = registry();
    let req = resolve(&r, ID, "codellama").render(&fim_inputs()).unwrap();
    assert_eq!(text(&req.prompt), format!("<PRE> {P} <SUF> {S} <MID>"));
    assert_eq!(
        req.params.stop,
        stops(&["<PRE>", "<SUF>", "<MID>", "<EOT>"])
    );
    assert_eq!(
        (req.params.max_tokens, req.params.temperature),
        (Some(128), Some(0.95))
    );
}

#[test]
fn deepseekcoder_uses_fullwidth_bars_and_lower_block_separators() {
    let r = registry();
    let req = resolve(&r, ID, "deepseekcoder")
        .render(&fim_inputs())
        .unwrap();
    let expected = format!(
        "<\u{FF5C}fim\u{2581}begin\u{FF5C}>{P}<\u{FF5C}fim\u{2581}hole\u{FF5C}>{S}<\u{FF5C}fim\u{2581}end\u{FF5C}>"
    );
    assert_eq!(text(&req.prompt), expected);
    assert!(!text(&req.prompt).contains('|'), "no ASCII bars");
    assert!(req.params.stop.is_empty());
    assert_eq!(req.params.max_tokens, Some(128));
}

#[test]
fn qwen_coder_has_nine_stops_including_a_blank_line() {
    let r = registry();
    let def = resolve(&r, ID, "qwen2p5-coder-7b");
    let req = def.render(&fim_inputs()).unwrap();
    assert_eq!(
        text(&req.prompt),
        format!("<|fim_prefix|>{P}<|fim_suffix|>{S}<|fim_middle|>")
    );
    assert_eq!(
        req.params.stop,
        stops(&[
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|fim_pad|>",
            "<|repo_name|>",
            "<|file_sep|>",
            "<|im_start|>",
            "<|im_end|>",
            "\n\n",
        ])
    );
    assert_eq!(
        (req.params.max_tokens, req.params.temperature),
        (Some(48), Some(0.95))
    );
}

#[test]
fn llama3_is_chat_with_a_code_placeholder() {
    let r = registry();
    let req = resolve(&r, ID, "llama3").render(&fim_inputs()).unwrap();
    let msgs = chat(&req.prompt);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].role, Role::System);
    assert_eq!(
        msgs[1].content,
        format!(
            "Below is a source file (`main.py`) with the cursor marked as |CODE|.\nThe file:\n{P}|CODE|{S}\n\nWrite only the code that replaces |CODE|. Output nothing else."
        )
    );
    assert_eq!(req.params.max_tokens, Some(64));
    assert!(req.params.stop.is_empty());
}

#[test]
fn gpt_is_chat_with_prefix_and_suffix_markers() {
    let r = registry();
    let req = resolve(&r, ID, "gpt").render(&fim_inputs()).unwrap();
    let msgs = chat(&req.prompt);
    assert_eq!(msgs[0].role, Role::System);
    assert!(
        msgs[0]
            .content
            .contains("Never output the <|prefix|> or <|suffix|> markers")
    );
    assert_eq!(
        msgs[1].content,
        format!(
            "----------------------------------------\nLanguage: python, file: main.py\n<|prefix|>{P}<|suffix|>{S}"
        )
    );
    assert_eq!(req.params.max_tokens, Some(64));
    assert_eq!(req.params.temperature, None);
}

#[test]
fn claude_general_and_unfoldered_known_families_use_base() {
    let r = registry();
    for family in ["claude_3", "general", "gemini", "qwen"] {
        let def = resolve(&r, ID, family);
        assert_eq!(def.family_folder(), "base", "{family}");
        let req = def.render(&fim_inputs()).unwrap();
        let msgs = chat(&req.prompt);
        assert_eq!(
            msgs[1].content,
            format!(
                "Complete the code at the cursor, which sits between <prefix> and <suffix>.\n<language>python</language>\n<file_name>main.py</file_name>\n<prefix>{P}</prefix>\n<suffix>{S}</suffix>\n\nReturn only the code to insert at the cursor, without tags, fences or explanations.\nIf the code is already complete, return an empty result."
            )
        );
        assert_eq!(req.params.max_tokens, Some(128));
    }
}

#[test]
fn context_items_go_before_the_prefix_as_comments_or_qwen_file_separators() {
    let r = registry();
    let mut with_ctx = fim_inputs();
    with_ctx.insert(
        "context".into(),
        serde_json::json!([{"type": "file", "name": "util.py", "content": "X = 1"}]),
    );
    let codestral = resolve(&r, ID, "codestral").render(&with_ctx).unwrap();
    assert_eq!(
        text(&codestral.prompt),
        format!("[SUFFIX]{S}[PREFIX]# file: util.py\nX = 1\n{P}")
    );
    let qwen = resolve(&r, ID, "qwen2p5-coder-7b")
        .render(&with_ctx)
        .unwrap();
    assert_eq!(
        text(&qwen.prompt),
        format!(
            "<|file_sep|>util.py\nX = 1\n<|file_sep|>main.py\n<|fim_prefix|>{P}<|fim_suffix|>{S}<|fim_middle|>"
        )
    );
    // Comment syntax follows the language.
    with_ctx.insert("language".into(), "rust".into());
    let gemma = resolve(&r, ID, "codegemma").render(&with_ctx).unwrap();
    assert!(text(&gemma.prompt).starts_with("<|fim_prefix|>// file: util.py\nX = 1\n"));
}

#[test]
fn missing_prefix_or_suffix_is_a_missing_variable_not_a_panic() {
    let r = registry();
    for family in ["codestral", "codegemma", "gpt", "general"] {
        let def = resolve(&r, ID, family);
        let err = def.render(&inputs(&[("prefix", "x".into())])).unwrap_err();
        assert_eq!(
            err,
            duo_prompts::RenderError::MissingVariable {
                name: "suffix".into()
            },
            "{family}"
        );
    }
}
