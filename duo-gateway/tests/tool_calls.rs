//! Native tool calling through the OpenAI-compatible API, for every provider, streamed and not:
//! the request's `tools`, `tool_choice` and tool conversation reach each upstream in its own
//! wire, and the upstream's calls come back as OpenAI's `tool_calls`.

#![cfg(feature = "openai-api")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_core::Secret;
use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
use duo_testkit::anthropic::{self, FakeAnthropic};
use duo_testkit::bedrock::{self, FakeBedrock};
use duo_testkit::google_oauth::FakeGoogleOAuth;
use duo_testkit::openai::{self, FakeOpenAi};
use duo_testkit::vertex::{self, FakeVertex};
use serde_json::{Value, json};
use support::{client, config, start};

const CLIENT_KEY: &str = "sk-openai-client-tools-0123";

/// One model of the gateway's OpenAI-compatible API.
fn model(name: &str, identifier: &str, endpoint: Option<String>) -> OpenAiModelConfig {
    let operator_credentials =
        identifier.starts_with("bedrock/") || identifier.starts_with("vertex_ai/");
    OpenAiModelConfig {
        name: name.into(),
        identifier: identifier.into(),
        endpoint,
        api_key: (!operator_credentials).then(|| Secret::new("upstream-key")),
        api_key_env: None,
        api_key_file: None,
        family: None,
    }
}

/// The fakes, and the gateway serving one model on each.
struct Upstreams {
    openai: FakeOpenAi,
    anthropic: FakeAnthropic,
    bedrock: FakeBedrock,
    vertex: FakeVertex,
    _google: FakeGoogleOAuth,
    _keys: tempfile::TempDir,
    gateway: support::TestGateway,
}

async fn upstreams() -> Upstreams {
    let openai = FakeOpenAi::start().await;
    let anthropic = FakeAnthropic::start().await;
    let bedrock = FakeBedrock::start().await;
    let vertex = FakeVertex::start().await;
    let google = FakeGoogleOAuth::start().await;
    vertex.trust(&google);
    let keys = tempfile::tempdir().unwrap();
    let mut c = config();
    c.providers.vertex.project = Some("acme-ai".into());
    c.providers.vertex.endpoint = Some(vertex.url());
    c.providers.vertex.credentials_file = Some(google.write_service_account(keys.path()).unwrap());
    c.providers.anthropic.base_url = anthropic.url();
    c.providers.openai.base_url = openai.url();
    c.providers.bedrock.endpoint_url = Some(bedrock.url());
    c.providers.bedrock.region = Some("eu-west-1".into());
    c.providers.bedrock.access_key_id = Some("AKIDTOOLS".into());
    c.providers.bedrock.secret_access_key = Some(Secret::new("tools-secret"));
    c.openai_api.enabled = true;
    c.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new(CLIENT_KEY))];
    c.openai_api.models = vec![
        model("vllm", "custom_openai/qwen3-coder", Some(openai.url())),
        model("azure", "azure/gpt-4o-deploy", Some(openai.azure_url())),
        model("openai", "openai/gpt-4.1", None),
        model("anthropic", "anthropic/claude-sonnet-4-5", None),
        model("bedrock", "bedrock/anthropic.claude-sonnet-4-5-v1:0", None),
        model("gemini", "vertex_ai/gemini-2.5-pro", None),
        model(
            "claude-vertex",
            "vertex_ai/claude-sonnet-4-5@20250929",
            None,
        ),
    ];
    let gateway = start(c).await;
    Upstreams {
        openai,
        anthropic,
        bedrock,
        vertex,
        _google: google,
        _keys: keys,
        gateway,
    }
}

/// A chat request with one tool, the model's earlier call and its result.
fn body(model: &str, stream: bool) -> Value {
    json!({
        "model": model, "stream": stream,
        "messages": [
            {"role": "system", "content": "Use the tools."},
            {"role": "user", "content": "Weather in Oslo and Bergen?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "12 °C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather",
                   "description": "Current weather of a city",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                  "required": ["city"]}}}],
        "tool_choice": "required"
    })
}

