//! Helpers shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use duo_core::{Message, ModelFamily, Prompt};
use duo_prompts::{PromptDefinition, PromptRegistry};
use serde_json::{Map, Value};

pub fn registry() -> PromptRegistry {
    PromptRegistry::builtin().unwrap_or_else(|e| panic!("built-ins must load: {e}"))
}

pub fn inputs(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The fixed completion input of the golden tests.
pub fn fim_inputs() -> Map<String, Value> {
    inputs(&[
        ("prefix", "def add(a, b):\n    ".into()),
        ("suffix", "\n\nprint(add(1, 2))\n".into()),
        ("language", "python".into()),
        ("file_name", "main.py".into()),
        ("context", Value::Array(vec![])),
    ])
}

pub fn resolve<'r>(r: &'r PromptRegistry, id: &str, family: &str) -> &'r PromptDefinition {
    r.resolve(id, &ModelFamily::parse(family), "^1.0.0")
        .unwrap_or_else(|e| panic!("{id} for {family}: {e}"))
}

pub fn text(prompt: &Prompt) -> &str {
    match prompt {
        Prompt::Text(t) => t,
        other => panic!("expected raw text, got {other:?}"),
    }
}

pub fn chat(prompt: &Prompt) -> &[Message] {
    match prompt {
        Prompt::Chat(m) => m,
        other => panic!("expected chat, got {other:?}"),
    }
}
