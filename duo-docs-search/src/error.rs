//! What can go wrong opening, querying and building an index, each naming the file.

use std::path::PathBuf;

/// Why an index could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file does not exist.
    #[error("no such file")]
    Missing,
    /// The file is of another layout version.
    #[error("user_version is {found}, this gateway reads {expected}")]
    Version {
        /// The file's `PRAGMA user_version`.
        found: i64,
        /// The version this crate reads.
        expected: i64,
    },
    /// The file has no usable `doc_index` table.
    #[error("{0}")]
    Schema(String),
    /// SQLite refused the file (not a database, unreadable, corrupt).
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The connection pool could not be built.
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// No connection became free in time.
    #[error("no index connection free: {0}")]
    Busy(#[from] r2d2::Error),
    /// SQLite failed the query.
    #[error("index query: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking task was cancelled or panicked.
    #[error("index query task: {0}")]
    Task(String),
}

/// Why an index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source is not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    /// The output exists and overwriting was not asked for.
    #[error("{0} exists (pass --force to replace it)")]
    Exists(PathBuf),
    /// No Markdown file was found.
    #[error("{0}: no Markdown (.md) files")]
    NoDocuments(PathBuf),
    /// Reading a file or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not UTF-8 text.
    #[error("{0}: not UTF-8 text")]
    NotText(PathBuf),
    /// SQLite failed writing the index.
    #[error("{path}: {source}")]
    Sqlite {
        /// The output file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}
