//! `openai/…` models through the gateway: the operator's OpenAI URL and key for requests that
//! name no endpoint, never the operator's key for those that do, and the reasoning models'
//! rules on the OpenAI-compatible API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_core::Secret;
use duo_testkit::openai::FakeOpenAi;
use serde_json::{Value, json};
use support::{config, post_status, start};

const OPERATOR_KEY: &str = "sk-openai-operator-0123456789";

fn with_operator(operator: &FakeOpenAi) -> duo_gateway::Config {
    let mut c = config();
    c.providers.openai.base_url = operator.url();
    c.providers.openai.api_key = Some(Secret::new(OPERATOR_KEY));
    c
}

fn completion(endpoint: Option<&str>) -> Value {
    let mut body = json!({
        "prompt_version": 1,
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                         "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "gpt",
        "model_identifier": "openai/gpt-4o", "stream": false,
    });
    if let Some(e) = endpoint {
        body["model_endpoint"] = json!(e);
    }
    body
}

#[tokio::test]
async fn the_operators_key_goes_to_the_operators_url_and_nowhere_else() {
    let operator = FakeOpenAi::start().await;
    let elsewhere = FakeOpenAi::start().await;
    let gw = start(with_operator(&operator)).await;
    let (status, body) = post_status(&gw.url("/v2/code/completions"), &completion(None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["text"], "hello world");
    let seen = operator.last_request().unwrap();
    assert_eq!(
        seen.header("authorization"),
        Some(&*format!("Bearer {OPERATOR_KEY}"))
    );
    assert_eq!(seen.body["model"], "gpt-4o");

    let (status, body) = post_status(
        &gw.url("/v2/code/completions"),
        &completion(Some(&elsewhere.url())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = elsewhere.last_request().unwrap();
    assert_eq!(seen.header("authorization"), Some("Bearer dummy_key"));
    assert_eq!(operator.request_count(), 1);
}

#[cfg(feature = "openai-api")]
#[tokio::test]
async fn the_openai_compatible_api_passes_reasoning_effort_to_a_reasoning_model() {
    use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
    const CLIENT_KEY: &str = "sk-client-0123456789";
    let operator = FakeOpenAi::start().await;
    let mut c = with_operator(&operator);
    c.openai_api.enabled = true;
    c.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new(CLIENT_KEY))];
    c.openai_api.models = vec![OpenAiModelConfig {
        name: "thinker".into(),
        identifier: "openai/o4-mini".into(),
        endpoint: None,
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: None,
    }];
    let gw = start(c).await;
    let ask = |effort: &str| {
        support::client()
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(CLIENT_KEY)
            .json(&json!({
                "model": "thinker", "reasoning_effort": effort, "max_completion_tokens": 500,
                "temperature": 0.3,
                "messages": [{"role": "system", "content": "Be terse."},
                             {"role": "user", "content": "2+2?"}],
            }))
            .send()
    };
    let res = ask("high").await.unwrap();
    assert_eq!(res.status(), 200);
    let seen = operator.last_request().unwrap();
    assert_eq!(seen.body["reasoning_effort"], "high");
    assert_eq!(seen.body["max_completion_tokens"], 500);
    assert!(seen.body.get("temperature").is_none(), "{}", seen.body);
    assert_eq!(seen.body["messages"][0]["role"], "developer");

    let res = ask("extreme").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["param"], "reasoning_effort");
    assert_eq!(
        body["error"]["message"],
        "'reasoning_effort' must be one of none, minimal, low, medium, high (got 'extreme')."
    );
    assert_eq!(operator.request_count(), 1);
}
