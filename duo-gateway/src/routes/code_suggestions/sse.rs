//! The v4 streaming body: real server-sent events.
//!
//! ```text
//! event: stream_start\r\ndata: {"metadata":{…}}\r\n\r\n
//! event: content_chunk\r\ndata: {"choices":[{"delta":{"content":"…"},"index":0}]}\r\n\r\n
//! …
//! event: stream_end\r\ndata: null\r\n\r\n
//! ```
//!
//! Lines end in CRLF, as the running reference (sse-starlette) sends them; SSE parsers accept
//! CRLF and LF alike. `stream_end` is sent only after the model finished: when the upstream fails
//! mid-stream the body ends with an error instead, so hyper aborts the connection and the client
//! can tell a truncated answer from a complete one.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use duo_core::{EventStream, StreamAborted, StreamEvent};
use futures::{StreamExt, future, stream};
use serde::Serialize;

use crate::streaming::EVENT_STREAM;

/// The last event of a complete stream.
const STREAM_END: &[u8] = b"event: stream_end\r\ndata: null\r\n\r\n";

/// The v4 response: `stream_start` with `start` as data, a `content_chunk` per text delta, then
/// `stream_end`; headers `X-Streaming-Format: sse`, `X-Accel-Buffering: no`.
pub(super) fn response(start: &impl Serialize, events: EventStream) -> Response {
    let first = stream::once(future::ready(Ok(event("stream_start", start))));
    let chunks = events.filter_map(|event| {
        future::ready(match event {
            Ok(StreamEvent::Delta(text)) if !text.is_empty() => Some(Ok(content_chunk(&text))),
            Ok(_) => None,
            Err(e) => Some(Err(StreamAborted(e))),
        })
    });
    let last = stream::once(future::ready(Ok(Bytes::from_static(STREAM_END))));
    // Nothing follows an error: `stream_end` must never reach the client after a failure.
    let body = first.chain(chunks).chain(last).scan(
        false,
        |failed, item: Result<Bytes, StreamAborted>| {
            if *failed {
                return future::ready(None);
            }
            *failed = item.is_err();
            future::ready(Some(item))
        },
    );
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    headers.insert("x-streaming-format", HeaderValue::from_static("sse"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One event: `event: <name>`, `data: <json>`, blank line.
fn event(name: &str, data: &impl Serialize) -> Bytes {
    let mut out = BytesMut::with_capacity(128);
    out.put_slice(b"event: ");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\r\ndata: ");
    let mut writer = out.writer();
    // Serializing plain structs of strings and numbers cannot fail; `null` would still be valid.
    if serde_json::to_writer(&mut writer, data).is_err() {
        writer.get_mut().put_slice(b"null");
    }
    let mut out = writer.into_inner();
    out.put_slice(b"\r\n\r\n");
    out.freeze()
}

/// A `content_chunk` event for one text delta.
fn content_chunk(text: &str) -> Bytes {
    #[derive(Serialize)]
    struct Delta<'a> {
        content: &'a str,
    }
    #[derive(Serialize)]
    struct ChunkChoice<'a> {
        delta: Delta<'a>,
        index: u32,
    }
    #[derive(Serialize)]
    struct Chunk<'a> {
        choices: [ChunkChoice<'a>; 1],
    }
    event(
        "content_chunk",
        &Chunk {
            choices: [ChunkChoice {
                delta: Delta { content: text },
                index: 0,
            }],
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_framed_with_crlf_and_json_data() {
        assert_eq!(
            &content_chunk("a \"b\"\n")[..],
            b"event: content_chunk\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"a \\\"b\\\"\\n\"},\"index\":0}]}\r\n\r\n"
        );
        assert_eq!(
            &event("stream_start", &serde_json::json!({"metadata": {"x": 1}}))[..],
            b"event: stream_start\r\ndata: {\"metadata\":{\"x\":1}}\r\n\r\n"
        );
    }
}
