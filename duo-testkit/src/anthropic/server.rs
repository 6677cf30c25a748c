//! The axum side of the fake: recording, the checks the real API makes before it looks at a
//! request, and writing the rendered reply.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::channel::mpsc;
use serde_json::Value;

use super::render::{Ask, Piece, Rendered, SSE_CONTENT_TYPE, render};
use super::reply::Reply;
use super::wire::error_body;
use crate::openai::RecordedRequest;

/// How long the fake waits before dropping a connection, so the bytes before it are flushed.
const ABORT_FLUSH: Duration = Duration::from_millis(50);

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Everything the fake shares between its handler and the test.
#[derive(Debug)]
pub(crate) struct State {
    pub queue: Mutex<VecDeque<Reply>>,
    pub default: Mutex<Reply>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub required_key: Mutex<Option<String>>,
    /// Numbers the `msg_…` and `req_…` ids.
    pub ids: AtomicU64,
    /// TCP connections accepted so far.
    pub connections: AtomicUsize,
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::text("Hello from the fake.")),
            requests: Mutex::new(Vec::new()),
            required_key: Mutex::new(None),
            ids: AtomicU64::new(0),
            connections: AtomicUsize::new(0),
        }
    }
}

/// Locks `m`, ignoring poisoning (a panicking test must not hide the fake's state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a request is refused before it reaches the script: status, error type, message.
type Refusal = (u16, &'static str, String);

fn invalid(message: impl Into<String>) -> Refusal {
    (400, "invalid_request_error", message.into())
}

/// The checks Anthropic makes before it runs a model, in order; `Err` is the answer.
fn check(recorded: &RecordedRequest, required_key: Option<&str>) -> Result<(), Refusal> {
    if recorded.method != "POST" || recorded.path != "/v1/messages" {
        return Err((404, "not_found_error", "Not Found".into()));
    }
    if let Some(key) = required_key
        && recorded.header("x-api-key") != Some(key)
    {
        return Err((401, "authentication_error", "invalid x-api-key".into()));
    }
    if recorded
        .header("anthropic-version")
        .is_none_or(|v| v.trim().is_empty())
    {
        return Err(invalid("anthropic-version: header is required"));
    }
    let body = &recorded.body;
    if !body.is_object() {
        return Err(invalid(
            "There was an error parsing the body of your request: it must be a JSON object",
        ));
    }
    match body.get("max_tokens") {
        None | Some(Value::Null) => return Err(invalid("max_tokens: Field required")),
        Some(v) => match v.as_u64() {
            None => return Err(invalid("max_tokens: Input should be a valid integer")),
            Some(0) => {
                return Err(invalid(
                    "max_tokens: Input should be greater than or equal to 1",
                ));
            }
            Some(_) => {}
        },
    }
    for field in ["messages", "model"] {
        if body.get(field).is_none_or(Value::is_null) {
            return Err(invalid(format!("{field}: Field required")));
        }
    }
    Ok(())
}

pub(crate) async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let received_at = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        raw_body: String::from_utf8_lossy(&bytes).into_owned(),
        peer,
        received_at,
    };
    lock(&state.requests).push(recorded.clone());

    let n = state.ids.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("req_01Fake{n:018}");
    let message_id = format!("msg_01Fake{n:018}");

    let required_key = lock(&state.required_key).clone();
    if let Err((status, error_type, message)) = check(&recorded, required_key.as_deref()) {
        let rendered = Rendered::json(status, error_body(error_type, &message, &request_id));
        return respond(rendered, &Reply::status(status), &request_id);
    }

    let queued = lock(&state.queue).pop_front();
    let reply = queued.unwrap_or_else(|| lock(&state.default).clone());
    let model = recorded
        .body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-fake");
    let rendered = render(
        &reply,
        &Ask {
            body: &recorded.body,
            model,
            message_id: &message_id,
            request_id: &request_id,
        },
    );
    if !reply.first_byte_delay.is_zero() {
        tokio::time::sleep(reply.first_byte_delay).await;
    }
    respond(rendered, &reply, &request_id)
}

/// The response for `rendered`; a body of several pieces is streamed, `reply.chunk_delay`
/// apart.
fn respond(rendered: Rendered, reply: &Reply, request_id: &str) -> Response {
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match rendered.pieces.as_slice() {
        [Piece::Bytes(one)] => Body::from(one.clone()),
        _ => {
            let (tx, rx) = mpsc::unbounded::<Result<Bytes, std::io::Error>>();
            let delay = reply.chunk_delay;
            let pieces = rendered.pieces;
            tokio::spawn(async move {
                for (i, piece) in pieces.into_iter().enumerate() {
                    if i > 0 && !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let item = match piece {
                        Piece::Bytes(b) => Ok(b),
                        Piece::Abort => {
                            // Let hyper flush what was sent before: a real drop loses no sent bytes.
                            tokio::time::sleep(ABORT_FLUSH).await;
                            Err(std::io::Error::other("connection dropped by the script"))
                        }
                    };
                    let abort = item.is_err();
                    if tx.unbounded_send(item).is_err() || abort {
                        return;
                    }
                }
            });
            Body::from_stream(rx)
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rendered.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if rendered.content_type == SSE_CONTENT_TYPE {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("request-id", v);
    }
    for (name, value) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    if status.as_u16() == 429 && !headers.contains_key(header::RETRY_AFTER) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    }
    response
}
