//! Unit tests of the fake over real HTTP, asserting the exact bytes a client reads.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use super::*;

pub(super) const TOKEN: &str = "ya29.test-token";

pub(super) fn url(fake: &FakeVertex, publisher: &str, model_and_method: &str) -> String {
    format!(
        "{}/v1/projects/test-project/locations/us-central1/publishers/{publisher}/models/{model_and_method}",
        fake.url()
    )
}

pub(super) fn ask() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]})
}

pub(super) async fn post(url: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(super) async fn gemini(fake: &FakeVertex, method: &str, body: &Value) -> reqwest::Response {
    post(
        &url(fake, "google", &format!("gemini-2.5-flash:{method}")),
        body,
    )
    .await
}

pub(super) fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers()[name].to_str().unwrap()
}

/// The JSON data of each event of an SSE body framed with CRLF, as Vertex frames it.
fn events(body: &str) -> Vec<Value> {
    assert!(body.ends_with("\r\n\r\n"), "{body:?}");
    body.strip_suffix("\r\n\r\n")
        .unwrap()
        .split("\r\n\r\n")
        .map(|event| serde_json::from_str(event.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

/// The concatenated text parts of streamed responses.
fn joined(events: &[Value]) -> String {
    events
        .iter()
        .flat_map(|e| {
            e["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}

/// The `(status, message)` of a Google error answer, checking its shape.
pub(super) async fn google_error(response: reqwest::Response) -> (u16, String, String) {
    let code = response.status().as_u16();
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=UTF-8"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let status = body["error"]["status"].as_str().unwrap().to_owned();
    (
        code,
        status,
        body["error"]["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn gemini_answers_one_response_in_vertexs_shape() {
    let fake = FakeVertex::start().await;
    fake.script(Reply::text("Hello there").usage(4, 2));
    let response = gemini(&fake, "generateContent", &ask()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=UTF-8"
    );
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6},"modelVersion":"gemini-2.5-flash","createTime":"2025-01-01T00:00:00.000000Z","responseId":"fake-response-000001"}"#
    );
    let recorded = fake.last_request().unwrap();
    assert_eq!(recorded.method(), "POST");
    assert_eq!(
        recorded.path(),
        "/v1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    let route = recorded.route().unwrap();
    assert_eq!(
        (
            route.project.as_str(),
            route.location.as_str(),
            route.method.as_str()
        ),
        ("test-project", "us-central1", "generateContent")
    );
    assert_eq!(recorded.bearer(), Some(TOKEN));
    assert_eq!(
        recorded.header("Authorization"),
        Some("Bearer ya29.test-token")
    );
    assert_eq!(recorded.body(), &ask());

    // The default reply; usage counts the prompt's words and the chunks.
    let default: Value = gemini(&fake, "generateContent", &ask())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        default["candidates"][0]["content"]["parts"],
        json!([{"text": "Hello from the fake."}])
    );
    assert_eq!(
        default["usageMetadata"],
        json!({"promptTokenCount": 2, "candidatesTokenCount": 3, "totalTokenCount": 5})
    );
    assert_eq!(default["responseId"], "fake-response-000002");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn an_sse_stream_has_vertexs_exact_bytes() {
    let fake = FakeVertex::start().await;
    fake.script(Reply::text("Hi there").chunks(["Hi", " there"]));
    let response = gemini(&fake, "streamGenerateContent?alt=sse", &ask()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/event-stream");
    let expected = concat!(
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}],"modelVersion":"gemini-2.5-flash","createTime":"2025-01-01T00:00:00.000000Z","responseId":"fake-response-000001"}"#,
        "\r\n\r\n",
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":" there"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":2,"totalTokenCount":4},"modelVersion":"gemini-2.5-flash","createTime":"2025-01-01T00:00:00.000000Z","responseId":"fake-response-000001"}"#,
        "\r\n\r\n",
    );
    assert_eq!(response.text().await.unwrap(), expected);
    assert_eq!(fake.last_request().unwrap().query_param("alt"), Some("sse"));

    // The default reply streams in 3 chunks; only the last one finishes.
    let body = gemini(&fake, "streamGenerateContent?alt=sse", &ask())
        .await
        .text()
        .await
        .unwrap();
    let events = events(&body);
    assert_eq!(events.len(), 3);
    assert_eq!(joined(&events), "Hello from the fake.");
    assert!(
        events[..2]
            .iter()
            .all(|e| e["candidates"][0].get("finishReason").is_none()
                && e.get("usageMetadata").is_none())
    );
    assert_eq!(events[2]["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn without_alt_sse_the_stream_is_one_json_array() {
    let fake = FakeVertex::start().await;
    fake.script(Reply::text("abc").split_into(3).finish_reason("MAX_TOKENS"));
    let response = gemini(&fake, "streamGenerateContent", &ask()).await;
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=UTF-8"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("[{\"candidates\"") && body.ends_with("}]"),
        "{body}"
    );
    assert_eq!(body.matches(",\r\n{").count(), 2, "{body}");
    let responses: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(joined(&responses), "abc");
    assert_eq!(responses[2]["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(responses[2]["usageMetadata"]["candidatesTokenCount"], 3);
}

#[tokio::test]
async fn function_calls_arrive_whole_after_the_text() {
    let fake = FakeVertex::start().await;
    let reply = Reply::function_call("get_weather", json!({"city": "Paris", "days": [1, 2]}))
        .and_function_call("get_time", json!({"tz": "CET"}))
        .with_text("Checking.");
    fake.script(reply.clone().chunks(["Check", "ing."]))
        .script(reply);

    let body = gemini(&fake, "streamGenerateContent?alt=sse", &ask())
        .await
        .text()
        .await
        .unwrap();
    let events = events(&body);
    assert_eq!(events.len(), 3);
    assert_eq!(joined(&events), "Checking.");
    assert_eq!(
        events[2]["candidates"][0],
        json!({"content": {"role": "model", "parts": [
                  {"functionCall": {"name": "get_weather", "args": {"city": "Paris", "days": [1, 2]}}},
                  {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}}]},
               "finishReason": "STOP"})
    );

    let whole: Value = gemini(&fake, "generateContent", &ask())
        .await
        .json()
        .await
        .unwrap();
    let parts = &whole["candidates"][0]["content"]["parts"];
    assert_eq!(parts[0], json!({"text": "Checking."}));
    assert_eq!(parts[2]["functionCall"]["name"], "get_time");
    assert_eq!(whole["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn truncated_errored_and_dropped_streams() {
    let fake = FakeVertex::start().await;
    let reply = || Reply::text("abc").chunks(["a", "b", "c"]);
    fake.script(reply().cut_after(2))
        .script(reply().stream_error_after(1))
        .script(reply().stream_error(0, 503).message("Overloaded."))
        .script(reply().abort_after(1));
    let body = ask();
    let stream = || gemini(&fake, "streamGenerateContent?alt=sse", &body);

    let cut = stream().await.text().await.unwrap();
    let cut = events(&cut);
    assert_eq!(joined(&cut), "ab");
    assert!(
        cut.iter()
            .all(|e| e["candidates"][0].get("finishReason").is_none()
                && e.get("usageMetadata").is_none())
    );

    let errored = stream().await.text().await.unwrap();
    assert!(
        errored.ends_with(concat!(
            r#"data: {"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}"#,
            "\r\n\r\n"
        )),
        "{errored}"
    );
    assert_eq!(joined(&events(&errored)), "a");

    let first = stream().await.text().await.unwrap();
    assert_eq!(
        events(&first),
        [json!({"error": {"code": 503, "message": "Overloaded.", "status": "UNAVAILABLE"}})]
    );

    let mut body = stream().await.bytes_stream();
    let (mut received, mut broke) = (Vec::new(), false);
    while let Some(piece) = body.next().await {
        match piece {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => broke = true,
        }
    }
    assert!(broke, "the body ends in an error, not a clean end");
    assert_eq!(joined(&events(&String::from_utf8(received).unwrap())), "a");
}

#[tokio::test]
async fn scripted_statuses_are_googles_errors() {
    let fake = FakeVertex::start().await;
    fake.script_all([
        Reply::status(429),
        Reply::status(503),
        Reply::status(500),
        Reply::status(403).message("Permission denied on project test-project."),
        Reply::status(400),
    ]);
    let limited = gemini(&fake, "streamGenerateContent?alt=sse", &ask()).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(
        limited.text().await.unwrap(),
        "{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.\",\n    \"status\": \"RESOURCE_EXHAUSTED\"\n  }\n}\n"
    );
    let expected = [
        (503, "UNAVAILABLE", "The service is currently unavailable."),
        (500, "INTERNAL", "Internal error encountered."),
        (
            403,
            "PERMISSION_DENIED",
            "Permission denied on project test-project.",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            "Request contains an invalid argument.",
        ),
    ];
    for (code, status, message) in expected {
        let got = google_error(gemini(&fake, "generateContent", &ask()).await).await;
        assert_eq!(got, (code, status.to_owned(), message.to_owned()));
    }
    assert_eq!(fake.pending(), 0);
}

#[tokio::test]
async fn slow_streams_wait_before_each_chunk() {
    let fake = FakeVertex::start().await;
    let delay = Duration::from_millis(40);
    fake.script(
        Reply::text("ab")
            .chunks(["a", "b"])
            .delay_before_each(delay),
    )
    .script(Reply::text("whole").delay_before_each(delay))
    .script(Reply::raw_sse("data: {\"cand"));
    let started = Instant::now();
    let body = gemini(&fake, "streamGenerateContent?alt=sse", &ask())
        .await
        .text()
        .await
        .unwrap();
    assert!(started.elapsed() >= delay * 2, "{:?}", started.elapsed());
    assert_eq!(joined(&events(&body)), "ab");

    let started = Instant::now();
    let whole: Value = gemini(&fake, "generateContent", &ask())
        .await
        .json()
        .await
        .unwrap();
    assert!(started.elapsed() >= delay);
    assert_eq!(
        whole["candidates"][0]["content"]["parts"][0]["text"],
        "whole"
    );

    let raw = gemini(&fake, "generateContent", &ask()).await;
    assert_eq!(header(&raw, "content-type"), "text/event-stream");
    assert_eq!(raw.text().await.unwrap(), "data: {\"cand");
}
