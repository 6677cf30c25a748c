//! Length limits of the string fields of every request body, in one table.
//!
//! Every JSON body is checked here before it is turned into a wire struct ([`check_body`], called
//! by the gateway's GitLab routes and the OpenAI-compatible API's parser), so a 1 MB `api_key`
//! is a 422 naming the field, not an upstream failure. A field is matched by the end of its key
//! path (array indices ignored): `model_metadata.name` before `name`. Strings of fields the table
//! does not list are content (code, prompts, messages, template inputs) and bounded only by
//! `fastapi.body_limit_bytes`; so is everything under a [free-form](FREE_FORM) key. Route modules
//! keep the reference's own, stricter limits (`content_above_cursor` ≤ 100 000 characters, …).

use std::fmt;

use serde_json::Value;

/// What a string field holds; each kind has one limit, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A model server's API key.
    Secret,
    /// A model server's URL.
    Url,
    /// A file name or path, a title, a reference.
    Name,
    /// A short label: a model identifier, a type, a version, a stop sequence.
    Label,
    /// A name the gateway looks up: a model family, provider, prompt, tool, role.
    Identifier,
}

impl FieldKind {
    /// The most bytes a field of this kind may have.
    #[must_use]
    pub const fn max_bytes(self) -> usize {
        match self {
            Self::Secret => 8 * 1024,
            Self::Url => 2 * 1024,
            Self::Name => 4 * 1024,
            Self::Label => 1024,
            Self::Identifier => 256,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Secret => "an API key",
            Self::Url => "a URL",
            Self::Name => "a name or path",
            Self::Label => "a label",
            Self::Identifier => "an identifier",
        }
    }
}

/// Every limited field, by the end of its key path; the first match wins.
pub const FIELDS: &[(&str, FieldKind)] = &[
    ("api_key", FieldKind::Secret),
    ("model_api_key", FieldKind::Secret),
    ("endpoint", FieldKind::Url),
    ("model_endpoint", FieldKind::Url),
    ("identifier", FieldKind::Label),
    ("model_identifier", FieldKind::Label),
    ("model_metadata.name", FieldKind::Identifier),
    ("model_name", FieldKind::Identifier),
    ("model_provider", FieldKind::Identifier),
    ("provider", FieldKind::Identifier),
    ("model", FieldKind::Identifier),
    ("prompt_id", FieldKind::Identifier),
    ("prompt_version", FieldKind::Identifier),
    ("language_identifier", FieldKind::Identifier),
    ("role", FieldKind::Identifier),
    ("agent_type", FieldKind::Identifier),
    ("tool", FieldKind::Identifier),
    ("category", FieldKind::Identifier),
    ("type", FieldKind::Label),
    ("source", FieldKind::Label),
    ("version", FieldKind::Label),
    ("stop", FieldKind::Label),
    ("stop_sequences", FieldKind::Label),
    ("unavailable_resources", FieldKind::Label),
    ("file_name", FieldKind::Name),
    ("file_path", FieldKind::Name),
    ("project_path", FieldKind::Name),
    ("name", FieldKind::Name),
    ("id", FieldKind::Name),
    ("title", FieldKind::Name),
    ("role_arn", FieldKind::Name),
];

/// Keys whose whole value is free-form content (template inputs, extra variables, client
/// metadata): nothing under them is matched against [`FIELDS`].
pub const FREE_FORM: &[&str] = &[
    "inputs",
    "prompt_enhancer",
    "additional_context.metadata",
    "telemetry",
];

/// A field over its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    /// Where, e.g. `model_metadata.api_key` or `messages[0].role`.
    pub field: String,
    /// Its kind.
    pub kind: FieldKind,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: must be at most {} bytes ({})",
            self.field,
            self.kind.max_bytes(),
            self.kind.noun()
        )
    }
}

impl std::error::Error for TooLong {}

/// Checks every string of `body` against [`FIELDS`].
///
/// # Errors
/// The first field over its limit.
pub fn check_body(body: &Value) -> Result<(), TooLong> {
    let mut path = Vec::new();
    walk(body, &mut path)
}

