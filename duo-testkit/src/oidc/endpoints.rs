//! The fake issuer's two endpoints (discovery and JWKS) and [`Mode`], how each one answers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::{JWKS_PATH, Shared};

/// How an endpoint of [`super::FakeOidc`] answers (while the issuer is available).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// The document, at once.
    #[default]
    Normal,
    /// Takes the request (it is counted) and never answers: a hanging issuer.
    Hang,
    /// The real document padded with trailing whitespace to `bytes` bytes (still valid JSON),
    /// produced lazily in 64 KiB chunks, so the fake itself stays small; with `declared_length`
    /// a `Content-Length` announces the size, otherwise the body is chunked.
    Oversized {
        /// Total body size.
        bytes: usize,
        /// Whether `Content-Length` is sent.
        declared_length: bool,
    },
    /// `302 Found` to this URL (a client that follows it reaches somewhere else).
    Redirect(String),
}

/// Size of each chunk of an oversized body.
const CHUNK: usize = 64 * 1024;

pub(super) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    if !shared.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let issuer = &shared.issuer;
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let mode = shared.lock(&shared.discovery_mode).clone();
    answer(&shared, mode, doc).await
}

pub(super) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    if !shared.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = shared
        .keys()
        .published
        .iter()
        .map(|i| shared.all[*i].jwk.clone())
        .collect();
    let mode = shared.lock(&shared.jwks_mode).clone();
    answer(&shared, mode, json!({ "keys": keys })).await
}

async fn answer(shared: &Arc<Shared>, mode: Mode, doc: Value) -> Response {
    match mode {
        Mode::Normal => Json(doc).into_response(),
        Mode::Hang => futures::future::pending().await,
        Mode::Oversized {
            bytes,
            declared_length,
        } => oversized(shared, doc.to_string().into_bytes(), bytes, declared_length),
        Mode::Redirect(location) => (
            StatusCode::FOUND,
            [(http::header::LOCATION, location)],
            "redirected",
        )
            .into_response(),
    }
}

/// `doc` then spaces up to `total` bytes, streamed; each chunk is counted when the server
/// takes it (so the count shows how much the client let through before hanging up).
fn oversized(shared: &Arc<Shared>, doc: Vec<u8>, total: usize, declared_length: bool) -> Response {
    let shared = Arc::clone(shared);
    let padding = total.saturating_sub(doc.len());
    let first = Bytes::from(doc);
    let total = first.len() + padding;
    let stream = futures::stream::unfold((Some(first), padding), move |(first, left)| {
        let shared = Arc::clone(&shared);
        async move {
            let (chunk, left) = match first {
                Some(doc) => (doc, left),
                None if left == 0 => return None,
                None => {
                    let n = left.min(CHUNK);
                    (Bytes::from(vec![b' '; n]), left - n)
                }
            };
            shared
                .oversized_bytes_sent
                .fetch_add(chunk.len(), Ordering::SeqCst);
            Some((Ok::<_, std::io::Error>(chunk), (None, left)))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if declared_length {
        headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(total));
    }
    response
}
