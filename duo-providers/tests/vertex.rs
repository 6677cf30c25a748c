//! Vertex AI over real loopback HTTP against duo-testkit's fakes of Vertex and Google's OAuth
//! (token endpoint and metadata server): URLs, tokens, Gemini's and Claude's bodies, streams,
//! tool calls and errors.
#![cfg(feature = "vertex")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{chat, fast_retries};
use duo_core::{
    Error, FinishReason, GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily,
    ModelIdentifier, ModelRequest, Prompt, StreamEvent, Tool, ToolCall, ToolCallDelta, ToolChoice,
    Usage,
};
use duo_providers::vertex::VertexSettings;
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::anthropic;
use duo_testkit::google_oauth::FakeGoogleOAuth;
use duo_testkit::vertex::{FakeVertex, Reply};
use futures::StreamExt;
use serde_json::json;

/// Every item of a stream.
async fn drain(stream: duo_core::EventStream) -> Vec<Result<StreamEvent, Error>> {
    stream.collect().await
}

/// The fakes and a registry configured with a service-account key for them.
struct Stand {
    vertex: FakeVertex,
    oauth: FakeGoogleOAuth,
    registry: Registry,
    _dir: tempfile::TempDir,
}

async fn stand_with(edit: impl FnOnce(&mut VertexSettings, &FakeGoogleOAuth)) -> Stand {
    let vertex = FakeVertex::start().await;
    let oauth = FakeGoogleOAuth::start().await;
    vertex.trust(&oauth);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = VertexSettings {
        project: Some("acme-ai".into()),
        location: Some("europe-west4".into()),
        endpoint: Some(vertex.url()),
        credentials_file: Some(oauth.write_service_account(dir.path()).unwrap()),
        ..VertexSettings::default()
    };
    edit(&mut settings, &oauth);
    let config = ProviderConfig {
        vertex: settings,
        resilience: fast_retries(),
        ..ProviderConfig::default()
    };
    // `new`, not `try_new`: the tests of bad settings check what a first request finds too.
    Stand {
        vertex,
        oauth,
        registry: Registry::new(config),
        _dir: dir,
    }
}

async fn stand() -> Stand {
    stand_with(|_, _| {}).await
}

fn endpoint(model: &str) -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse(&format!("vertex_ai/{model}")).unwrap(),
        ModelFamily::parse("gemini"),
    )
}

#[tokio::test]
async fn gemini_gets_its_body_at_the_projects_url_with_a_token_exchanged_once() {
    let s = stand().await;
    s.vertex
        .script(Reply::text("Hello from Gemini").usage(12, 4))
        .script(Reply::text("again"));
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are GitLab Duo."),
        Message::user("Hello"),
        Message::assistant("Hi, how can I help?"),
        Message::user("Explain this code"),
    ]))
    .with_params(GenerationParams {
        max_tokens: Some(256),
        temperature: Some(0.2),
        stop: ["\n\n\n", "", "a", "b", "c", "d", "e"]
            .map(String::from)
            .to_vec(),
        ..GenerationParams::default()
    });
    let answer = model.generate(&request).await.unwrap();
    assert_eq!(answer.text, "Hello from Gemini");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(
        answer.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 4
        })
    );
    let seen = s.vertex.last_request().unwrap();
    assert_eq!(
        seen.path(),
        "/v1/projects/acme-ai/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
    );
    assert_eq!(
        seen.body(),
        &json!({
            "contents": [
                {"role": "user", "parts": [{"text": "Hello"}]},
                {"role": "model", "parts": [{"text": "Hi, how can I help?"}]},
                {"role": "user", "parts": [{"text": "Explain this code"}]}
            ],
            "systemInstruction": {"parts": [{"text": "You are GitLab Duo."}]},
            "generationConfig": {"maxOutputTokens": 256, "temperature": 0.2,
                                 "stopSequences": ["\n\n\n", "a", "b", "c", "d"]}
        })
    );
    // The token is the one the OAuth fake issued for the key's signed assertion.
    assert_eq!(
        seen.bearer(),
        s.oauth.issued_tokens().first().map(String::as_str)
    );
    let claims = s.oauth.last_assertion_claims().unwrap();
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(claims["aud"], s.oauth.token_uri());
    assert_eq!(claims["iss"], s.oauth.client_email());
    // A second call reuses the cached token.
    model.generate(&chat("again")).await.unwrap();
    assert_eq!(s.oauth.exchanges(), 1);
}

