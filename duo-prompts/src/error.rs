//! The errors of loading ([`LoadError`]), resolving ([`ResolveError`]) and rendering
//! ([`RenderError`]) prompt definitions.

use std::fmt;

/// A definition tree that cannot be loaded: names the file and, where known, the line.
///
/// Displayed as `<file>:<line>: <what>` (or `<file>: <what>` when no line is known), so an
/// operator can jump to the mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file at fault: `builtin:<path>` for an embedded file, else the operator file's path.
    pub file: String,
    /// The 1-based line in that file, when the parser or template engine gave one.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: LoadErrorKind,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.kind),
            None => write!(f, "{}: {}", self.file, self.kind),
        }
    }
}

impl LoadError {
    pub(crate) fn new(file: impl Into<String>, line: Option<usize>, kind: LoadErrorKind) -> Self {
        Self {
            file: file.into(),
            line,
            kind,
        }
    }
}

/// What is wrong with a definition file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The operator directory or a file in it could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// The file is not valid YAML, or does not fit the definition schema (unknown or missing keys).
    #[error("invalid definition: {0}")]
    Yaml(String),
    /// A Jinja template does not compile.
    #[error("template syntax error in {template}: {message}")]
    TemplateSyntax {
        /// Which template: `system`, `user`, `assistant`, or a partial's path.
        template: String,
        /// The template engine's message.
        message: String,
    },
    /// A template includes a partial that does not exist.
    #[error("unknown include '{name}'")]
    UnknownInclude {
        /// The name given to `{% include %}`.
        name: String,
    },
    /// `unit_primitive` names no known unit primitive.
    #[error("unknown unit primitive '{value}'")]
    UnknownUnitPrimitive {
        /// The value as written.
        value: String,
    },
    /// The file's path does not fit `<prompt_id>/<family or base>/<semver>.yml`.
    #[error("bad definition path: {0}")]
    BadPath(String),
    /// The definition is well-formed YAML but inconsistent (e.g. a text prompt with a system turn).
    #[error("{0}")]
    Invalid(String),
}

/// Why no definition answers a (prompt id, family, version constraint) query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No definition has this prompt id (also for ids that are not well-formed paths).
    /// The gateway answers 404 `Prompt '<id>' not found`.
    #[error("Prompt '{prompt_id}' not found")]
    NotFound {
        /// The id as asked.
        prompt_id: String,
    },
    /// The version constraint does not parse. The gateway answers 422.
    #[error("Invalid version constraint '{constraint}': {message}")]
    InvalidConstraint {
        /// The constraint as given.
        constraint: String,
        /// The parser's message.
        message: String,
    },
    /// The prompt exists for the family (or `base`) but no version matches. The gateway answers 400.
    #[error(
        "No prompt version found matching the query '{constraint}' for '{prompt_id}' (available: {available})"
    )]
    NoMatchingVersion {
        /// The prompt id.
        prompt_id: String,
        /// The family folder that was searched.
        family_folder: String,
        /// The constraint as given.
        constraint: String,
        /// The versions that exist, comma-separated.
        available: String,
    },
    /// An unknown model family with no definitions of its own: it must not silently get `base`.
    /// The gateway answers 422.
    #[error("Model family '{family}' is not supported")]
    UnsupportedFamily {
        /// The family key.
        family: String,
    },
}

/// Why a definition could not be rendered with the given inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A variable the template needs was not given. The gateway answers 422.
    #[error("missing template variable '{name}'")]
    MissingVariable {
        /// The variable's name.
        name: String,
    },
    /// An input has the wrong shape (e.g. a chat history entry without a role).
    #[error("invalid input '{name}': {message}")]
    InvalidInput {
        /// The input's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The template failed at render time for another reason (e.g. a filter applied to the wrong
    /// type of input).
    #[error("cannot render template {template}: {message}")]
    Template {
        /// Which template.
        template: String,
        /// The template engine's message.
        message: String,
    },
}
