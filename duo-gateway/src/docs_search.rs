//! [`DocsSearch`]: the documentation index as the gateway holds it: opened at start, or why not.
//!
//! An index that is configured but missing, unreadable or of another layout is a warning at start
//! and an empty result list at search time (as GitLab's gateway answers without an index), never
//! a crash; `check-config` reports it as an error.

use duo_docs_search::{DocsIndex, DocsSearchConfig, OpenError};

/// The documentation index, or why there is none.
#[derive(Debug, Clone)]
pub enum DocsSearch {
    /// `docs_search.db` is unset.
    NotConfigured,
    /// The index is open.
    Ready(DocsIndex),
    /// `docs_search.db` is set but could not be opened.
    Unavailable {
        /// The short reason readiness shows: `missing`, `version`, `schema` or `unreadable`.
        kind: &'static str,
        /// The whole message, naming the file.
        message: String,
    },
}

impl DocsSearch {
    /// Opens the configured index, logging a warning when it cannot be opened.
    #[must_use]
    pub fn open(config: &DocsSearchConfig) -> Self {
        let Some(path) = config.db.as_deref() else {
            return Self::NotConfigured;
        };
        match DocsIndex::open(path, config.connections) {
            Ok(index) => {
                tracing::info!(
                    path = %path.display(),
                    documents = index.documents(),
                    "documentation index loaded"
                );
                Self::Ready(index)
            }
            Err(e) => {
                let kind = match e {
                    OpenError::Missing => "missing",
                    OpenError::Version { .. } => "version",
                    OpenError::Schema(_) => "schema",
                    OpenError::Sqlite(_) | OpenError::Pool(_) => "unreadable",
                };
                let message = format!("docs_search.db '{}': {e}", path.display());
                tracing::warn!(
                    "{message}; documentation searches answer no documents until it is fixed"
                );
                Self::Unavailable { kind, message }
            }
        }
    }

    /// The open index, if any.
    #[must_use]
    pub fn index(&self) -> Option<&DocsIndex> {
        match self {
            Self::Ready(index) => Some(index),
            _ => None,
        }
    }
}