#[tokio::test]
async fn a_stream_is_its_text_then_one_finish_and_a_cut_stream_is_an_error() {
    let s = stand().await;
    s.vertex
        .script(
            Reply::text("fn add(a: i32) -> i32")
                .chunks(["fn add(", "a: i32)", " -> i32"])
                .usage(5, 3),
        )
        .script(Reply::text("partial answer").split_into(3).cut_after(2));
    let model = s
        .registry
        .model(&endpoint("gemini-2.5-flash"))
        .await
        .unwrap();
    let events = drain(model.generate_stream(&chat("add")).await.unwrap()).await;
    assert_eq!(
        events,
        vec![
            Ok(StreamEvent::Delta("fn add(".into())),
            Ok(StreamEvent::Delta("a: i32)".into())),
            Ok(StreamEvent::Delta(" -> i32".into())),
            Ok(StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: Some(Usage {
                    input_tokens: 5,
                    output_tokens: 3
                })
            }),
        ]
    );
    let seen = s.vertex.last_request().unwrap();
    assert!(
        seen.path().ends_with(":streamGenerateContent"),
        "{}",
        seen.path()
    );
    assert_eq!(seen.query_param("alt"), Some("sse"));
    let events = drain(model.generate_stream(&chat("more")).await.unwrap()).await;
    let last = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), "broken_stream", "{last}");
}

#[tokio::test]
async fn tools_go_as_function_declarations_and_calls_come_back_streamed_and_not() {
    let s = stand().await;
    let reply = || {
        Reply::function_call("get_weather", json!({"city": "Bergen"}))
            .and_function_call("get_time", json!({}))
            .usage(30, 9)
    };
    s.vertex.script(reply()).script(reply());
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::user("Weather in Oslo and Bergen?"),
        Message::assistant_tool_calls(
            "",
            vec![ToolCall::new(
                "call_0",
                "get_weather",
                "{\"city\":\"Oslo\"}",
            )],
        ),
        Message::tool_result("call_0", "12 °C"),
    ]))
    .with_tools(
        vec![
            Tool::new(
                "get_weather",
                "Current weather",
                json!({"type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                   "additionalProperties": false,
                   "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
            Tool::new("get_time", "", json!(null)),
        ],
        ToolChoice::Named("get_weather".into()),
    );
    let answer = model.generate(&request).await.unwrap();
    assert_eq!(
        answer.tool_calls,
        vec![
            ToolCall::new("call_0", "get_weather", "{\"city\":\"Bergen\"}"),
            ToolCall::new("call_1", "get_time", "{}"),
        ]
    );
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    let body = s.vertex.last_request().unwrap().body().clone();
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "Current weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                            "required": ["city"]}},
            {"name": "get_time", "parameters": {"type": "object", "properties": {}}}
        ]}])
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
    );
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]})
    );
    assert_eq!(
        body["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
               "response": {"content": "12 °C"}}}]})
    );
    let events = drain(model.generate_stream(&request).await.unwrap()).await;
    let calls: Vec<&ToolCallDelta> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::ToolCall(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            &ToolCallDelta::whole(
                0,
                ToolCall::new("call_0", "get_weather", "{\"city\":\"Bergen\"}")
            ),
            &ToolCallDelta::whole(1, ToolCall::new("call_1", "get_time", "{}")),
        ]
    );
    assert!(matches!(
        events.last(),
        Some(Ok(StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            ..
        }))
    ));
}

