//! [`DocsIndex`]: an opened index, queried from a small pool of read-only connections on tokio's
//! blocking threads (SQLite calls block).

use std::path::{Path, PathBuf};
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};

use crate::error::{OpenError, SearchError};
use crate::{schema, text};

/// How many estimated tokens of documents one search answers at most, as GitLab's gateway cuts
/// them (words × 1.4, see [`text::estimated_tokens`]).
pub const TOKEN_BUDGET: usize = 8_000;

/// How long a search waits for a free connection before it fails.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// One document found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchResult {
    /// The file name under `doc/`, e.g. `/user/project/index.md` (the metadata's `filename`).
    pub id: String,
    /// The file's Markdown, as it was indexed.
    pub content: String,
    /// The row's metadata object, `{"filename": …}` and whatever else the builder stored.
    pub metadata: Map<String, Value>,
}

/// An opened documentation index.
#[derive(Clone)]
pub struct DocsIndex {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
    documents: u64,
    token_budget: usize,
}

impl std::fmt::Debug for DocsIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocsIndex")
            .field("path", &self.path)
            .field("documents", &self.documents)
            .finish_non_exhaustive()
    }
}

/// Read-only, no shared mutex (each connection is used by one thread at a time), no URI parsing
/// of the path.
fn flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

impl DocsIndex {
    /// Opens the index at `path` read-only with `connections` pooled connections (at least one),
    /// after checking its layout.
    ///
    /// # Errors
    /// [`OpenError::Missing`] when there is no such file; [`OpenError::Version`] or
    /// [`OpenError::Schema`] for a file in another layout; [`OpenError::Sqlite`] for a file that
    /// is not a readable SQLite database.
    pub fn open(path: &Path, connections: u32) -> Result<Self, OpenError> {
        if !path.is_file() {
            return Err(OpenError::Missing);
        }
        let documents = schema::check(&Connection::open_with_flags(path, flags())?)?;
        let manager = SqliteConnectionManager::file(path).with_flags(flags());
        let pool = Pool::builder()
            .max_size(connections.max(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Self {
            pool,
            path: path.to_owned(),
            documents,
            token_budget: TOKEN_BUDGET,
        })
    }

    /// The same index answering at most `tokens` estimated tokens per search instead of
    /// [`TOKEN_BUDGET`].
    #[must_use]
    pub fn with_token_budget(mut self, tokens: usize) -> Self {
        self.token_budget = tokens;
        self
    }

    /// The file this index was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many documents the index held when it was opened.
    #[must_use]
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// The best `page_size` documents for `question`, best first, leaving out each one that
    /// would pass the token budget. A question with nothing searchable left (only punctuation)
    /// finds nothing, without a query.
    ///
    /// # Errors
    /// [`SearchError`] when no connection is free in time or SQLite fails the query.
    pub async fn search(
        &self,
        question: &str,
        page_size: usize,
    ) -> Result<Vec<SearchResult>, SearchError> {
        let Some(query) = text::fts_query(question) else {
            return Ok(Vec::new());
        };
        let pool = self.pool.clone();
        let budget = self.token_budget;
        tokio::task::spawn_blocking(move || search_blocking(&pool, &query, page_size, budget))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))?
    }
}

fn search_blocking(
    pool: &Pool<SqliteConnectionManager>,
    query: &str,
    page_size: usize,
    budget: usize,
) -> Result<Vec<SearchResult>, SearchError> {
    let conn = pool.get()?;
    let mut statement = conn.prepare_cached(schema::SEARCH)?;
    let limit = i64::try_from(page_size).unwrap_or(i64::MAX);
    let mut rows = statement.query(rusqlite::params![query, limit])?;
    let mut results = Vec::with_capacity(page_size.min(32));
    let mut tokens = 0;
    while let Some(row) = rows.next()? {
        let metadata: Option<String> = row.get(0)?;
        let content: Option<String> = row.get(1)?;
        let Some(result) = to_result(metadata.as_deref(), content) else {
            continue;
        };
        let cost = text::estimated_tokens(&result.content);
        // A document that does not fit is left out and the next ones are tried. GitLab's gateway
        // stops there instead, and so answers nothing when the best page alone is over the
        // budget (a fifth of the questions in the bench's corpus).
        if tokens + cost > budget {
            continue;
        }
        tokens += cost;
        results.push(result);
    }
    Ok(results)
}

/// A row as a result; a row whose metadata is not an object with a string `filename` is skipped
/// with a warning (GitLab's gateway would fail the whole search on it).
fn to_result(metadata: Option<&str>, content: Option<String>) -> Option<SearchResult> {
    let parsed = metadata.and_then(|m| serde_json::from_str::<Value>(m).ok());
    let Some(Value::Object(metadata)) = parsed else {
        tracing::warn!("documentation index: a row's metadata is not a JSON object; skipped");
        return None;
    };
    let Some(Value::String(id)) = metadata.get("filename") else {
        tracing::warn!("documentation index: a row's metadata has no filename; skipped");
        return None;
    };
    Some(SearchResult {
        id: id.clone(),
        content: content.unwrap_or_default(),
        metadata,
    })
}
