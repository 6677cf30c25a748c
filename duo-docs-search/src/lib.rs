//! GitLab's documentation as a local full-text index, for Duo Chat's documentation questions.
//!
//! GitLab's self-hosted AI gateway answers `POST /v1/search/gitlab-docs` from a SQLite FTS5 index
//! of the Markdown under the GitLab repository's `doc/`, built into its image, so that no question
//! leaves the network. This crate reads such an index and builds one, in the same layout both
//! ways ([`schema`]): an index GitLab's image ships is read here, and one built here is read by
//! GitLab's gateway.
//!
//! ```
//! use std::path::Path;
//! use duo_docs_search::{DocsIndex, IndexBuilder};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (doc, db) = (Path::new("gitlab/doc"), Path::new("docs.db"));
//! # // the doctest's checkout: duo-testkit's small doc/ tree, in a temporary directory
//! # let dir = tempfile::tempdir()?;
//! # let (doc, db) = (&duo_testkit::docs::write_tree(dir.path()), &dir.path().join("docs.db"));
//! // Build: every *.md under a checkout's doc/, in one transaction, renamed into place at the end.
//! let summary = IndexBuilder::new(doc, db).build(|_progress| {})?;
//! println!("{} files, {} bytes", summary.files, summary.bytes);
//!
//! // Search: read-only connections, queried on tokio's blocking threads.
//! let index = DocsIndex::open(db, 4)?;
//! let found = index.search("How do I create a project?", 4).await?;
//! assert_eq!(found[0].id, "/user/project/index.md"); // the file's path under doc/
//! # Ok(()) }
//! ```
//!
//! The question is cleaned as GitLab's gateway cleans it (punctuation removed), and then each
//! word is quoted, so that words FTS5 reads as operators (`OR`, `NOT`, `NEAR`) and a bare `*` or
//! `"` cannot make a query fail ([`text::fts_query`]). Results are cut to [`TOKEN_BUDGET`]
//! estimated tokens, as GitLab's gateway cuts them, except that a document that does not fit is
//! left out and the next ones are tried (GitLab's gateway stops at it).
//!
//! SQLite is compiled in (rusqlite's bundled build, with FTS5 and the trigram tokenizer), so the
//! index does not depend on the system's SQLite.

mod builder;
mod config;
mod error;
mod index;
pub mod schema;
pub mod text;

pub use builder::{BuildSummary, IndexBuilder, Progress};
pub use config::DocsSearchConfig;
pub use error::{BuildError, OpenError, SearchError};
pub use index::{DocsIndex, SearchResult, TOKEN_BUDGET};
