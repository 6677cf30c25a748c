//! Render GitLab Duo prompts for every model family duo knows, with `duo-prompts` alone: the
//! code completion prompt (`code_suggestions/completions`) and one chat prompt
//! (`chat/explain_code`), and print which definition folder each family gets and what the
//! rendered prompt looks like (chat turns with their roles, or one raw text).
//!
//! ```sh
//! cargo run -p duo-examples --example prompts_every_family
//! ```
//!
//! Nothing is sent anywhere: no model and no stand-in server, only the built-in definitions
//! (`PromptRegistry::builtin()`), `resolve` (the family's folders, then `base`), the code-context
//! inputs (`code::completion_inputs`) and `render`.

use duo_core::{ModelFamily, ModelRequest, Prompt};
use duo_prompts::code::{self, ContextItem, CurrentFile};
use duo_prompts::{DEFAULT_VERSION_CONSTRAINT, PromptDefinition, PromptRegistry};
use serde_json::{Map, Value, json};

/// How many characters of each turn or text are shown.
const PREVIEW_CHARS: usize = 60;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    println!("rendering only: no model is called and no server is started\n");
    let registry = PromptRegistry::builtin()?;

    // What the editor sends for a completion: the file around the cursor, and an open file.
    let file = CurrentFile {
        file_name: "main.py".into(),
        language_identifier: None, // the language comes from the extension: python
        content_above_cursor: "from util import clamp\n\ndef add(a, b):\n    ".into(),
        content_below_cursor: "\n\nprint(add(1, 2))\n".into(),
    };
    let context = [ContextItem {
        kind: "file".into(),
        name: "util.py".into(),
        content: "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n".into(),
    }];
    // What Duo Chat's /explain sends.
    let explain: Map<String, Value> = json!({
        "selected_text": "def f(x): return x*2",
        "file_content": "",
        "language_info": "The code is written in Python.",
        "input": "Explain this code",
    })
    .as_object()
    .cloned()
    .unwrap_or_default();

    for family in ModelFamily::KNOWN {
        println!("== {family}");
        let Some(inputs) = code::completion_inputs(family, &file, &context) else {
            println!("  no language for {}: no completion prompt", file.file_name);
            continue;
        };
        let def = registry.resolve(
            "code_suggestions/completions",
            family,
            DEFAULT_VERSION_CONSTRAINT,
        )?;
        show(def, &def.render(&inputs)?);
        let def = registry.resolve("chat/explain_code", family, DEFAULT_VERSION_CONSTRAINT)?;
        show(def, &def.render(&explain)?);
        println!();
    }
    println!(
        "{} families, 2 prompts each: rendered locally",
        ModelFamily::KNOWN.len()
    );
    Ok(())
}

/// Prints the definition used and the shape of the prompt it rendered.
fn show(def: &PromptDefinition, request: &ModelRequest) {
    let params = &request.params;
    println!(
        "  {} from folder `{}` ({}, {}): temperature {}, max_tokens {}, {} stop sequence(s)",
        def.prompt_id(),
        def.family_folder(),
        def.version(),
        def.kind().as_str(),
        params
            .temperature
            .map_or_else(|| "default".to_owned(), |t| t.to_string()),
        params
            .max_tokens
            .map_or_else(|| "default".to_owned(), |t| t.to_string()),
        params.stop.len(),
    );
    match &request.prompt {
        Prompt::Chat(messages) => {
            println!("    chat, {} message(s):", messages.len());
            for m in messages {
                println!(
                    "      {:<9} {:>5} chars  {}",
                    m.role.as_str(),
                    m.content.chars().count(),
                    preview(&m.content)
                );
            }
        }
        Prompt::Text(text) => {
            println!(
                "    text, {} chars: {}",
                text.chars().count(),
                preview(text)
            );
        }
        Prompt::FillInTheMiddle { prefix, suffix } => {
            println!(
                "    fill-in-the-middle: prefix {}, suffix {}",
                preview(prefix),
                preview(suffix)
            );
        }
        other => println!("    {other:?}"),
    }
}

/// The first characters of `s`, quoted with newlines escaped, `…` when cut.
fn preview(s: &str) -> String {
    let head: String = s.chars().take(PREVIEW_CHARS).collect();
    let cut = if head.len() < s.len() { "…" } else { "" };
    format!("{head:?}{cut}")
}