/// The calls of an answer, streamed or not, as `(id, name, arguments)`, and its finish reason.
async fn calls_of(res: reqwest::Response, stream: bool) -> (Vec<(String, String, String)>, String) {
    assert_eq!(res.status(), 200);
    if !stream {
        let v: Value = res.json().await.unwrap();
        let choice = &v["choices"][0];
        let calls = choice["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                assert_eq!(c["type"], "function");
                (
                    c["id"].as_str().unwrap().to_owned(),
                    c["function"]["name"].as_str().unwrap().to_owned(),
                    c["function"]["arguments"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(choice["message"]["content"], Value::Null, "{v}");
        return (calls, choice["finish_reason"].as_str().unwrap().to_owned());
    }
    let text = res.text().await.unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let mut finish = String::new();
    for data in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if data == "[DONE]" {
            continue;
        }
        let chunk: Value = serde_json::from_str(data).unwrap();
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish = reason.to_owned();
        }
        for piece in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let index = usize::try_from(piece["index"].as_u64().unwrap()).unwrap();
            if index == calls.len() {
                assert_eq!(piece["type"], "function", "{piece}");
                calls.push((
                    piece["id"].as_str().unwrap().to_owned(),
                    piece["function"]["name"].as_str().unwrap().to_owned(),
                    String::new(),
                ));
            } else {
                assert!(
                    piece.get("id").is_none(),
                    "id only on the first piece: {piece}"
                );
            }
            calls[index].2 += piece["function"]["arguments"].as_str().unwrap();
        }
    }
    (calls, finish)
}

fn ask(up: &Upstreams, model: &str, stream: bool) -> reqwest::RequestBuilder {
    client()
        .post(up.gateway.url("/v1/chat/completions"))
        .bearer_auth(CLIENT_KEY)
        .json(&body(model, stream))
}

fn expected() -> Vec<(String, String, String)> {
    vec![(
        "call_1".to_owned(),
        "get_weather".to_owned(),
        "{\"city\":\"Bergen\"}".to_owned(),
    )]
}

#[tokio::test]
async fn openai_style_upstreams_get_tools_and_the_conversation_and_answer_tool_calls() {
    let up = upstreams().await;
    up.openai.set_default(openai::Reply::tool_call(
        "call_1",
        "get_weather",
        "{\"city\":\"Bergen\"}",
    ));
    for name in ["vllm", "azure", "openai"] {
        for stream in [false, true] {
            let (calls, finish) =
                calls_of(ask(&up, name, stream).send().await.unwrap(), stream).await;
            let case = format!("{name} stream={stream}");
            assert_eq!(calls, expected(), "{case}");
            assert_eq!(finish, "tool_calls", "{case}");
            let seen = up.openai.last_request().unwrap().body;
            assert_eq!(seen["tools"][0]["type"], "function", "{case}");
            assert_eq!(
                seen["tools"][0]["function"]["name"], "get_weather",
                "{case}"
            );
            assert_eq!(
                seen["tools"][0]["function"]["parameters"]["required"],
                json!(["city"])
            );
            assert_eq!(seen["tool_choice"], "required", "{case}");
            let messages = seen["messages"].as_array().unwrap();
            assert_eq!(messages[2]["role"], "assistant", "{case}");
            assert_eq!(messages[2]["content"], Value::Null, "{case}");
            assert_eq!(messages[2]["tool_calls"][0]["id"], "call_0", "{case}");
            assert_eq!(
                messages[2]["tool_calls"][0]["function"]["arguments"],
                "{\"city\":\"Oslo\"}"
            );
            assert_eq!(
                messages[3],
                json!({"role": "tool", "content": "12 °C", "tool_call_id": "call_0"})
            );
        }
    }
}

#[tokio::test]
async fn anthropic_gets_tool_use_and_tool_result_blocks_and_answers_tool_calls() {
    let up = upstreams().await;
    up.anthropic.set_default(
        anthropic::Reply::tool_use("call_1", "get_weather", json!({"city": "Bergen"})).chunks(3),
    );
    for stream in [false, true] {
        let (calls, finish) =
            calls_of(ask(&up, "anthropic", stream).send().await.unwrap(), stream).await;
        assert_eq!(calls, expected(), "stream={stream}");
        assert_eq!(finish, "tool_calls");
        let seen = up.anthropic.last_request().unwrap().body;
        assert_eq!(
            seen["tools"],
            json!([{"name": "get_weather", "description": "Current weather of a city",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                     "required": ["city"]}}])
        );
        assert_eq!(seen["tool_choice"], json!({"type": "any"}));
        assert_eq!(seen["system"], "Use the tools.");
        assert_eq!(
            seen["messages"][1],
            json!({"role": "assistant", "content": [{"type": "tool_use", "id": "call_0",
                   "name": "get_weather", "input": {"city": "Oslo"}}]})
        );
        assert_eq!(
            seen["messages"][2],
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_0",
                   "content": "12 °C"}]})
        );
    }
}

