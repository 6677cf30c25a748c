//! Code-suggestion inputs: the editor's file around the cursor and extra context items, trimmed
//! to a per-family budget and turned into the template variables of the
//! `code_suggestions/completions` and `code_suggestions/generations` definitions.
//!
//! Variables produced for completions: `prefix`, `suffix`, `file_name`, `language`, and
//! `context` (a list of `{type, name, content}` that fit the budget after prefix and suffix; each
//! family's template decides where they go — before the prefix in all built-ins).

mod language;
mod trim;

use duo_core::ModelFamily;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use language::language_from_file_name;
pub use trim::{Budget, keep_end, keep_start, trim_around_cursor};

use trim::char_count_upto;

/// The file being edited, as the code-suggestions API sends it (`current_file`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentFile {
    /// The file's name or path.
    pub file_name: String,
    /// The editor's language id (`python`, `typescriptreact` …), if sent.
    #[serde(default)]
    pub language_identifier: Option<String>,
    /// Everything before the cursor.
    #[serde(default)]
    pub content_above_cursor: String,
    /// Everything after the cursor.
    #[serde(default)]
    pub content_below_cursor: String,
}

impl CurrentFile {
    /// The file as the prompt inputs take it, from what a request sent: the name without
    /// surrounding whitespace, the language id trimmed and lower-cased (`None` when empty).
    #[must_use]
    pub fn normalized(
        file_name: String,
        language_identifier: Option<&str>,
        content_above_cursor: String,
        content_below_cursor: String,
    ) -> Self {
        let file_name = if file_name.trim().len() == file_name.len() {
            file_name // no allocation when there is nothing to trim
        } else {
            file_name.trim().to_owned()
        };
        Self {
            file_name,
            language_identifier: language_identifier
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_ascii_lowercase),
            content_above_cursor,
            content_below_cursor,
        }
    }
}

/// An extra context item (another open file, an import …) from the request's `context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextItem {
    /// Its type, e.g. `file` or `snippet` (`type` on the wire).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name, e.g. a file path.
    pub name: String,
    /// Its content.
    pub content: String,
}

/// The language of `file`: the editor's language id when given (lower-cased), else the name from
/// the file's extension. `None` when neither says.
#[must_use]
pub fn language_of(file: &CurrentFile) -> Option<String> {
    match file.language_identifier.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(id.to_lowercase()),
        _ => language_from_file_name(&file.file_name).map(str::to_owned),
    }
}

/// The character budget of code (prefix + suffix + context) for a family's completion prompt,
/// sized to its context window with room for instructions and the answer.
///
/// | family | budget (chars) | why |
/// |---|---|---|
/// | codegemma | 16 000 | 8 K-token context |
/// | codellama, deepseekcoder | 32 000 | 16 K-token context |
/// | every other | 32 000 | larger windows, but completion latency grows with the prompt |
#[must_use]
pub fn completion_budget(family: &ModelFamily) -> Budget {
    match family {
        ModelFamily::CodeGemma => Budget::chars(16_000),
        _ => Budget::chars(32_000),
    }
}

/// The variables of a `code_suggestions/completions` definition for `file`, trimmed to the
/// family's [`completion_budget`].
///
/// Returns `None` when no language can be determined (no language id, unknown extension): the
/// reference gateway then answers zero choices without calling the model, and so should the
/// caller.
#[must_use]
pub fn completion_inputs(
    family: &ModelFamily,
    file: &CurrentFile,
    context: &[ContextItem],
) -> Option<Map<String, Value>> {
    completion_inputs_with_budget(completion_budget(family), file, context)
}

/// [`completion_inputs`] with an explicit budget.
#[must_use]
pub fn completion_inputs_with_budget(
    budget: Budget,
    file: &CurrentFile,
    context: &[ContextItem],
) -> Option<Map<String, Value>> {
    let language = language_of(file)?;
    let (prefix, suffix) = trim_around_cursor(
        &file.content_above_cursor,
        &file.content_below_cursor,
        budget,
    );
    let used =
        char_count_upto(prefix, budget.total_chars) + char_count_upto(suffix, budget.total_chars);
    let mut inputs = Map::new();
    inputs.insert("prefix".into(), prefix.into());
    inputs.insert("suffix".into(), suffix.into());
    inputs.insert("file_name".into(), file.file_name.clone().into());
    inputs.insert("language".into(), language.into());
    inputs.insert(
        "context".into(),
        context_within(context, budget.total_chars.saturating_sub(used)),
    );
    Some(inputs)
}

