//! Unit tests of the fake over real HTTP, asserting the exact bytes a client reads.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use super::*;

fn ask(stream: bool) -> Value {
    json!({"model": "claude-test", "max_tokens": 100, "stream": stream,
           "messages": [{"role": "user", "content": "Say hi"}]})
}

/// A request as Anthropic's SDKs send it, with key `k`.
fn request(fake: &FakeAnthropic) -> reqwest::RequestBuilder {
    request_with(fake, Some("k"), true)
}

/// A request with `x-api-key: key` (if any) and `anthropic-version` (if `version`).
fn request_with(fake: &FakeAnthropic, key: Option<&str>, version: bool) -> reqwest::RequestBuilder {
    let mut r = reqwest::Client::new().post(format!("{}/v1/messages", fake.url()));
    if let Some(key) = key {
        r = r.header("x-api-key", key);
    }
    if version {
        r = r.header("anthropic-version", "2023-06-01");
    }
    r
}

async fn post(fake: &FakeAnthropic, body: &Value) -> reqwest::Response {
    request(fake).json(body).send().await.unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers()[name].to_str().unwrap()
}

/// The `(event, data)` pairs of an SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    assert!(body.ends_with("\n\n"), "{body:?}");
    body.trim_end()
        .split("\n\n")
        .map(|event| {
            let (name, data) = event.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(data["type"], name, "the data's type names its event");
            (name.to_owned(), data)
        })
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

/// The concatenated `field` of the deltas of block `index`.
fn joined(events: &[(String, Value)], index: u64, field: &str) -> String {
    events
        .iter()
        .filter(|(n, d)| n == "content_block_delta" && d["index"] == index)
        .map(|(_, d)| d["delta"][field].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_text_message_as_json() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::text("Hello there").chunks(3));
    let response = post(&fake, &ask(false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(
        header(&response, "request-id"),
        "req_01Fake000000000000000001"
    );
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"id":"msg_01Fake000000000000000001","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2,"output_tokens":3}}"#
    );
    let recorded = fake.last_request().unwrap();
    assert_eq!(
        (recorded.method.as_str(), recorded.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(recorded.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(recorded.body, ask(false));

    let default: Value = post(&fake, &ask(false)).await.json().await.unwrap();
    assert_eq!(default["content"][0]["text"], "Hello from the fake.");
    assert_eq!(default["id"], "msg_01Fake000000000000000002");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_text_message_as_a_stream() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::text("Hello there").chunks(2).usage(12, 5));
    let response = post(&fake, &ask(true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let body = response.text().await.unwrap();
    let expected = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_01Fake000000000000000001","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#,
        "\n\nevent: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        "\n\nevent: ping\n",
        r#"data: {"type":"ping"}"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}"#,
        "\n\nevent: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0}"#,
        "\n\nevent: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}"#,
        "\n\nevent: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    );
    assert_eq!(body, expected);

    // The default reply, in 4 deltas.
    fake.set_default(Reply::text("Hello from the fake.").chunks(4));
    let events = events(&post(&fake, &ask(true)).await.text().await.unwrap());
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(joined(&events, 0, "text"), "Hello from the fake.");
}

#[tokio::test]
async fn a_tool_call_streams_its_input_as_partial_json() {
    let fake = FakeAnthropic::start().await;
    let input = json!({"location": "San Francisco, CA", "unit": "celsius", "days": [1, 2]});
    let reply = Reply::tool_use("toolu_01A", "get_weather", input.clone())
        .with_text("Let me check.")
        .chunks(4);
    fake.script(reply.clone()).script(reply);

    let events = events(&post(&fake, &ask(true)).await.text().await.unwrap());
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(["content_block_delta"; 4]);
    expected.extend(["content_block_stop", "content_block_start"]);
    expected.extend(["content_block_delta"; 4]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names(&events), expected);
    assert_eq!(joined(&events, 0, "text"), "Let me check.");
    assert_eq!(
        events[8].1,
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}})
    );
    assert_eq!(events[9].1["delta"]["type"], "input_json_delta");
    let partial = joined(&events, 1, "partial_json");
    assert_eq!(partial, input.to_string());
    assert_eq!(serde_json::from_str::<Value>(&partial).unwrap(), input);
    assert_eq!(events[14].1["delta"]["stop_reason"], "tool_use");

    let message: Value = post(&fake, &ask(false)).await.json().await.unwrap();
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Let me check."},
               {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": input}])
    );
    assert_eq!(message["stop_reason"], "tool_use");
}

#[tokio::test]
async fn error_replies_have_anthropics_body_and_headers() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::error(529, "overloaded_error", "Overloaded"))
        .script(Reply::status(429))
        .script(Reply::status(429).retry_after("7"));
    let response = post(&fake, &ask(true)).await;
    assert_eq!(response.status(), 529);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(
        header(&response, "request-id"),
        "req_01Fake000000000000000001"
    );
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_01Fake000000000000000001"}"#
    );
    let limited = post(&fake, &ask(false)).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "retry-after"), "0");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(header(&post(&fake, &ask(false)).await, "retry-after"), "7");
}

