//! Unit tests of the fake's counters over real HTTP.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::*;

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never true: {what}");
}

#[tokio::test]
async fn streams_count_as_finished_or_cancelled_and_connections_close() {
    let fake = FakeOpenAi::start().await;
    fake.record_requests(false);
    fake.set_default(
        Reply::stream("one two three four")
            .chunks(4)
            .chunk_delay(Duration::from_millis(20)),
    );
    fake.set_model_default("fast", Reply::stream("quick").chunks(2));
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", fake.url());
    let ask = |model: &str| json!({"model": model, "stream": true, "messages": []});

    let full = client.post(&url).json(&ask("slow")).send().await.unwrap();
    let text = full.text().await.unwrap();
    assert!(
        text.contains("four") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    let fast = client.post(&url).json(&ask("fast")).send().await.unwrap();
    assert!(fast.text().await.unwrap().contains(r#""content":"ick""#));
    assert_eq!(fake.open_connections(), 1, "one pooled connection");

    let mut cut = client
        .post(&url)
        .json(&ask("slow"))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    cut.next().await.unwrap().unwrap();
    assert_eq!(fake.stream_stats().open, 1);
    drop(cut);
    eventually("the dropped stream is cancelled", || {
        fake.stream_stats().cancelled == 1
    })
    .await;
    let stats = fake.stream_stats();
    assert_eq!((stats.open, stats.finished, stats.peak_open), (0, 2, 1));
    assert!(fake.requests().is_empty(), "recording was off");
    eventually("the cut connection closes", || fake.open_connections() == 0).await;
    assert_eq!(
        fake.connections(),
        1,
        "all three requests on the pooled connection"
    );
}

const WEATHER_ARGS: &str = r#"{"city":"Paris"}"#;

fn weather_tools() -> serde_json::Value {
    json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
           {"type": "function", "function": {"name": "get_time"}}])
}

async fn post(fake: &FakeOpenAi, path: &str, body: &serde_json::Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", fake.azure_url()))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_tool_call_answer_is_a_message_with_tool_calls() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::tool_call("call_1", "get_weather", WEATHER_ARGS).usage(9, 4));
    fake.script(
        Reply::tool_call("call_1", "get_weather", WEATHER_ARGS)
            .and_tool_call("call_2", "get_time", "{}")
            .with_text("Let me check."),
    );
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "weather?"}], "tools": weather_tools(), "tool_choice": "auto"});

    let (status, text) = post(&fake, "/v1/chat/completions", &body).await;
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        json!({
            "id": "cmpl-fake-1", "object": "chat.completion", "created": 1_732_450_000, "model": "m",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                "logprobs": null,
                "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        })
    );

    let (_, text) = post(
        &fake,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
        &body,
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let choice = &answer["choices"][0];
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": WEATHER_ARGS}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]})
    );
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(answer["model"], "gpt-4o");
    assert!(answer["prompt_filter_results"].is_array(), "{answer}");
}

