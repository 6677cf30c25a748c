//! [`IndexBuilder`]: a GitLab checkout's `doc/` directory into an index GitLab's gateway reads.
//!
//! Every `*.md` file under the directory becomes one row, in file-name order: the Markdown as
//! Python reads a text file (line endings as `\n`), its [`processed`](text::processed_text) text,
//! and `{"filename": "/<path under doc/>"}`. The table is written into a temporary file beside the
//! output in one transaction, merged into one segment (FTS5's `optimize`, which GitLab's indexer
//! skips; the layout is the same), and only then renamed into place: a failed build leaves any
//! earlier index untouched.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::BuildError;
use crate::{schema, text};

/// What a build reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// The Markdown files were found; this many will be read.
    Found(usize),
    /// One file was indexed.
    Indexed {
        /// Its path.
        path: &'a Path,
        /// Its size in bytes.
        bytes: u64,
    },
    /// One file was skipped because it is not UTF-8 text.
    Skipped(&'a Path),
    /// Every row is written; the index is being merged and renamed into place.
    Finishing,
}

/// What a finished build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSummary {
    /// The index written.
    pub output: PathBuf,
    /// Files indexed.
    pub files: usize,
    /// Bytes of Markdown indexed.
    pub bytes: u64,
    /// Files skipped (not UTF-8 text).
    pub skipped: Vec<PathBuf>,
    /// Wall time of the whole build.
    pub elapsed: Duration,
}

/// Builds an index from a directory of Markdown files.
#[derive(Debug, Clone)]
pub struct IndexBuilder {
    source: PathBuf,
    output: PathBuf,
    overwrite: bool,
}

impl IndexBuilder {
    /// A build of the Markdown under `source` (a checkout's `doc/`) into `output`.
    #[must_use]
    pub fn new(source: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        Self {
            source: source.into(),
            output: output.into(),
            overwrite: false,
        }
    }

    /// Whether an existing `output` is replaced (off: the build refuses to start).
    #[must_use]
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Runs the build, calling `progress` as it goes.
    ///
    /// # Errors
    /// [`BuildError::Exists`] when `output` exists and overwriting is off;
    /// [`BuildError::NotADirectory`] or [`BuildError::NoDocuments`] for an unusable source;
    /// [`BuildError::Io`] or [`BuildError::Sqlite`] naming the file that failed.
    pub fn build(
        &self,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<BuildSummary, BuildError> {
        let started = Instant::now();
        if !self.overwrite && self.output.exists() {
            return Err(BuildError::Exists(self.output.clone()));
        }
        let files = markdown_files(&self.source)?;
        progress(Progress::Found(files.len()));
        let dir = match self.output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let staging = tempfile::Builder::new()
            .prefix(".docs-index-")
            .suffix(".db")
            .tempfile_in(&dir)
            .map_err(|source| BuildError::Io {
                path: dir.clone(),
                source,
            })?;
        let sqlite = |source| BuildError::Sqlite {
            path: self.output.clone(),
            source,
        };
        let mut conn = Connection::open(staging.path()).map_err(sqlite)?;
        let tx = conn.transaction().map_err(sqlite)?;
        tx.execute_batch(schema::CREATE_TABLE).map_err(sqlite)?;
        tx.pragma_update(None, "user_version", schema::USER_VERSION)
            .map_err(sqlite)?;
        let (mut indexed, mut bytes, mut skipped) = (0, 0, Vec::new());
        {
            let mut insert = tx.prepare(schema::INSERT_ROW).map_err(sqlite)?;
            for (path, name) in &files {
                let raw = std::fs::read(path).map_err(|source| BuildError::Io {
                    path: path.clone(),
                    source,
                })?;
                let Ok(markdown) = String::from_utf8(raw) else {
                    progress(Progress::Skipped(path));
                    skipped.push(path.clone());
                    continue;
                };
                let content = universal_newlines(markdown);
                let metadata = format!(
                    "{{\"filename\": {}}}",
                    serde_json::Value::String(name.clone())
                );
                insert
                    .execute(rusqlite::params![
                        text::processed_text(&content),
                        content,
                        metadata
                    ])
                    .map_err(sqlite)?;
                let size = content.len() as u64;
                indexed += 1;
                bytes += size;
                progress(Progress::Indexed { path, bytes: size });
            }
        }
        progress(Progress::Finishing);
        tx.execute_batch("INSERT INTO doc_index(doc_index) VALUES('optimize')")
            .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        conn.close().map_err(|(_, e)| sqlite(e))?;
        let persisted = if self.overwrite {
            staging.persist(&self.output)
        } else {
            staging.persist_noclobber(&self.output)
        };
        persisted.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                BuildError::Exists(self.output.clone())
            } else {
                BuildError::Io {
                    path: self.output.clone(),
                    source: e.error,
                }
            }
        })?;
        Ok(BuildSummary {
            output: self.output.clone(),
            files: indexed,
            bytes,
            skipped,
            elapsed: started.elapsed(),
        })
    }
}

/// Every `*.md` file under `source` with its `filename` (`/` and the path under `source`, with
/// `/` separators), sorted by that name. Symbolic links are not followed.
fn markdown_files(source: &Path) -> Result<Vec<(PathBuf, String)>, BuildError> {
    if !source.is_dir() {
        return Err(BuildError::NotADirectory(source.to_owned()));
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(source).sort_by_file_name() {
        let entry = entry.map_err(|e| BuildError::Io {
            path: e.path().map_or_else(|| source.to_owned(), Path::to_owned),
            source: e.into(),
        })?;
        let is_markdown = entry.path().extension().is_some_and(|x| x == "md");
        if !entry.file_type().is_file() || !is_markdown {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(source) else {
            continue;
        };
        let name: String = relative
            .components()
            .map(|c| format!("/{}", c.as_os_str().to_string_lossy()))
            .collect();
        files.push((entry.into_path(), name));
    }
    if files.is_empty() {
        return Err(BuildError::NoDocuments(source.to_owned()));
    }
    Ok(files)
}

/// Line endings as Python's text mode reads them: `\r\n` and a lone `\r` become `\n`.
fn universal_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}
