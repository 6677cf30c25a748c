//! The wire of `POST /v1/search/gitlab-docs`, as GitLab's gateway defines it.

use duo_docs_search::SearchResult;
use serde::{Deserialize, Serialize};

/// The request body.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchRequest {
    /// `search` or `search-docs`, as the instance sends it; not interpreted.
    #[serde(rename = "type")]
    pub(crate) _kind: String,
    /// Where the question comes from.
    pub(crate) metadata: SearchMetadata,
    /// The question.
    pub(crate) payload: SearchPayload,
}

/// The request's `metadata`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchMetadata {
    /// The instance's edition, e.g. `GitLab EE`.
    pub(crate) source: String,
    /// The instance's version, e.g. `18.5.0`.
    pub(crate) version: String,
}

/// The request's `payload`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchPayload {
    /// The user's question.
    pub(crate) query: String,
    /// How many documents at most (1–20, default 4).
    #[serde(default = "default_page_size")]
    pub(crate) page_size: i64,
}

fn default_page_size() -> i64 {
    4
}

/// The response body.
#[derive(Debug, Serialize)]
pub(crate) struct SearchResponse {
    /// The documents.
    pub(crate) response: SearchResults,
    /// Where they come from.
    pub(crate) metadata: ResponseMetadata,
}

/// The response's `response`.
#[derive(Debug, Serialize)]
pub(crate) struct SearchResults {
    /// Best first.
    pub(crate) results: Vec<SearchResult>,
}

/// The response's `metadata`.
#[derive(Debug, Serialize)]
pub(crate) struct ResponseMetadata {
    /// Always `sqlite`.
    pub(crate) provider: &'static str,
    /// When the search ran, in Unix seconds.
    pub(crate) timestamp: i64,
}