#[tokio::test]
async fn a_streamed_tool_call_answer_is_sent_as_openai_streams_it() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::tool_call("call_1", "get_weather", WEATHER_ARGS)
            .and_tool_call("call_2", "get_time", "{}")
            .chunks(2)
            .usage(5, 7),
    );
    let body = json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "weather?"}], "tools": weather_tools()});
    let (status, text) = post(&fake, "/v1/chat/completions", &body).await;
    assert_eq!(status, 200);

    let envelope =
        r#""created":1732450000,"id":"cmpl-fake-1","model":"m","object":"chat.completion.chunk""#;
    let event = |delta: &str, finish: &str| {
        format!(
            "data: {{\"choices\":[{{\"delta\":{delta},\"finish_reason\":{finish},\"index\":0,\"logprobs\":null}}],{envelope},\"usage\":null}}\n\n"
        )
    };
    let expected = [
        event(r#"{"content":"","role":"assistant"}"#, "null"),
        event(
            r#"{"tool_calls":[{"function":{"arguments":"","name":"get_weather"},"id":"call_1","index":0,"type":"function"}]}"#,
            "null",
        ),
        event(r#"{"tool_calls":[{"function":{"arguments":"{\"city\":"},"index":0}]}"#, "null"),
        event(r#"{"tool_calls":[{"function":{"arguments":"\"Paris\"}"},"index":0}]}"#, "null"),
        event(
            r#"{"tool_calls":[{"function":{"arguments":"","name":"get_time"},"id":"call_2","index":1,"type":"function"}]}"#,
            "null",
        ),
        event(r#"{"tool_calls":[{"function":{"arguments":"{"},"index":1}]}"#, "null"),
        event(r#"{"tool_calls":[{"function":{"arguments":"}"},"index":1}]}"#, "null"),
        event("{}", r#""tool_calls""#),
        format!(
            "data: {{\"choices\":[],{envelope},\"usage\":{{\"completion_tokens\":7,\"prompt_tokens\":5,\"total_tokens\":12}}}}\n\n"
        ),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    assert_eq!(text, expected);
}

#[tokio::test]
async fn stream_faults_count_tool_call_chunks_after_the_text() {
    let fake = FakeOpenAi::start().await;
    // content chunks: "Hi", the opening of call_1, then its arguments in 2 pieces
    fake.script(
        Reply::tool_call("call_1", "get_weather", WEATHER_ARGS)
            .with_text("Hi")
            .chunks(2)
            .end_after(3),
    );
    let body = json!({"model": "m", "stream": true, "messages": [], "tools": weather_tools()});
    let (_, text) = post(&fake, "/v1/chat/completions", &body).await;
    let deltas: Vec<serde_json::Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|data| {
            serde_json::from_str::<serde_json::Value>(data).unwrap()["choices"][0]["delta"].clone()
        })
        .collect();
    assert_eq!(
        deltas,
        [
            json!({"role": "assistant", "content": ""}),
            json!({"content": "H"}),
            json!({"content": "i"}),
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        ]
    );
}

#[tokio::test]
async fn malformed_tool_requests_get_openai_400s_and_keep_the_script() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("kept"));
    let call = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": WEATHER_ARGS}}]});
    let cases = [
        (
            json!({"tools": [{"function": {"name": "get_weather"}}]}),
            r#"{"error":{"code":"missing_required_parameter","message":"Missing required parameter: 'tools[0].type'.","param":"tools[0].type","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tools": [{"type": "function", "function": {"name": "a"}}, {"type": "retrieval", "function": {"name": "b"}}]}),
            r#"{"error":{"code":"invalid_value","message":"Invalid value: 'retrieval'. Supported values are: 'function'.","param":"tools[1].type","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tools": [{"type": "function", "function": {"description": "no name"}}]}),
            r#"{"error":{"code":"missing_required_parameter","message":"Missing required parameter: 'tools[0].function.name'.","param":"tools[0].function.name","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tool_choice": "auto"}),
            r#"{"error":{"code":null,"message":"Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.","param":"tool_choice","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tools": weather_tools(), "messages": [{"role": "user", "content": "weather?"}, call, {"role": "tool", "content": "sunny"}]}),
            r#"{"error":{"code":null,"message":"Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.","param":"messages.[2].tool_call_id","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tools": weather_tools(), "messages": [{"role": "user", "content": "weather?"}, {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]}),
            r#"{"error":{"code":null,"message":"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.","param":"messages.[1].role","type":"invalid_request_error"}}"#,
        ),
        (
            json!({"tools": weather_tools(), "messages": [{"role": "user", "content": "weather?"}, call, {"role": "tool", "tool_call_id": "call_2", "content": "sunny"}]}),
            r#"{"error":{"code":null,"message":"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.","param":"messages.[2].role","type":"invalid_request_error"}}"#,
        ),
    ];
    for (i, (mut body, expected)) in cases.into_iter().enumerate() {
        body["model"] = json!("m");
        let (status, text) = post(&fake, "/v1/chat/completions", &body).await;
        assert_eq!((status, text.as_str()), (400, expected), "case {i}");
        let (status, text) = post(
            &fake,
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            &body,
        )
        .await;
        assert_eq!(
            (status, text.as_str()),
            (400, expected),
            "case {i} on Azure"
        );
    }
    assert_eq!(fake.pending(), 1, "no scripted reply was consumed");
    assert_eq!(
        fake.request_count(),
        14,
        "the refused requests are recorded"
    );

    let answered = json!({"model": "m", "tools": weather_tools(), "messages": [
        {"role": "user", "content": "weather?"}, call, {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]});
    let (status, text) = post(&fake, "/v1/chat/completions", &answered).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""content":"kept""#), "{text}");
}
