//! [`DocsSearchConfig`]: the `[docs_search]` section of the gateway's configuration.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::OpenError;
use crate::index::DocsIndex;

/// `[docs_search]`: the documentation index Duo Chat's documentation questions are answered from.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocsSearchConfig {
    /// The SQLite index (`docs.db` of GitLab's self-hosted image, or one `duo-gateway index-docs`
    /// built), opened read-only; unset: searches answer no documents.
    pub db: Option<PathBuf>,
    /// How many read-only connections serve searches at once.
    pub connections: u32,
}

impl Default for DocsSearchConfig {
    fn default() -> Self {
        Self {
            db: None,
            connections: 4,
        }
    }
}

impl DocsSearchConfig {
    /// Opens the configured index; `None` when none is configured.
    ///
    /// # Errors
    /// As [`DocsIndex::open`], inside the `Some`.
    pub fn open(&self) -> Option<Result<DocsIndex, OpenError>> {
        self.db
            .as_deref()
            .map(|path| DocsIndex::open(path, self.connections))
    }
}
