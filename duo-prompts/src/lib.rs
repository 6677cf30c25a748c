//! # duo-prompts
//!
//! How to ask each model family for each Duo feature: prompt definitions (YAML files with Jinja
//! templates, FIM tokens, stop sequences, default parameters), built in and operator-supplied,
//! resolved by prompt id, model family and version constraint, and rendered into
//! [`duo_core::ModelRequest`]s.
//!
//! - [`PromptRegistry`]: loads the embedded built-ins plus an optional operator directory once
//!   (every template compiled and validated at load), resolves definitions with the reference's
//!   family → `base` fallback and semver constraints, and lists them.
//! - [`PromptDefinition`]: parameters (`stop`, `max_tokens`, `temperature`, `top_p`, `timeout`),
//!   unit primitive, and [`render`](PromptDefinition::render) into chat turns or raw text.
//! - [`code`]: the code-suggestion inputs (prefix / suffix trimmed around the cursor to a family
//!   budget, context items, language from the file name).
//!
//! The definition format, the family table and the operator override rules are in the crate's
//! README.

mod definition;
mod error;
mod file_format;
mod loader;
mod registry;
mod scan;
mod source;

pub mod code;

pub use definition::{DefinitionInfo, DefinitionSource, PromptDefinition, PromptKind};
pub use error::{LoadError, LoadErrorKind, RenderError, ResolveError};
pub use registry::{BASE_FOLDER, DEFAULT_VERSION_CONSTRAINT, PromptRegistry, is_valid_prompt_id};
