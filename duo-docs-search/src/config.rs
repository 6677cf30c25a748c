//! [`DocsSearchConfig`]: the `[docs_search]` section of the gateway's configuration.

use std::path::PathBuf;

use serde::Deserialize;

/// `[docs_search]`: the documentation index Duo Chat's documentation questions are answered from
/// (opened with [`DocsIndex::open`](crate::DocsIndex::open)`(db, connections)`).
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
