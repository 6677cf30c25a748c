//! Turning a model's [`EventStream`] into the response bodies GitLab's clients expect.
//!
//! Every shape passes chunks through as they arrive (no buffering). An upstream failure after
//! the first byte ends the body with an error, so hyper aborts the connection instead of
//! finishing the chunked encoding: the client can tell a truncated answer from a complete one.
//! Dropping the body (client gone) drops the upstream stream, which closes the upstream
//! connection and so cancels the model call.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use duo_core::{EventStream, StreamAborted, StreamEvent, Usage};
use futures::StreamExt;
use serde_json::json;

/// `text/event-stream; charset=utf-8`, the content type GitLab's gateway gives raw-text streams.
pub const EVENT_STREAM: &str = "text/event-stream; charset=utf-8";

/// Raw text chunks, no framing (v2 code suggestions, v1 prompts).
pub fn raw_text(stream: EventStream) -> Response {
    let body = stream.filter_map(|event| async move {
        match event {
            Ok(StreamEvent::Delta(text)) if !text.is_empty() => Some(Ok(Bytes::from(text))),
            Ok(_) => None,
            Err(e) => Some(Err(StreamAborted(e))),
        }
    });
    with_content_type(Body::from_stream(body), EVENT_STREAM)
}

/// One JSON object per line: `{"content": …}` per chunk, then one with `usage` keyed by `usage_key`
/// (v2 prompts).
pub fn json_lines(stream: EventStream, usage_key: String) -> Response {
    let usage_key: std::sync::Arc<str> = usage_key.into();
    let body = stream.filter_map(move |event| {
        let usage_key = std::sync::Arc::clone(&usage_key);
        async move {
            match event {
                Ok(StreamEvent::Delta(text)) if !text.is_empty() => {
                    Some(Ok(line(&json!({ "content": text }))))
                }
                Ok(StreamEvent::Finish {
                    usage: Some(usage), ..
                }) => Some(Ok(line(&json!({
                    "content": "",
                    "usage": usage_json(&usage_key, usage),
                })))),
                Ok(_) => None,
                Err(e) => Some(Err(StreamAborted(e))),
            }
        }
    });
    with_content_type(Body::from_stream(body), EVENT_STREAM)
}

/// `{"<key>": {"input_tokens": …, "output_tokens": …}}`, the reference's usage shape.
#[must_use]
pub fn usage_json(key: &str, usage: Usage) -> serde_json::Value {
    json!({ key: { "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens } })
}

fn line(value: &serde_json::Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn with_content_type(body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