/// Checks one value the request carries outside its body (a path parameter) as field `name`.
///
/// # Errors
/// When it is over its limit.
pub fn check_field(name: &str, value: &str) -> Result<(), TooLong> {
    match kind_of(&[Segment::Key(name)]) {
        Some(kind) if value.len() > kind.max_bytes() => Err(TooLong {
            field: name.to_owned(),
            kind,
        }),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn walk<'a>(value: &'a Value, path: &mut Vec<Segment<'a>>) -> Result<(), TooLong> {
    match value {
        Value::String(s) => match kind_of(path) {
            Some(kind) if s.len() > kind.max_bytes() => Err(TooLong {
                field: render(path),
                kind,
            }),
            _ => Ok(()),
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                let checked = walk(item, path);
                path.pop();
                checked?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Segment::Key(key));
                let checked = if ends_with_any(path, FREE_FORM) {
                    Ok(())
                } else {
                    walk(item, path)
                };
                path.pop();
                checked?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn kind_of(path: &[Segment<'_>]) -> Option<FieldKind> {
    FIELDS
        .iter()
        .find(|(pattern, _)| ends_with(path, pattern))
        .map(|(_, kind)| *kind)
}

fn ends_with_any(path: &[Segment<'_>], patterns: &[&str]) -> bool {
    patterns.iter().any(|p| ends_with(path, p))
}

/// Whether the keys of `path` (indices skipped) end with the dotted `pattern`.
fn ends_with(path: &[Segment<'_>], pattern: &str) -> bool {
    let mut keys = path.iter().rev().filter_map(|s| match s {
        Segment::Key(k) => Some(*k),
        Segment::Index(_) => None,
    });
    pattern.rsplit('.').all(|want| keys.next() == Some(want))
}

/// `a.b[0].c`, as serde_path_to_error writes paths.
fn render(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: &Value) -> String {
        check_body(body).unwrap_err().to_string()
    }

    #[test]
    fn fields_are_limited_by_kind_and_named_with_their_path() {
        let key = "k".repeat(8 * 1024 + 1);
        assert_eq!(
            err(&json!({"model_metadata": {"api_key": key}})),
            "model_metadata.api_key: must be at most 8192 bytes (an API key)"
        );
        assert!(check_body(&json!({"model_metadata": {"api_key": "k".repeat(8192)}})).is_ok());
        assert_eq!(
            err(&json!({"messages": [{"role": "user"}, {"role": "r".repeat(257)}]})),
            "messages[1].role: must be at most 256 bytes (an identifier)"
        );
        assert_eq!(
            err(&json!({"stop": ["ok", "s".repeat(1025)]})),
            "stop[1]: must be at most 1024 bytes (a label)"
        );
        assert_eq!(
            err(&json!({"model_endpoint": format!("http://h/{}", "p".repeat(2048))})),
            "model_endpoint: must be at most 2048 bytes (a URL)"
        );
    }

    #[test]
    fn the_most_specific_pattern_wins() {
        let long_name = "n".repeat(300);
        assert!(err(&json!({"model_metadata": {"name": long_name}})).contains("256 bytes"));
        assert!(check_body(&json!({"context": [{"name": long_name}]})).is_ok());
    }

    #[test]
    fn content_and_free_form_values_are_bounded_only_by_the_body_limit() {
        let big = "x".repeat(100_000);
        assert!(
            check_body(&json!({
                "current_file": {"content_above_cursor": big},
                "inputs": {"name": big, "api_key": big},
                "prompt_enhancer": {"type": big},
                "messages": [{"role": "user", "content": big}],
                "additional_context": [{"metadata": {"title": big}, "content": big}],
            }))
            .is_ok()
        );
        assert!(
            err(&json!({"additional_context": [{"id": big}]})).contains("additional_context[0].id")
        );
    }

    #[test]
    fn path_parameters_use_the_same_table() {
        assert!(check_field("prompt_id", "chat/explain_code").is_ok());
        assert_eq!(
            check_field("prompt_id", &"p".repeat(257))
                .unwrap_err()
                .to_string(),
            "prompt_id: must be at most 256 bytes (an identifier)"
        );
    }
}
