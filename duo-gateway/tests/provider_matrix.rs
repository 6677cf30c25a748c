//! Every GitLab model route × streaming/non-streaming × vLLM / Azure OpenAI / Bedrock /
//! Anthropic / OpenAI / Vertex AI, end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::anthropic::FakeAnthropic;
use duo_testkit::bedrock::FakeBedrock;
use duo_testkit::google_oauth::FakeGoogleOAuth;
use duo_testkit::openai::FakeOpenAi;
use duo_testkit::vertex::FakeVertex;
use serde_json::{Value, json};
use support::{client, config, start};

#[derive(Debug, Clone, Copy)]
enum Route {
    Completions,
    Generations,
    PromptsV1,
    PromptsV2,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Completions => "/v2/code/completions",
            Self::Generations => "/v2/code/generations",
            Self::PromptsV1 => "/v1/prompts/chat/explain_code",
            Self::PromptsV2 => "/v2/prompts/chat/explain_code",
        }
    }

    fn body(self, family: &str, identifier: &str, endpoint: Option<&str>, stream: bool) -> Value {
        match self {
            Self::Completions | Self::Generations => {
                let mut b = json!({
                    "prompt_version": 1,
                    "current_file": {"file_name": "main.py", "content_above_cursor": "# add two numbers\ndef add(a, b):\n    ", "content_below_cursor": "\n"},
                    "model_provider": "litellm", "model_name": family, "model_identifier": identifier,
                    "model_api_key": "k", "stream": stream,
                });
                if let Some(e) = endpoint {
                    b["model_endpoint"] = json!(e);
                }
                if matches!(self, Self::Generations) {
                    b["prompt_id"] = json!("code_suggestions/generations");
                }
                b
            }
            Self::PromptsV1 | Self::PromptsV2 => {
                let mut meta = json!({"name": family, "identifier": identifier, "api_key": "k"});
                if let Some(e) = endpoint {
                    meta["endpoint"] = json!(e);
                }
                json!({"stream": stream, "inputs": {"selected_text": "x = 1", "input": "explain"}, "model_metadata": meta})
            }
        }
    }

    /// The answer's text, read from the route's response shape.
    async fn answer(self, res: reqwest::Response, stream: bool) -> String {
        let text = res.text().await.unwrap();
        match (self, stream) {
            (Self::Completions | Self::Generations, false) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                v["choices"][0]["text"].as_str().unwrap().to_owned()
            }
            (Self::PromptsV1, false) => serde_json::from_str::<String>(&text).unwrap(),
            (Self::PromptsV2, false) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                v["content"].as_str().unwrap().to_owned()
            }
            (Self::PromptsV2, true) => text
                .lines()
                .map(|l| {
                    serde_json::from_str::<Value>(l).unwrap()["content"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect(),
            (_, true) => text,
        }
    }
}

const ROUTES: [Route; 4] = [
    Route::Completions,
    Route::Generations,
    Route::PromptsV1,
    Route::PromptsV2,
];