#[tokio::test]
async fn bedrock_gets_a_tool_config_and_tool_blocks_and_answers_tool_calls() {
    let up = upstreams().await;
    up.bedrock.set_default(bedrock::Answer::tool_use(
        "call_1",
        "get_weather",
        json!({"city": "Bergen"}),
    ));
    for stream in [false, true] {
        let (calls, finish) =
            calls_of(ask(&up, "bedrock", stream).send().await.unwrap(), stream).await;
        assert_eq!(calls, expected(), "stream={stream}");
        assert_eq!(finish, "tool_calls");
        let seen = up.bedrock.requests().pop().unwrap().body;
        let spec = &seen["toolConfig"]["tools"][0]["toolSpec"];
        assert_eq!(spec["name"], "get_weather");
        assert_eq!(spec["inputSchema"]["json"]["required"], json!(["city"]));
        assert_eq!(seen["toolConfig"]["toolChoice"], json!({"any": {}}));
        assert_eq!(
            seen["messages"][1]["content"][0]["toolUse"],
            json!({"toolUseId": "call_0", "name": "get_weather", "input": {"city": "Oslo"}})
        );
        assert_eq!(
            seen["messages"][2]["content"][0]["toolResult"],
            json!({"toolUseId": "call_0", "content": [{"text": "12 °C"}]})
        );
    }
}

#[tokio::test]
async fn gemini_gets_function_declarations_and_its_whole_calls_come_back_as_tool_calls() {
    let up = upstreams().await;
    up.vertex.set_default(vertex::Reply::function_call(
        "get_weather",
        json!({"city": "Bergen"}),
    ));
    for stream in [false, true] {
        let (calls, finish) =
            calls_of(ask(&up, "gemini", stream).send().await.unwrap(), stream).await;
        // Gemini gives calls no id: the gateway numbers them.
        assert_eq!(
            calls,
            vec![(
                "call_0".to_owned(),
                "get_weather".to_owned(),
                "{\"city\":\"Bergen\"}".to_owned()
            )],
            "stream={stream}"
        );
        assert_eq!(finish, "tool_calls");
        let seen = up.vertex.last_request().unwrap();
        let body = seen.body();
        assert_eq!(
            body["tools"][0]["functionDeclarations"][0]["name"],
            "get_weather"
        );
        assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
        assert_eq!(
            body["systemInstruction"]["parts"][0]["text"],
            "Use the tools."
        );
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"],
            json!({"name": "get_weather", "response": {"content": "12 °C"}})
        );
    }
}

#[tokio::test]
async fn claude_on_vertex_answers_tool_calls_through_raw_predict() {
    let up = upstreams().await;
    up.vertex.set_claude_default(
        anthropic::Reply::tool_use("call_1", "get_weather", json!({"city": "Bergen"})).chunks(2),
    );
    for stream in [false, true] {
        let (calls, finish) = calls_of(
            ask(&up, "claude-vertex", stream).send().await.unwrap(),
            stream,
        )
        .await;
        assert_eq!(calls, expected(), "stream={stream}");
        assert_eq!(finish, "tool_calls");
        let seen = up.vertex.last_request().unwrap();
        assert_eq!(seen.body()["tool_choice"], json!({"type": "any"}));
        assert_eq!(seen.body()["anthropic_version"], "vertex-2023-10-16");
    }
}

#[tokio::test]
async fn a_bad_tool_definition_is_a_400_naming_the_field_and_reaches_no_upstream() {
    let up = upstreams().await;
    let mut bad = body("vllm", false);
    bad["tools"][0]["function"]["name"] = json!("get weather");
    let res = client()
        .post(up.gateway.url("/v1/chat/completions"))
        .bearer_auth(CLIENT_KEY)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": {"message": "Invalid 'tools[0].function.name': expected a name of 1 to 64 letters, digits, underscores or dashes.",
                         "type": "invalid_request_error", "param": "tools[0].function.name", "code": null}})
    );
    assert_eq!(up.openai.request_count(), 0);
}
