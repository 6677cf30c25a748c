//! Bodies, requests and an exact SSE reader for the v3/v4 code-suggestion tests.

pub(crate) use duo_testkit::openai::{FakeOpenAi, RecordedRequest, Reply};
pub(crate) use serde_json::{Value, json};

pub(crate) use crate::support::{client, config, start};

/// The F9 body: a `code_editor_completion` for `main.go` and `model_metadata` naming `family` at
/// `endpoint` as `identifier`.
pub(crate) fn completion(family: &str, endpoint: Option<&str>, identifier: &str) -> Value {
    json!({
        "prompt_components": [{"type": "code_editor_completion",
            "payload": {"file_name": "main.go", "content_above_cursor": "func hello_world(){\n\t",
                        "content_below_cursor": "\n}", "language_identifier": "go", "stream": false}}],
        "model_metadata": {"provider": "openai", "name": family, "endpoint": endpoint,
                           "api_key": "token", "identifier": identifier}
    })
}

/// The F10 body: a `code_editor_generation` with `prompt_id`, `prompt_version` and
/// `prompt_enhancer`, streaming.
pub(crate) fn generation(family: &str, endpoint: Option<&str>, identifier: &str) -> Value {
    let above = "package client\n\n// write a function to find min abs value from an array\n";
    json!({
        "prompt_components": [{"type": "code_editor_generation",
            "payload": {"file_name": "client.go", "language_identifier": "go",
                        "content_above_cursor": above, "content_below_cursor": "", "stream": true,
                        "prompt_id": "code_suggestions/generations", "prompt_version": "^1.0.0",
                        "prompt_enhancer": {"examples_array": [], "trimmed_content_above_cursor": above,
                                            "trimmed_content_below_cursor": "", "related_files": [],
                                            "related_snippets": [], "libraries": ["bytes", "context"],
                                            "user_instruction": "// write a function to find min abs value from an array"}}}],
        "model_metadata": {"provider": "api", "name": family, "endpoint": endpoint, "api_key": null,
                           "identifier": identifier}
    })
}

/// Sets `prompt_components[0].payload.stream`.
pub(crate) fn streaming(mut body: Value, stream: bool) -> Value {
    body["prompt_components"][0]["payload"]["stream"] = json!(stream);
    body
}

/// POSTs `body` to `url`; returns the status and the JSON body (`Null` if not JSON).
pub(crate) async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let res = client().post(url).json(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// One server-sent event: its name and its data, parsed as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) name: String,
    pub(crate) data: Value,
}

/// Parses an SSE body that must be framed exactly as `event: X\r\ndata: Y\r\n\r\n` per event;
/// panics on anything else (an LF-only line, a comment, a missing blank line).
pub(crate) fn parse_sse(body: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (frame, after) = rest
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("unterminated event in {body:?}"));
        let (event_line, data_line) = frame
            .split_once("\r\n")
            .unwrap_or_else(|| panic!("event without data line: {frame:?}"));
        let name = event_line
            .strip_prefix("event: ")
            .unwrap_or_else(|| panic!("not an event line: {event_line:?}"));
        let data = data_line
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("not a data line: {data_line:?}"));
        assert!(
            !data.contains('\n') && !name.contains('\n'),
            "bare LF in {frame:?}"
        );
        events.push(Event {
            name: name.to_owned(),
            data: serde_json::from_str(data).unwrap_or_else(|e| panic!("{data:?}: {e}")),
        });
        rest = after;
    }
    events
}

/// The text of the `content_chunk` events, checking each has exactly the reference's shape.
pub(crate) fn content_of(events: &[Event]) -> String {
    events
        .iter()
        .filter(|e| e.name == "content_chunk")
        .map(|e| {
            let text = e.data["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                e.data,
                json!({"choices": [{"delta": {"content": text}, "index": 0}]})
            );
            text
        })
        .collect()
}

/// Checks a complete v4 stream: `stream_start` first, `stream_end` (data `null`) last, only
/// content chunks between; returns the streamed text.
pub(crate) fn complete_stream_text(events: &[Event]) -> String {
    assert!(events.len() >= 2, "{events:?}");
    assert_eq!(events[0].name, "stream_start");
    let last = events.last().unwrap();
    assert_eq!(
        (last.name.as_str(), &last.data),
        ("stream_end", &Value::Null)
    );
    assert!(
        events[1..events.len() - 1]
            .iter()
            .all(|e| e.name == "content_chunk"),
        "{events:?}"
    );
    content_of(events)
}

/// The text the upstream was asked: the chat messages joined, or the raw prompt.
pub(crate) fn upstream_text(req: &RecordedRequest) -> String {
    match req.body.get("messages").and_then(Value::as_array) {
        Some(messages) => messages
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        None => req.body["prompt"].as_str().unwrap_or_default().to_owned(),
    }
}
