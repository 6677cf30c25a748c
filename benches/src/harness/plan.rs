//! What is measured: each route and variant with its URL, body and headers, non-streamed (for
//! wrk) and streamed (for the probe), and which process serves it.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::gateway::{CLIENT_KEY, MODEL};
use super::stand_in::{FIRST_PIECE, last_piece};
use super::stream_probe::StreamTarget;
use super::wrk::Request;
use crate::BoxError;

/// The process whose CPU time a target's requests cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The stand-in (direct requests).
    StandIn,
    /// nginx, master and workers.
    Nginx,
    /// The gateway with auth on.
    GatewayAuth,
    /// The gateway with auth bypassed.
    GatewayBypass,
}

/// One route and variant.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its row label.
    pub label: String,
    /// A short name for files and progress lines.
    pub name: &'static str,
    /// Who serves it.
    pub server: Server,
    /// The non-streamed request.
    pub request: Request,
    /// The streamed request.
    pub stream: StreamTarget,
    /// Set when the baseline and floor are measured on another route.
    pub note: Option<String>,
}

/// An OpenAI chat request for [`MODEL`].
#[must_use]
pub fn chat_body(stream: bool) -> Value {
    json!({"model": MODEL, "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "Complete this Python function: def add(a, b):"}]})
}

/// A `POST /v2/code/completions` body as GitLab sends it, for a codestral model served at
/// `endpoint` (an OpenAI-compatible `/v1` URL).
#[must_use]
pub fn code_completion_body(endpoint: &str, stream: bool) -> Value {
    json!({
        "prompt_version": 1,
        "project_path": "gitlab-org/gitlab",
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                         "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "codestral",
        "model_endpoint": endpoint, "model_api_key": "upstream-key-123",
        "model_identifier": "custom_openai/Codestral-22B-v0.1", "telemetry": [], "stream": stream
    })
}

/// `Authorization: Bearer <key>` of the OpenAI-compatible API.
///
/// # Errors
/// Never in practice (the key is ASCII).
pub fn client_key_headers() -> Result<HeaderMap, BoxError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {CLIENT_KEY}"))?,
    );
    Ok(headers)
}

/// What a GitLab instance sends with `token`: the token and its instance headers, and a user.
#[must_use]
pub fn gitlab_headers(token: &str) -> HeaderMap {
    let mut headers = duo_testkit::oidc::gitlab_headers(token);
    headers.insert("x-gitlab-global-user-id", HeaderValue::from_static("1234"));
    headers
}

/// The headers as wrk's script sets them.
fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Where the routes are served.
#[derive(Debug, Clone)]
pub struct Bases<'a> {
    /// The stand-in's `/v1` URL.
    pub stand_in_v1: &'a str,
    /// nginx's base URL, when there is an nginx.
    pub nginx: Option<&'a str>,
    /// The auth-on gateway's base URL.
    pub gateway_auth: &'a str,
    /// The auth-bypassed gateway's base URL.
    pub gateway_bypass: &'a str,
}

/// A target of `route` on `base`.
fn target(
    label: &str,
    name: &'static str,
    server: Server,
    url: String,
    bodies: (Value, Value),
    headers: &HeaderMap,
    chunks: usize,
) -> Target {
    let sse_done = url.ends_with("/v1/chat/completions");
    Target {
        label: label.to_owned(),
        name,
        server,
        request: Request {
            url: url.clone(),
            body: bodies.0.to_string(),
            headers: pairs(headers),
        },
        stream: StreamTarget {
            url,
            body: bodies.1,
            headers: headers.clone(),
            first: FIRST_PIECE.to_owned(),
            last: last_piece(chunks),
            sse_done,
        },
        note: None,
    }
}

/// Every target: direct (the baseline), through nginx (the floor) when there is one, then the
/// gateway's routes and variants.
///
/// # Errors
/// When a header cannot be built.
pub fn targets(bases: &Bases<'_>, token: &str, chunks: usize) -> Result<Vec<Target>, BoxError> {
    let none = HeaderMap::new();
    let chat = || (chat_body(false), chat_body(true));
    let origin = bases.stand_in_v1.trim_end_matches("/v1");
    let mut all = vec![target(
        "direct to the stand-in, /v1/chat/completions (baseline)",
        "direct",
        Server::StandIn,
        format!("{origin}/v1/chat/completions"),
        chat(),
        &none,
        chunks,
    )];
    if let Some(nginx) = bases.nginx {
        all.push(target(
            "nginx, /v1/chat/completions (floor)",
            "nginx",
            Server::Nginx,
            format!("{nginx}/v1/chat/completions"),
            chat(),
            &none,
            chunks,
        ));
    }
    all.push(target(
        "gateway, OpenAI-compatible /v1/chat/completions (client key)",
        "gw-openai",
        Server::GatewayAuth,
        format!("{}/v1/chat/completions", bases.gateway_auth),
        chat(),
        &client_key_headers()?,
        chunks,
    ));
    let code = || {
        (
            code_completion_body(bases.stand_in_v1, false),
            code_completion_body(bases.stand_in_v1, true),
        )
    };
    let note = "vs. direct and nginx on /v1/chat/completions: the cost of one extra hop";
    for (label, name, server, base, headers) in [
        (
            "gateway, /v2/code/completions, auth on (OIDC token)",
            "gw-v2-auth",
            Server::GatewayAuth,
            bases.gateway_auth,
            gitlab_headers(token),
        ),
        (
            "gateway, /v2/code/completions, auth bypassed",
            "gw-v2-bypass",
            Server::GatewayBypass,
            bases.gateway_bypass,
            none,
        ),
    ] {
        let url = format!("{base}/v2/code/completions");
        let mut t = target(label, name, server, url, code(), &headers, chunks);
        t.note = Some(note.to_owned());
        all.push(t);
    }
    Ok(all)
}
