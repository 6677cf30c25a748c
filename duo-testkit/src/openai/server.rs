//! The axum side of the fake: routing, recording, key and tool checks, writing the rendered reply.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::channel::mpsc;
use serde_json::{Value, json};

use super::check::check_chat;
use super::counted::{Counters, TrackedStream};
use super::record::RecordedRequest;
use super::render::{Api, Ask, Flavour, Piece, Rendered, render};
use super::reply::Reply;

/// How long the fake waits before cutting a connection, so the bytes before the cut are flushed.
const CUT_FLUSH: std::time::Duration = std::time::Duration::from_millis(50);

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Everything the fake shares between its handler and the test.
#[derive(Debug)]
pub(crate) struct State {
    pub queue: Mutex<VecDeque<Reply>>,
    pub default: Mutex<Reply>,
    /// Replies by requested model, used before `default` when the queue is empty.
    pub model_defaults: Mutex<HashMap<String, Reply>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Whether requests are kept in `requests`.
    pub record: AtomicBool,
    pub counters: Arc<Counters>,
    pub models: Mutex<Vec<String>>,
    pub required_key: Mutex<Option<String>>,
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::answer("hello world")),
            model_defaults: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            record: AtomicBool::new(true),
            counters: Arc::new(Counters::default()),
            models: Mutex::new(vec!["fake-model".into()]),
            required_key: Mutex::new(None),
        }
    }
}

/// Locks `m`, ignoring poisoning (a panicking test must not hide the fake's state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where a path leads.
fn route(method: &str, path: &str) -> Option<(Flavour, Api, Option<String>)> {
    match (method, path) {
        ("POST", "/v1/completions") => return Some((Flavour::OpenAi, Api::Completions, None)),
        ("POST", "/v1/chat/completions") => return Some((Flavour::OpenAi, Api::Chat, None)),
        ("GET", "/v1/models") => return Some((Flavour::OpenAi, Api::Models, None)),
        _ => {}
    }
    let rest = path.strip_prefix("/openai/deployments/")?;
    let (deployment, api) = rest.split_once('/')?;
    if method != "POST" || deployment.is_empty() {
        return None;
    }
    let api = match api {
        "chat/completions" => Api::Chat,
        "completions" => Api::Completions,
        _ => return None,
    };
    Some((Flavour::Azure, api, Some(deployment.to_owned())))
}

pub(crate) async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let received_at = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
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
        body,
        raw_body: String::from_utf8_lossy(&bytes).into_owned(),
        peer,
        received_at,
    };
    if state.record.load(Ordering::Relaxed) {
        lock(&state.requests).push(recorded.clone());
    }

    let Some((flavour, api, deployment)) = route(&recorded.method, &recorded.path) else {
        let body = json!({"error": {"message": format!("no route for {} {}", recorded.method, recorded.path), "code": 404}});
        return simple(404, &body);
    };
    if flavour == Flavour::Azure && recorded.query_param("api-version").is_none() {
        return simple(
            404,
            &json!({"error": {"code": "404", "message": "Resource not found"}}),
        );
    }
    if let Some(key) = lock(&state.required_key).clone() {
        let bearer = format!("Bearer {key}");
        let ok = recorded.header("authorization") == Some(bearer.as_str())
            || (flavour == Flavour::Azure && recorded.header("api-key") == Some(key.as_str()));
        if !ok {
            return match flavour {
                Flavour::OpenAi => simple(401, &json!({"error": "Unauthorized"})),
                Flavour::Azure => simple(
                    401,
                    &json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}),
                ),
            };
        }
    }

    if api == Api::Chat
        && let Err(invalid) = check_chat(&recorded.body)
    {
        return simple(400, &invalid.body());
    }

    let model = deployment.unwrap_or_else(|| {
        recorded
            .body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("fake-model")
            .to_owned()
    });
    let queued = lock(&state.queue).pop_front();
    let reply = queued
        .or_else(|| lock(&state.model_defaults).get(&model).cloned())
        .unwrap_or_else(|| lock(&state.default).clone());
    let models = lock(&state.models).clone();
    let rendered = render(
        &reply,
        &Ask {
            flavour,
            api,
            body: &recorded.body,
            model,
            models: &models,
        },
    );
    if !reply.first_byte_delay.is_zero() {
        tokio::time::sleep(reply.first_byte_delay).await;
    }
    respond(rendered, &reply, Some(&state.counters))
}

fn simple(status: u16, body: &Value) -> Response {
    let rendered = Rendered {
        status,
        content_type: "application/json".into(),
        pieces: vec![Piece::Bytes(Bytes::from(body.to_string()))],
    };
    respond(rendered, &Reply::status(status), None)
}

/// The response for `rendered`; a body of several pieces is streamed (counted in `counters`).
fn respond(rendered: Rendered, reply: &Reply, counters: Option<&Arc<Counters>>) -> Response {
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
                        Piece::Cut => {
                            // Let hyper flush what was sent before: a real cut loses no sent bytes.
                            tokio::time::sleep(CUT_FLUSH).await;
                            Err(std::io::Error::other("connection cut by the script"))
                        }
                    };
                    let cut = item.is_err();
                    if tx.unbounded_send(item).is_err() || cut {
                        return;
                    }
                }
            });
            match counters {
                Some(c) => Body::from_stream(TrackedStream::new(rx, Arc::clone(c))),
                None => Body::from_stream(rx),
            }
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rendered.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    for (name, value) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    response
}