#[tokio::test]
async fn require_key_refuses_wrong_and_missing_keys_without_using_the_script() {
    let fake = FakeAnthropic::start().await;
    fake.require_key("sk-right").script(Reply::text("granted"));
    let refused = |r: reqwest::RequestBuilder| async move {
        let response = r.json(&ask(false)).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let id = header(&response, "request-id").to_owned();
        let expected = format!(
            r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key"}},"request_id":"{id}"}}"#
        );
        assert_eq!(response.text().await.unwrap(), expected);
    };
    refused(request(&fake)).await;
    refused(request_with(&fake, None, true)).await;
    assert_eq!(fake.pending(), 1);

    let granted = request_with(&fake, Some("sk-right"), true)
        .json(&ask(false))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), 200);
    let body: Value = granted.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "granted");
    assert_eq!(fake.request_count(), 3, "refused requests are recorded too");
}

#[tokio::test]
async fn malformed_requests_get_400_without_using_the_script() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::text("kept"));
    let message = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        body["error"]["message"].as_str().unwrap().to_owned()
    };
    let mut no_max = ask(false);
    no_max.as_object_mut().unwrap().remove("max_tokens");
    assert_eq!(
        message(post(&fake, &no_max).await).await,
        "max_tokens: Field required"
    );
    no_max["max_tokens"] = Value::Null;
    assert_eq!(
        message(post(&fake, &no_max).await).await,
        "max_tokens: Field required"
    );
    no_max["max_tokens"] = json!("");
    assert!(
        message(post(&fake, &no_max).await)
            .await
            .starts_with("max_tokens: ")
    );

    let not_json = request(&fake)
        .header("content-type", "application/json")
        .body("{not json");
    let text = message(not_json.send().await.unwrap()).await;
    assert!(text.contains("parsing the body"), "{text}");

    let no_version = request_with(&fake, Some("k"), false).json(&ask(false));
    assert_eq!(
        message(no_version.send().await.unwrap()).await,
        "anthropic-version: header is required"
    );

    let other = reqwest::Client::new()
        .post(format!("{}/v1/complete", fake.url()))
        .json(&ask(false));
    let other = other.send().await.unwrap();
    assert_eq!(other.status(), 404);
    let body: Value = other.json().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");

    assert_eq!(fake.pending(), 1, "no refusal used the script");
    let kept: Value = post(&fake, &ask(false)).await.json().await.unwrap();
    assert_eq!(kept["content"][0]["text"], "kept");
}

#[tokio::test]
async fn stream_faults_error_end_or_drop_after_k_deltas() {
    let fake = FakeAnthropic::start().await;
    let reply = || Reply::text("abcdef").chunks(3);
    fake.script(reply().stream_error_after(1, "overloaded_error", "Overloaded"))
        .script(reply().cut_after(2))
        .script(reply().abort_after(1));

    let body = post(&fake, &ask(true)).await.text().await.unwrap();
    let errored = events(&body);
    let last = [
        "content_block_start",
        "ping",
        "content_block_delta",
        "error",
    ];
    assert_eq!(names(&errored)[1..], last);
    assert!(body.ends_with(concat!(
        "event: error\n",
        r#"data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        "\n\n"
    )));

    let cut = events(&post(&fake, &ask(true)).await.text().await.unwrap());
    assert_eq!(names(&cut).last(), Some(&"content_block_delta"));
    assert_eq!(joined(&cut, 0, "text"), "abcd");

    let mut body = post(&fake, &ask(true)).await.bytes_stream();
    let mut received = Vec::new();
    let mut broke = false;
    while let Some(piece) = body.next().await {
        match piece {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => broke = true,
        }
    }
    assert!(broke, "the body ends in an error, not a clean end");
    let received = String::from_utf8(received).unwrap();
    assert_eq!(joined(&events(&received), 0, "text"), "ab");
}

#[tokio::test]
async fn raw_bodies_delays_and_message_variants() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::raw_sse([
        "event: ping\ndata: {\"ty",
        "pe\":\"ping\"}\n\n",
    ]))
    .script(
        Reply::text("ab")
            .chunks(2)
            .first_byte_delay(Duration::from_millis(80))
            .chunk_delay(Duration::from_millis(40)),
    )
    .script(
        Reply::tool_use("toolu_1", "a", json!({}))
            .and_tool_use("toolu_2", "b", json!({"x": 1}))
            .usage(3, 4),
    )
    .script(Reply::text("x ##").stop_sequence("##"));

    let raw = post(&fake, &ask(false)).await;
    assert_eq!(
        header(&raw, "content-type"),
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(
        raw.text().await.unwrap(),
        "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    );

    let started = Instant::now();
    let slow = post(&fake, &ask(true)).await;
    assert!(started.elapsed() >= Duration::from_millis(80));
    let text = slow.text().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert_eq!(joined(&events(&text), 0, "text"), "ab");

    let parallel: Value = post(&fake, &ask(false)).await.json().await.unwrap();
    assert_eq!(parallel["content"][1]["input"], json!({"x": 1}));
    assert_eq!(
        parallel["usage"],
        json!({"input_tokens": 3, "output_tokens": 4})
    );
    assert_eq!(parallel["stop_reason"], "tool_use");

    let stopped: Value = post(&fake, &ask(false)).await.json().await.unwrap();
    assert_eq!(
        (
            stopped["stop_reason"].as_str(),
            stopped["stop_sequence"].as_str()
        ),
        (Some("stop_sequence"), Some("##"))
    );
    assert_eq!(fake.connections(), 4, "a new client per request");
}