#[tokio::test]
async fn a_tool_result_that_answers_no_call_is_refused_before_any_request() {
    let s = stand().await;
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::user("hi"),
        Message::tool_result("call_9", "42"),
    ]));
    let err = model.generate(&request).await.unwrap_err();
    assert_eq!(err.kind(), "invalid_request");
    assert!(err.to_string().contains("call_9"), "{err}");
    assert_eq!(s.vertex.request_count(), 0);
}

#[tokio::test]
async fn claude_on_vertex_gets_the_messages_body_without_model_at_raw_predict() {
    let s = stand().await;
    s.vertex
        .script_claude(anthropic::Reply::text("Hi from Claude").usage(8, 3))
        .script_claude(anthropic::Reply::text("streamed Claude").chunks(2));
    let model = s
        .registry
        .model(&endpoint("claude-sonnet-4-5@20250929"))
        .await
        .unwrap();
    let answer = model.generate(&chat("Hello")).await.unwrap();
    assert_eq!(answer.text, "Hi from Claude");
    let seen = s.vertex.last_request().unwrap();
    assert_eq!(
        seen.path(),
        "/v1/projects/acme-ai/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert_eq!(seen.body()["anthropic_version"], "vertex-2023-10-16");
    assert!(seen.body().get("model").is_none());
    assert_eq!(seen.body()["max_tokens"], 4096);
    let events = drain(model.generate_stream(&chat("Hello")).await.unwrap()).await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Delta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "streamed Claude");
    assert!(
        s.vertex
            .last_request()
            .unwrap()
            .path()
            .ends_with(":streamRawPredict")
    );
}

#[tokio::test]
async fn the_metadata_server_gives_tokens_when_there_is_no_key_file() {
    let s = stand_with(|v, oauth| {
        v.credentials_file = None;
        v.credentials_json = None;
        v.metadata_host = Some(oauth.metadata_host());
    })
    .await;
    // The variable would win over the metadata server if the environment had it.
    if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
        return;
    }
    let model = s
        .registry
        .model(&endpoint("gemini-2.5-flash"))
        .await
        .unwrap();
    assert_eq!(
        model.generate(&chat("hi")).await.unwrap().text,
        "Hello from the fake."
    );
    let fetch = s.oauth.last_request().unwrap();
    assert_eq!(fetch.method, "GET");
    assert!(
        fetch
            .path
            .starts_with("/computeMetadata/v1/instance/service-accounts/default/token"),
        "{}",
        fetch.path
    );
    assert_eq!(fetch.header("metadata-flavor"), Some("Google"));
    assert_eq!(s.oauth.exchanges(), 1);
}

