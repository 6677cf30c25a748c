//! The axum side of the fake: recording, routing, the bearer-token check, the body checks, and
//! writing the rendered reply of either publisher.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::channel::mpsc;
use serde_json::Value;

use super::ClaudeReply;
use super::check;
use super::record::{RecordedRequest, Route};
use super::render::{Ask, Mode, error_response, render};
use super::reply::{GoogleError, Reply};
use crate::anthropic;
use crate::anthropic::render::{Piece, Rendered};
use crate::google_oauth::{TokenTable, lock};

/// Google's message for a missing or refused access token.
pub(crate) const UNAUTHENTICATED_MESSAGE: &str = "Request had invalid authentication \
    credentials. Expected OAuth 2 access token, login cookie or other valid authentication \
    credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// How long the fake waits before dropping a connection, so the bytes before it are flushed.
const ABORT_FLUSH: Duration = Duration::from_millis(50);

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Everything the fake shares between its handler and the test.
#[derive(Debug)]
pub(crate) struct State {
    pub queue: Mutex<VecDeque<Reply>>,
    pub default: Mutex<Reply>,
    pub claude_queue: Mutex<VecDeque<ClaudeReply>>,
    pub claude_default: Mutex<ClaudeReply>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Fixed tokens accepted ([`super::FakeVertex::accept_token`]).
    pub accepted: Mutex<Vec<String>>,
    /// Token tables of trusted OAuth fakes ([`super::FakeVertex::trust`]).
    pub trusted: Mutex<Vec<Arc<TokenTable>>>,
    /// Numbers the response and message ids.
    pub ids: AtomicU64,
    /// TCP connections accepted so far.
    pub connections: AtomicUsize,
}

impl State {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::text("Hello from the fake.")),
            claude_queue: Mutex::new(VecDeque::new()),
            claude_default: Mutex::new(anthropic::Reply::text("Hello from the fake.").into()),
            requests: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
            trusted: Mutex::new(Vec::new()),
            ids: AtomicU64::new(0),
            connections: AtomicUsize::new(0),
        }
    }

    /// Whether the request's bearer token is one this fake takes.
    fn authorized(&self, recorded: &RecordedRequest) -> bool {
        let Some(token) = recorded.bearer() else {
            return false;
        };
        let accepted = lock(&self.accepted);
        let trusted = lock(&self.trusted);
        (accepted.is_empty() && trusted.is_empty())
            || accepted.iter().any(|t| t == token)
            || trusted.iter().any(|table| table.is_valid(token))
    }
}

/// How a body's pieces are paced.
#[derive(Debug, Clone, Copy, Default)]
struct Pace {
    /// Before every piece, the first included.
    before_each: Duration,
    /// Between two pieces.
    between: Duration,
}

pub(crate) async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let received_at = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let recorded = RecordedRequest::new(&parts, &bytes, peer, received_at);
    lock(&state.requests).push(recorded.clone());
    let n = state.ids.fetch_add(1, Ordering::Relaxed) + 1;

    let Some(route) = recorded
        .route()
        .filter(|r| recorded.method() == "POST" && r.is_served())
        .cloned()
    else {
        let rendered = error_response(&GoogleError::standard(404));
        return respond(rendered, Pace::default(), &[]);
    };
    if !state.authorized(&recorded) {
        let mut response = respond(
            error_response(&GoogleError::standard(401)),
            Pace::default(),
            &[],
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
        );
        return response;
    }
    if route.publisher == "anthropic" {
        return claude(&state, &recorded, &route, n).await;
    }

    if let Err(message) = check::gemini(recorded.body(), recorded.raw_body()) {
        let error = GoogleError {
            message,
            ..GoogleError::standard(400)
        };
        return respond(error_response(&error), Pace::default(), &[]);
    }
    let queued = lock(&state.queue).pop_front();
    let reply = queued.unwrap_or_else(|| lock(&state.default).clone());
    let mode = match route.method.as_str() {
        "generateContent" => Mode::Json,
        _ if recorded.query_param("alt") == Some("sse") => Mode::Sse,
        _ => Mode::JsonArray,
    };
    gemini_answer(&reply, mode, &recorded, &route, n)
}

fn gemini_answer(
    reply: &Reply,
    mode: Mode,
    recorded: &RecordedRequest,
    route: &Route,
    n: u64,
) -> Response {
    let response_id = format!("fake-response-{n:06}");
    let ask = Ask {
        body: recorded.body(),
        model: &route.model,
        response_id: &response_id,
    };
    let pace = Pace {
        before_each: reply.delay,
        between: Duration::ZERO,
    };
    respond(render(reply, mode, &ask), pace, &reply.headers)
}

/// A Claude route: Anthropic's body checks and answer.
async fn claude(state: &State, recorded: &RecordedRequest, route: &Route, n: u64) -> Response {
    let request_id = format!("req_vrtx_01Fake{n:018}");
    let message_id = format!("msg_vrtx_01Fake{n:018}");
    let streaming = route.method == "streamRawPredict";
    let refusal = check::claude(recorded.body())
        .err()
        .map(|message| anthropic::Reply::error(400, "invalid_request_error", message));
    let reply = match refusal {
        Some(refusal) => ClaudeReply::Anthropic(refusal),
        None => {
            let queued = lock(&state.claude_queue).pop_front();
            queued.unwrap_or_else(|| lock(&state.claude_default).clone())
        }
    };
    let reply = match reply {
        ClaudeReply::Google(reply) => {
            let mode = if streaming { Mode::Sse } else { Mode::Json };
            return gemini_answer(&reply, mode, recorded, route, n);
        }
        ClaudeReply::Anthropic(reply) => reply,
    };
    // `streamRawPredict` always streams; `rawPredict` streams when the body says so.
    let mut body = recorded.body().clone();
    if streaming && let Some(o) = body.as_object_mut() {
        o.insert("stream".into(), Value::Bool(true));
    }
    let ask = crate::anthropic::render::Ask {
        body: &body,
        model: &route.model,
        message_id: &message_id,
        request_id: &request_id,
    };
    let rendered = crate::anthropic::render::render(&reply, &ask);
    if !reply.first_byte_delay.is_zero() {
        tokio::time::sleep(reply.first_byte_delay).await;
    }
    let pace = Pace {
        before_each: Duration::ZERO,
        between: reply.chunk_delay,
    };
    let mut response = respond(rendered, pace, &reply.headers);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", v);
    }
    response
}

/// The response for `rendered`; a body of several pieces (or a paced one) is streamed.
fn respond(rendered: Rendered, pace: Pace, extra: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match rendered.pieces.as_slice() {
        [Piece::Bytes(one)] if pace.before_each.is_zero() => Body::from(one.clone()),
        _ => {
            let (tx, rx) = mpsc::unbounded::<Result<Bytes, std::io::Error>>();
            let pieces = rendered.pieces;
            tokio::spawn(async move {
                for (i, piece) in pieces.into_iter().enumerate() {
                    if i > 0 && !pace.between.is_zero() {
                        tokio::time::sleep(pace.between).await;
                    }
                    if !pace.before_each.is_zero() {
                        tokio::time::sleep(pace.before_each).await;
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
    if rendered.content_type.starts_with("text/event-stream") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    for (name, value) in extra {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    response
}
