//! `POST /v1/search/gitlab-docs`: Duo Chat's documentation tool, answered from the local index
//! ([`duo_docs_search`]); the instance then asks `chat/documentation_search` with what it found.

mod wire;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use duo_auth::Caller;
use duo_core::{Feature, UnitPrimitive};

use crate::error::ApiError;
use crate::request_body::{check_len, parse_body};
use crate::state::{AppState, RequestLog};
use wire::{ResponseMetadata, SearchRequest, SearchResponse, SearchResults};

/// The longest question searched, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 10_000;

/// `POST /v1/search/gitlab-docs`.
pub async fn gitlab_docs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    body: Bytes,
) -> Result<Response, ApiError> {
    log.set_feature(Feature::DocumentationSearch);
    if !caller.can(UnitPrimitive::DocumentationSearch) {
        return Err(ApiError::Forbidden(
            "Unauthorized to search documentations".into(),
        ));
    }
    let request: SearchRequest = parse_body(&body)?;
    check_len("payload.query", &request.payload.query, MAX_QUERY_CHARS)?;
    let page_size = request.payload.page_size;
    if !(1..=20).contains(&page_size) {
        return Err(ApiError::Validation(
            "payload.page_size: must be between 1 and 20".into(),
        ));
    }
    let results = match state.docs_search().index() {
        Some(index) => index
            .search(
                &request.payload.query,
                usize::try_from(page_size).unwrap_or(4),
            )
            .await
            .map_err(|e| ApiError::Unavailable(format!("documentation search failed: {e}")))?,
        None => {
            tracing::warn!("no documentation index: answering no documents");
            Vec::new()
        }
    };
    tracing::debug!(
        source = %request.metadata.source,
        version = %request.metadata.version,
        results = results.len(),
        "documentation search"
    );
    Ok(Json(SearchResponse {
        response: SearchResults { results },
        metadata: ResponseMetadata {
            provider: "sqlite",
            timestamp: time::OffsetDateTime::now_utc().unix_timestamp(),
        },
    })
    .into_response())
}
