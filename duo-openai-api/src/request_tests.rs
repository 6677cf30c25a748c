//! Request parsing: every OpenAI body shape accepted, every bad field a 400 naming it.
use super::*;
use axum::response::IntoResponse;
use serde_json::{Value, json};

fn error_of(result: Result<Parsed, OpenAiError>) -> Value {
    let response = result.unwrap_err().into_response();
    assert_eq!(response.status().as_u16(), 400);
    let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 16));
    serde_json::from_slice(&body.unwrap()).unwrap()
}

fn chat_json(v: &Value) -> Result<Parsed, OpenAiError> {
    chat(parse_json(v.to_string().as_bytes())?)
}

fn completion_json(v: &Value) -> Result<Parsed, OpenAiError> {
    completion(parse_json(v.to_string().as_bytes())?)
}

#[test]
fn chat_maps_messages_and_params() {
    let p = chat_json(&json!({
        "model": "m", "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "assistant", "content": null},
            {"role": "user", "content": "c"}],
        "max_tokens": 5, "max_completion_tokens": 9, "temperature": 0.5, "top_p": 0.9,
        "stop": "END", "stream": true, "stream_options": {"include_usage": true}
    }))
    .unwrap();
    assert_eq!(p.model, "m");
    assert!(p.stream && p.include_usage);
    assert_eq!(
        p.request.prompt,
        Prompt::Chat(vec![
            Message::system("be brief"),
            Message::user("a\nb"),
            Message::assistant(""),
            Message::user("c"),
        ])
    );
    assert_eq!(p.request.params.max_tokens, Some(9));
    assert_eq!(p.request.params.temperature, Some(0.5));
    assert_eq!(p.request.params.top_p, Some(0.9));
    assert_eq!(p.request.params.stop, ["END"]);
}

#[test]
fn a_tool_conversation_maps_to_tools_calls_and_results() {
    let p = chat_json(&json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
             "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "12 °C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather",
                   "parameters": {"type": "object"}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": false
    }))
    .unwrap();
    assert_eq!(
        p.request.prompt,
        Prompt::Chat(vec![
            Message::user("Weather in Oslo?"),
            Message::assistant_tool_calls(
                "",
                vec![duo_core::ToolCall::new(
                    "call_1",
                    "get_weather",
                    "{\"city\":\"Oslo\"}"
                )]
            ),
            Message::tool_result("call_1", "12 °C"),
        ])
    );
    assert_eq!(p.request.tools.len(), 1);
    assert_eq!(p.request.tool_choice, duo_core::ToolChoice::Auto);
}

#[test]
fn completions_map_prompt_suffix_and_stop_lists() {
    let p = completion_json(&json!({"model": "m", "prompt": ["def f("], "stop": ["\n\n", "#"]}))
        .unwrap();
    assert_eq!(p.request.prompt, Prompt::Text("def f(".into()));
    assert_eq!(p.request.params.stop, ["\n\n", "#"]);
    assert!(!p.stream);
    let p = completion_json(&json!({"model": "m", "prompt": "a", "suffix": "b", "max_tokens": 3}))
        .unwrap();
    assert_eq!(
        p.request.prompt,
        Prompt::FillInTheMiddle {
            prefix: "a".into(),
            suffix: "b".into()
        }
    );
    assert_eq!(p.request.params.max_tokens, Some(3));
}

#[test]
fn bad_fields_are_named_in_param() {
    let cases = [
        (json!({"messages": []}), "model"),
        (json!({"model": "m"}), "messages"),
        (json!({"model": "m", "messages": []}), "messages"),
        (
            json!({"model": "m", "messages": [{"role": "user"}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "function", "content": "x", "name": "f"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x",
                   "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f"}}]}]}),
            "messages[0].tool_calls",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "content": null,
                   "tool_calls": [{"id": "", "type": "function", "function": {"name": "f"}}]}]}),
            "messages[0].tool_calls[0].id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}),
            "tool_choice",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3}),
            "temperature",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": -1}),
            "top_p",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": "many"}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 0}),
            "max_completion_tokens",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}),
            "n",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": ["a", ""]}),
            "stop[1]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}}),
            "stream_options",
        ),
    ];
    for (body, param) in cases {
        let e = error_of(chat_json(&body));
        assert_eq!(e["error"]["param"], param, "{body}: {e}");
        assert_eq!(e["error"]["type"], "invalid_request_error");
    }
    let cases = [
        (json!({"model": "m"}), "prompt"),
        (json!({"model": "m", "prompt": ["a", "b"]}), "prompt"),
        (json!({"model": "m", "prompt": [1, 2]}), "prompt"),
        (json!({"model": "m", "prompt": "a", "echo": true}), "echo"),
        (
            json!({"model": "m", "prompt": "a", "best_of": 3}),
            "best_of",
        ),
    ];
    for (body, param) in cases {
        let e = error_of(completion_json(&body));
        assert_eq!(e["error"]["param"], param, "{body}: {e}");
    }
}

#[test]
fn broken_bodies_are_400_without_param() {
    for body in [
        "",
        "  ",
        "{",
        "[1]",
        "{\"model\": \"m\", \"messages\": []} x",
    ] {
        let e =
            error_of(parse_json::<ChatCompletionRequest>(body.as_bytes()).map(|_| unreachable!()));
        assert_eq!(e["error"]["param"], Value::Null, "{body}: {e}");
        assert_eq!(e["error"]["code"], Value::Null);
    }
}
