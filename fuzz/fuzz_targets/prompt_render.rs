//! Prompt rendering (`duo-prompts`) with arbitrary inputs: the code-suggestion inputs (prefix,
//! suffix, file name, language id, context items, instruction, family, budget) and arbitrary
//! template variables, into every built-in definition.
//!
//! Checks, where they hold by the functions' documentation: `trim_around_cursor` keeps the end of
//! the prefix and the start of the suffix within the budget (untouched when both fit);
//! `keep_start`/`keep_end` keep whole characters, as many as asked; the completion inputs'
//! prefix, suffix and context together fit the budget; rendering returns a request or a
//! `RenderError`, never a panic.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use duo_core::ModelFamily;
use duo_prompts::PromptRegistry;
use duo_prompts::code::{
    Budget, ContextItem, CurrentFile, completion_inputs, completion_inputs_with_budget,
    generation_inputs, keep_end, keep_start, language_from_file_name, trim_around_cursor,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

#[derive(Debug, Arbitrary)]
struct Input {
    family: Family,
    file_name: String,
    language_identifier: Option<String>,
    above: String,
    below: String,
    context: Vec<(String, String, String)>,
    instruction: Option<String>,
    total_chars: u16,
    suffix_percent: u8,
    prompt: u8,
    constraint: Option<String>,
    /// Extra template variables, replacing the computed ones of the same name.
    variables: Vec<(String, Variable)>,
}

#[derive(Debug, Arbitrary)]
enum Family {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Variable {
    Null,
    Bool(bool),
    Number(i64),
    Text(String),
    List(Vec<String>),
    Json(String),
}

impl Variable {
    fn value(self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(b),
            Self::Number(n) => Value::from(n),
            Self::Text(s) => Value::String(s),
            Self::List(items) => Value::from(items),
            Self::Json(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        }
    }
}

fn registry() -> &'static PromptRegistry {
    static REGISTRY: OnceLock<PromptRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| PromptRegistry::builtin().expect("the built-ins load"))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn check_trimming(above: &str, below: &str, budget: Budget) {
    let (prefix, suffix) = trim_around_cursor(above, below, budget);
    assert!(
        above.ends_with(prefix),
        "the prefix is the end of the code above"
    );
    assert!(
        below.starts_with(suffix),
        "the suffix is the start of the code below"
    );
    assert!(
        chars(prefix) + chars(suffix) <= budget.total_chars,
        "within the budget"
    );
    if chars(above) + chars(below) <= budget.total_chars {
        assert_eq!((prefix, suffix), (above, below), "what fits is kept whole");
    }
    let n = budget.total_chars % 64;
    assert_eq!(chars(keep_end(above, n)), chars(above).min(n));
    assert_eq!(chars(keep_start(below, n)), chars(below).min(n));
}

/// Characters of prefix, suffix and context contents in completion inputs.
fn used(inputs: &Map<String, Value>) -> usize {
    let text = |k: &str| inputs.get(k).and_then(Value::as_str).map_or(0, chars);
    let context: usize = inputs
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("content").and_then(Value::as_str))
        .map(chars)
        .sum();
    text("prefix") + text("suffix") + context
}

fuzz_target!(|input: Input| {
    let family = match &input.family {
        Family::Known(i) => ModelFamily::KNOWN[usize::from(*i) % ModelFamily::KNOWN.len()].clone(),
        Family::Other(key) => ModelFamily::parse(key),
    };
    let file = CurrentFile {
        file_name: input.file_name,
        language_identifier: input.language_identifier,
        content_above_cursor: input.above,
        content_below_cursor: input.below,
    };
    let context: Vec<ContextItem> = input
        .context
        .into_iter()
        .map(|(kind, name, content)| ContextItem {
            kind,
            name,
            content,
        })
        .collect();
    let budget = Budget {
        total_chars: usize::from(input.total_chars),
        suffix_percent: input.suffix_percent,
    };
    check_trimming(
        &file.content_above_cursor,
        &file.content_below_cursor,
        budget,
    );
    let _ = language_from_file_name(&file.file_name);
    if let Some(inputs) = completion_inputs_with_budget(budget, &file, &context) {
        assert!(
            used(&inputs) <= budget.total_chars,
            "completion inputs fit the budget"
        );
    }

    let mut inputs = match input.prompt % 3 {
        0 => completion_inputs(&family, &file, &context).unwrap_or_default(),
        1 => generation_inputs(&family, &file, input.instruction.as_deref(), &context),
        _ => Map::new(),
    };
    for (name, value) in input.variables {
        inputs.insert(name, value.value());
    }
    let ids = registry().prompt_ids();
    let id = ids[usize::from(input.prompt / 3) % ids.len()];
    let constraint = input.constraint.as_deref().unwrap_or("^1.0.0");
    if let Ok(definition) = registry().resolve(id, &family, constraint) {
        let _ = definition.render(&inputs);
    }
});
