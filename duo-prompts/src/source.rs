//! Collecting definition files: the embedded built-ins and an operator directory, keyed by their
//! path under the definitions root (an operator file replaces the built-in at the same path).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::definition::DefinitionSource;
use crate::error::{LoadError, LoadErrorKind};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));
}

/// One file of the definition tree.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// Path under the definitions root, `/`-separated, e.g. `chat/explain_code/base/1.0.0.yml`.
    pub rel_path: String,
    /// How errors name it: `builtin:<rel_path>` or the operator file's full path.
    pub display: String,
    /// The contents.
    pub text: Cow<'static, str>,
    /// Built in or operator-supplied.
    pub origin: DefinitionSource,
}

impl SourceFile {
    /// Whether this is a shared Jinja partial (else a YAML definition).
    pub fn is_partial(&self) -> bool {
        self.rel_path.ends_with(".jinja")
    }
}

/// The tree: relative path → file, operator files replacing built-ins at the same path.
pub(crate) type Tree = BTreeMap<String, SourceFile>;

/// The embedded built-in files.
pub(crate) fn builtin_tree() -> Tree {
    embedded::BUILTIN_FILES
        .iter()
        .map(|(rel, text)| {
            let file = SourceFile {
                rel_path: (*rel).to_owned(),
                display: format!("builtin:{rel}"),
                text: Cow::Borrowed(*text),
                origin: DefinitionSource::Builtin,
            };
            ((*rel).to_owned(), file)
        })
        .collect()
}

/// Adds every `.yml`, `.yaml` and `.jinja` file under `dir` (recursively, hidden entries skipped)
/// to `tree`, replacing files at the same relative path.
pub(crate) fn add_operator_dir(tree: &mut Tree, dir: &Path) -> Result<(), LoadError> {
    let meta = fs::metadata(dir).map_err(|e| io_error(dir, &e))?;
    if !meta.is_dir() {
        return Err(LoadError::new(
            dir.display().to_string(),
            None,
            LoadErrorKind::Io("not a directory".into()),
        ));
    }
    walk(tree, dir, dir)
}

fn walk(tree: &mut Tree, root: &Path, dir: &Path) -> Result<(), LoadError> {
    let entries = fs::read_dir(dir).map_err(|e| io_error(dir, &e))?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| io_error(dir, &e))?.path());
    }
    paths.sort();
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(tree, root, &path)?;
            continue;
        }
        if !(name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".jinja")) {
            continue;
        }
        let rel = relative(root, &path)?;
        let text = fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
        let file = SourceFile {
            rel_path: rel.clone(),
            display: path.display().to_string(),
            text: Cow::Owned(text),
            origin: DefinitionSource::Operator,
        };
        tree.insert(rel, file);
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> Result<String, LoadError> {
    let rel = path.strip_prefix(root).map_err(|_| {
        LoadError::new(
            path.display().to_string(),
            None,
            LoadErrorKind::BadPath("outside the operator directory".into()),
        )
    })?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c.as_os_str().to_str() {
            Some(s) => parts.push(s),
            None => {
                return Err(LoadError::new(
                    path.display().to_string(),
                    None,
                    LoadErrorKind::BadPath("path is not valid UTF-8".into()),
                ));
            }
        }
    }
    Ok(parts.join("/"))
}

fn io_error(path: &Path, err: &std::io::Error) -> LoadError {
    LoadError::new(
        path.display().to_string(),
        None,
        LoadErrorKind::Io(err.to_string()),
    )
}