#[tokio::test]
async fn every_route_streams_and_answers_through_every_provider() {
    let openai = FakeOpenAi::start().await;
    let bedrock = FakeBedrock::start().await;
    let anthropic = FakeAnthropic::start().await;
    let vertex = FakeVertex::start().await;
    let google = FakeGoogleOAuth::start().await;
    vertex.trust(&google);
    let keys = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.google_cloud_platform.project = Some("acme-ai".into());
    cfg.vertex_text_model.endpoint = Some(vertex.url());
    cfg.providers.vertex.credentials_file =
        Some(google.write_service_account(keys.path()).unwrap());
    cfg.providers.anthropic.base_url = anthropic.url();
    cfg.providers.openai.base_url = openai.url();
    cfg.providers.bedrock.endpoint_url = Some(bedrock.url());
    cfg.providers.bedrock.region = Some("eu-west-1".into());
    cfg.providers.bedrock.access_key_id = Some("AKIDMATRIX".into());
    cfg.providers.bedrock.secret_access_key = Some(duo_core::Secret::new("matrix-secret"));
    let gw = start(cfg).await;

    let vllm_url = openai.url();
    let azure_url = openai.azure_url();
    let providers: [(&str, &str, Option<&str>, &str); 7] = [
        (
            "mistral",
            "custom_openai/mistral-7b",
            Some(&vllm_url),
            "hello world",
        ),
        (
            "gpt",
            "azure/gpt-4o-deploy",
            Some(&azure_url),
            "hello world",
        ),
        (
            "claude_3",
            "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            None,
            "Hello from Bedrock",
        ),
        // No endpoint: the operator's OpenAI URL, with the request's key.
        ("gpt", "openai/gpt-4o", None, "hello world"),
        // No endpoint: the operator's Anthropic URL, with the request's key.
        (
            "claude_3",
            "anthropic/claude-sonnet-4-5",
            None,
            "Hello from the fake.",
        ),
        // Vertex: a request's endpoint is never used, the operator's project and key are.
        (
            "gemini",
            "vertex_ai/gemini-2.5-flash",
            Some("http://attacker.example:9/v1"),
            "Hello from the fake.",
        ),
        (
            "claude_3",
            "vertex_ai/claude-sonnet-4-5@20250929",
            Some("http://attacker.example:9/v1"),
            "Hello from the fake.",
        ),
    ];
    let mut served = 0;
    for (family, identifier, endpoint, expected) in providers {
        for route in ROUTES {
            for stream in [false, true] {
                let counts = || {
                    (
                        openai.request_count(),
                        bedrock.requests().len(),
                        anthropic.request_count(),
                        vertex.request_count(),
                    )
                };
                let before = counts();
                let body = route.body(family, identifier, endpoint, stream);
                let res = client()
                    .post(gw.url(route.path()))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let case = format!("{route:?} stream={stream} via {identifier}");
                if res.status() != 200 {
                    panic!("{case}: {} {}", res.status(), res.text().await.unwrap());
                }
                assert_eq!(route.answer(res, stream).await, expected, "{case}");
                let after = counts();
                if identifier.starts_with("bedrock/") {
                    assert_eq!(
                        after,
                        (before.0, before.1 + 1, before.2, before.3),
                        "{case}"
                    );
                } else if identifier.starts_with("vertex_ai/") {
                    assert_eq!(
                        after,
                        (before.0, before.1, before.2, before.3 + 1),
                        "{case}"
                    );
                    let req = vertex.last_request().unwrap();
                    let model = identifier.trim_start_matches("vertex_ai/");
                    let (publisher, method) = match (model.starts_with("claude"), stream) {
                        (true, true) => ("anthropic", "streamRawPredict"),
                        (true, false) => ("anthropic", "rawPredict"),
                        (false, true) => ("google", "streamGenerateContent"),
                        (false, false) => ("google", "generateContent"),
                    };
                    assert_eq!(
                        req.path(),
                        format!(
                            "/v1/projects/acme-ai/locations/us-central1/publishers/{publisher}/models/{model}:{method}"
                        ),
                        "{case}"
                    );
                    assert_eq!(
                        req.bearer(),
                        google.issued_tokens().first().map(String::as_str)
                    );
                } else if identifier.starts_with("anthropic/") {
                    assert_eq!(
                        after,
                        (before.0, before.1, before.2 + 1, before.3),
                        "{case}"
                    );
                    let req = anthropic.last_request().unwrap();
                    assert_eq!(req.is_streaming(), stream, "{case}");
                    assert_eq!(req.body["model"], "claude-sonnet-4-5", "{case}");
                    assert_eq!(req.header("x-api-key"), Some("k"), "{case}");
                } else {
                    assert_eq!(
                        after,
                        (before.0 + 1, before.1, before.2, before.3),
                        "{case}"
                    );
                    let req = openai.last_request().unwrap();
                    assert_eq!(req.is_streaming(), stream, "{case}");
                    if identifier.starts_with("azure/") {
                        assert!(
                            req.path.starts_with("/openai/deployments/gpt-4o-deploy/"),
                            "{case}"
                        );
                        assert_eq!(req.header("api-key"), Some("k"), "{case}");
                    } else {
                        assert_eq!(req.header("authorization"), Some("Bearer k"), "{case}");
                    }
                }
                served += 1;
            }
        }
    }
    assert_eq!(served, 56);
    assert_eq!(google.exchanges(), 1, "one token for every Vertex call");
}