#[tokio::test]
async fn a_refused_token_exchange_is_an_auth_error_that_quotes_no_key() {
    let s = stand().await;
    s.oauth.fail_next(
        400,
        json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
    );
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    let err = model.generate(&chat("hi")).await.unwrap_err();
    assert!(
        matches!(err, Error::UpstreamAuth { status: 400, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("Invalid JWT Signature"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert_eq!(s.vertex.request_count(), 0);
    // The next call tries again (a failure is not cached).
    assert!(model.generate(&chat("hi")).await.is_ok());
}

#[tokio::test]
async fn googles_errors_keep_their_status_and_a_refused_token_is_fetched_anew() {
    let s = stand_with(|v, _| v.location = Some("us-central1".into())).await;
    s.vertex.script_all([
        Reply::status(429).message("Quota exceeded for aiplatform.googleapis.com"),
        Reply::status(429),
        Reply::status(429),
        Reply::status(429),
    ]);
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    let err = model.generate(&chat("hi")).await.unwrap_err();
    assert_eq!(err.kind(), "rate_limited", "{err}");
    assert!(err.to_string().contains("RESOURCE_EXHAUSTED"), "{err}");
    // A token Vertex refuses is forgotten: the next call exchanges a new one.
    let fresh = stand().await;
    fresh.vertex.script(Reply::status(401));
    let model = fresh
        .registry
        .model(&endpoint("gemini-2.5-pro"))
        .await
        .unwrap();
    let err = model.generate(&chat("hi")).await.unwrap_err();
    assert_eq!(err.kind(), "upstream_auth", "{err}");
    model.generate(&chat("hi")).await.unwrap();
    assert_eq!(fresh.oauth.exchanges(), 2);
    let tokens = fresh.oauth.issued_tokens();
    assert_eq!(
        fresh.vertex.last_request().unwrap().bearer(),
        Some(tokens[1].as_str())
    );
}

#[tokio::test]
async fn safety_stops_and_blocked_prompts_are_content_filtered_answers() {
    let s = stand().await;
    s.vertex
        .script(Reply::blocked("SAFETY"))
        .script(Reply::prompt_blocked("PROHIBITED_CONTENT"));
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    for _ in 0..2 {
        let answer = model.generate(&chat("something bad")).await.unwrap();
        assert_eq!(answer.finish_reason, FinishReason::ContentFilter);
        assert_eq!(answer.text, "");
    }
}

#[tokio::test]
async fn a_requests_endpoint_is_never_used_and_the_operators_endpoint_obeys_the_egress_policy() {
    let s = stand().await;
    let model = s
        .registry
        .model(&endpoint("gemini-2.5-pro").with_base_url("http://attacker.example:9/v1"))
        .await
        .unwrap();
    model.generate(&chat("hi")).await.unwrap();
    assert_eq!(s.vertex.request_count(), 1);
    let metadata = stand_with(|v, _| v.endpoint = Some("http://169.254.169.254".into())).await;
    let Err(err) = metadata.registry.model(&endpoint("gemini-2.5-pro")).await else {
        panic!("a metadata address must be refused");
    };
    assert_eq!(err.kind(), "egress_refused", "{err}");
    assert!(err.to_string().contains("cloud_metadata"), "{err}");
    // Start-up finds it already.
    let err = Registry::try_new(metadata.registry.config().clone()).unwrap_err();
    assert_eq!(err.kind(), "egress_refused", "{err}");
}

#[tokio::test]
async fn bad_settings_fail_at_start_naming_the_key() {
    let config = ProviderConfig {
        vertex: VertexSettings {
            project: Some("p".into()),
            endpoint: Some("ftp://vertex".into()),
            ..VertexSettings::default()
        },
        ..ProviderConfig::default()
    };
    let err = Registry::try_new(config).unwrap_err();
    assert!(err.to_string().contains("vertex.endpoint"), "{err}");
    let s = stand_with(|v, _| v.credentials_file = Some("/nonexistent/key.json".into())).await;
    let Err(err) = s.registry.model(&endpoint("gemini-2.5-pro")).await else {
        panic!("a missing key file must fail the model");
    };
    assert_eq!(err.kind(), "config", "{err}");
    assert!(err.to_string().contains("/nonexistent/key.json"), "{err}");
    let err = Registry::try_new(s.registry.config().clone()).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/key.json"), "{err}");
}

#[tokio::test]
async fn an_answer_that_echoes_the_access_token_never_shows_it() {
    let s = stand().await;
    let model = s.registry.model(&endpoint("gemini-2.5-pro")).await.unwrap();
    model.generate(&chat("hi")).await.unwrap();
    let token = s.oauth.issued_tokens().remove(0);
    let echo = format!("<html>proxy error for Bearer {token}</html>");
    s.vertex
        .script(Reply::raw(200, "text/html", [echo.clone()]))
        .script(Reply::raw(200, "text/html", [echo]));
    let err = model.generate(&chat("hi")).await.unwrap_err();
    assert_eq!(err.kind(), "protocol", "{err}");
    assert!(!err.to_string().contains(&token), "{err}");
    let Err(err) = model.generate_stream(&chat("hi")).await else {
        panic!("an HTML answer is not a stream");
    };
    assert!(!err.to_string().contains(&token), "{err}");
    assert_eq!(s.oauth.exchanges(), 1);
}