/// The variables of a `code_suggestions/generations` definition: `prefix` and `suffix` (trimmed
/// as for completions, also as `trimmed_content_above_cursor` / `trimmed_content_below_cursor`),
/// `instruction` and `user_instruction` (the user's instruction, empty when none: the templates
/// then ask to follow the comment before the cursor), `language` (`null` when unknown —
/// generations are still served), `file_name` and `context`.
#[must_use]
pub fn generation_inputs(
    family: &ModelFamily,
    file: &CurrentFile,
    instruction: Option<&str>,
    context: &[ContextItem],
) -> Map<String, Value> {
    let budget = completion_budget(family);
    let (prefix, suffix) = trim_around_cursor(
        &file.content_above_cursor,
        &file.content_below_cursor,
        budget,
    );
    let used =
        char_count_upto(prefix, budget.total_chars) + char_count_upto(suffix, budget.total_chars);
    let instruction = instruction.map(str::trim).unwrap_or_default();
    let mut inputs = Map::new();
    inputs.insert("prefix".into(), prefix.into());
    inputs.insert("suffix".into(), suffix.into());
    inputs.insert("trimmed_content_above_cursor".into(), prefix.into());
    inputs.insert("trimmed_content_below_cursor".into(), suffix.into());
    inputs.insert("instruction".into(), instruction.into());
    inputs.insert("user_instruction".into(), instruction.into());
    inputs.insert(
        "language".into(),
        language_of(file).map_or(Value::Null, Value::String),
    );
    inputs.insert("file_name".into(), file.file_name.clone().into());
    inputs.insert(
        "context".into(),
        context_within(context, budget.total_chars.saturating_sub(used)),
    );
    inputs
}

/// The context items that fit `remaining` characters, in order; the first that does not fit is
/// cut (keeping its start) and the rest dropped. Empty items are skipped.
fn context_within(items: &[ContextItem], mut remaining: usize) -> Value {
    let mut out = Vec::new();
    for item in items {
        if remaining == 0 {
            break;
        }
        if item.content.is_empty() {
            continue;
        }
        let content = keep_start(&item.content, remaining);
        remaining -= char_count_upto(content, remaining);
        let mut obj = Map::new();
        obj.insert("type".into(), item.kind.clone().into());
        obj.insert("name".into(), item.name.clone().into());
        obj.insert("content".into(), content.into());
        out.push(Value::Object(obj));
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_trims_the_name_and_lower_cases_the_language() {
        let f = CurrentFile::normalized(
            " src/main.py\n".into(),
            Some(" Python "),
            "a".into(),
            "b".into(),
        );
        assert_eq!(f.file_name, "src/main.py");
        assert_eq!(f.language_identifier.as_deref(), Some("python"));
        assert_eq!(
            (
                f.content_above_cursor.as_str(),
                f.content_below_cursor.as_str()
            ),
            ("a", "b")
        );
        let blank =
            CurrentFile::normalized("x.rs".into(), Some("  "), String::new(), String::new());
        assert_eq!(blank.language_identifier, None);
    }

    fn file(above: &str, below: &str) -> CurrentFile {
        CurrentFile {
            file_name: "src/main.py".into(),
            language_identifier: None,
            content_above_cursor: above.into(),
            content_below_cursor: below.into(),
        }
    }

    #[test]
    fn language_prefers_the_editor_id() {
        let mut f = file("", "");
        assert_eq!(language_of(&f).as_deref(), Some("python"));
        f.language_identifier = Some(" TypeScriptReact ".into());
        assert_eq!(language_of(&f).as_deref(), Some("typescriptreact"));
        f.language_identifier = Some(String::new());
        f.file_name = "notes".into();
        assert_eq!(language_of(&f), None);
        assert!(completion_inputs(&ModelFamily::Codestral, &f, &[]).is_none());
        let g = generation_inputs(&ModelFamily::Codestral, &f, Some(" do it "), &[]);
        assert_eq!(g["language"], Value::Null);
        assert_eq!(g["instruction"], "do it");
    }

    #[test]
    fn context_fills_only_what_prefix_and_suffix_leave() {
        let items = [
            ContextItem {
                kind: "file".into(),
                name: "a.py".into(),
                content: "A".repeat(6),
            },
            ContextItem {
                kind: "file".into(),
                name: "empty.py".into(),
                content: String::new(),
            },
            ContextItem {
                kind: "file".into(),
                name: "b.py".into(),
                content: "B".repeat(6),
            },
            ContextItem {
                kind: "file".into(),
                name: "c.py".into(),
                content: "C".repeat(6),
            },
        ];
        let inputs = completion_inputs_with_budget(
            Budget::chars(18),
            &file("p".repeat(5).as_str(), "ss"),
            &items,
        )
        .unwrap();
        let ctx = inputs["context"].as_array().unwrap();
        assert_eq!(ctx.len(), 2);
        assert_eq!(ctx[0]["content"], "AAAAAA");
        assert_eq!(ctx[1]["name"], "b.py");
        assert_eq!(ctx[1]["content"], "BBBBB");
        assert_eq!(inputs["prefix"], "ppppp");
        assert_eq!(inputs["suffix"], "ss");
        assert_eq!(inputs["language"], "python");
        assert_eq!(inputs["file_name"], "src/main.py");
    }
}
