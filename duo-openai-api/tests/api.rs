//! Black-box tests of the OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`,
//! `/v1/completions`): its router alone over loopback HTTP in front of fake vLLM, Azure OpenAI
//! and Bedrock upstreams speaking their real protocols (`api/stand.rs`). How the gateway mounts
//! it is tested in `duo-gateway/tests/openai_mount.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/stand.rs"]
mod stand;

#[path = "api/errors.rs"]
mod errors;
#[path = "api/routes.rs"]
mod routes;
#[path = "api/streaming.rs"]
mod streaming;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A JSON answer: status, headers, body.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON (a JSON string when it was not JSON).
    pub body: Value,
}

/// `POST {path}` with `body` and `Authorization: Bearer {key}` (none when `key` is `None`).
pub async fn post(stand: &stand::Stand, path: &str, key: Option<&str>, body: &Value) -> Answer {
    let mut req = reqwest::Client::new().post(stand.url(path)).json(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    answer(req.send().await.unwrap()).await
}

/// `GET {path}` with the stand's key.
pub async fn get(stand: &stand::Stand, path: &str) -> Answer {
    let res = reqwest::Client::new()
        .get(stand.url(path))
        .bearer_auth(stand::KEY)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// A streamed answer: the bytes received and whether the body ended in an error (aborted).
pub struct Streamed {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`.
    pub content_type: String,
    /// Every byte received, as text.
    pub raw: String,
    /// Whether the body ended in an error (the connection was aborted).
    pub aborted: bool,
}

impl Streamed {
    /// The `data:` payloads, in order (`[DONE]` included as is).
    pub fn events(&self) -> Vec<String> {
        self.raw
            .split_terminator("\n\n")
            .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_owned())
            .collect()
    }

    /// The JSON chunks (every event but `[DONE]`).
    pub fn chunks(&self) -> Vec<Value> {
        self.events()
            .iter()
            .filter(|e| *e != "[DONE]")
            .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("{err}: {e}")))
            .collect()
    }

    /// The streamed text: `delta.content` (chat) or `text` (completions) of every chunk.
    pub fn text(&self) -> String {
        self.chunks()
            .iter()
            .filter_map(|c| {
                let choice = c["choices"].get(0)?;
                choice["delta"]["content"]
                    .as_str()
                    .or(choice["text"].as_str())
                    .map(str::to_owned)
            })
            .collect()
    }
}

/// `POST {path}` with the stand's key, reading the body as a stream.
pub async fn stream(stand: &stand::Stand, path: &str, body: &Value) -> Streamed {
    use futures::StreamExt;
    let res = reqwest::Client::new()
        .post(stand.url(path))
        .bearer_auth(stand::KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut bytes = Vec::new();
    let mut aborted = false;
    let mut body = res.bytes_stream();
    let read = async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => bytes.extend_from_slice(&b),
                Err(_) => {
                    aborted = true;
                    break;
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the stream ended (no hang)");
    Streamed {
        status,
        content_type,
        raw: String::from_utf8(bytes).unwrap(),
        aborted,
    }
}

/// The body a chat request sends for `model`.
pub fn chat_body(model: &str) -> Value {
    serde_json::json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello."}
        ],
        "max_tokens": 32, "temperature": 0.2, "stop": ["\n\n"]
    })
}

/// The body a completions request sends for `model`.
pub fn completion_body(model: &str) -> Value {
    serde_json::json!({"model": model, "prompt": "def add(a, b):", "max_tokens": 16, "stop": "\n\n"})
}
