//! `anthropic/…` models through the gateway: whose key goes where on the GitLab routes and the
//! OpenAI-compatible API, streamed and not, and upstream faults as clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_core::Secret;
#[cfg(feature = "openai-api")]
use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
use duo_testkit::anthropic::{FakeAnthropic, Reply};
use serde_json::{Value, json};
use support::{client, config, post_status, start};

const OPERATOR_KEY: &str = "sk-ant-operator-0123456789";
#[cfg(feature = "openai-api")]
const CLIENT_KEY: &str = "sk-openai-client-0123456789";

/// The gateway with `operator` as the operator's Anthropic endpoint and key.
fn with_operator(operator: &FakeAnthropic) -> duo_gateway::Config {
    let mut c = config();
    c.providers.anthropic.base_url = operator.url();
    c.providers.anthropic.api_key = Some(Secret::new(OPERATOR_KEY));
    c
}

/// A `/v2/code/completions` body for an Anthropic model, with the given endpoint and key.
fn completion(endpoint: Option<&str>, key: Option<&str>, stream: bool) -> Value {
    let mut body = json!({
        "prompt_version": 1,
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                         "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "claude_3",
        "model_identifier": "anthropic/claude-sonnet-4-5", "stream": stream,
    });
    if let Some(e) = endpoint {
        body["model_endpoint"] = json!(e);
    }
    if let Some(k) = key {
        body["model_api_key"] = json!(k);
    }
    body
}

#[tokio::test]
async fn a_request_without_endpoint_or_key_is_served_by_the_operators_anthropic() {
    let operator = FakeAnthropic::start().await;
    operator.require_key(OPERATOR_KEY);
    operator.set_default(Reply::text("return a + b").chunks(3));
    let gw = start(with_operator(&operator)).await;
    for stream in [false, true] {
        let res = client()
            .post(gw.url("/v2/code/completions"))
            .json(&completion(None, None, stream))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "stream={stream}");
        let text = res.text().await.unwrap();
        let answer = if stream {
            text
        } else {
            serde_json::from_str::<Value>(&text).unwrap()["choices"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(answer, "return a + b", "stream={stream}");
        let seen = operator.last_request().unwrap();
        assert_eq!(seen.header("x-api-key"), Some(OPERATOR_KEY));
        assert_eq!(seen.body["model"], "claude-sonnet-4-5");
        assert_eq!(seen.body["stream"], stream);
        // The FIM prompt became one user turn; max_tokens is always sent.
        assert!(seen.body["max_tokens"].as_u64().unwrap() > 0);
        assert_eq!(seen.body["messages"][0]["role"], "user");
    }
}

#[tokio::test]
async fn the_operators_key_never_reaches_an_endpoint_the_request_names() {
    let operator = FakeAnthropic::start().await;
    let elsewhere = FakeAnthropic::start().await;
    let gw = start(with_operator(&operator)).await;
    for key in [None, Some("sk-user-own-key")] {
        let (status, body) = post_status(
            &gw.url("/v2/code/completions"),
            &completion(Some(&elsewhere.url()), key, false),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let seen = elsewhere.last_request().unwrap();
        assert_eq!(seen.header("x-api-key"), key, "key {key:?}");
        assert!(!seen.raw_body.contains(OPERATOR_KEY));
        assert!(seen.headers.iter().all(|(_, v)| !v.contains(OPERATOR_KEY)));
    }
    assert_eq!(operator.request_count(), 0);
}

#[tokio::test]
async fn a_refusing_or_overloaded_anthropic_is_gitlabs_inference_error_without_the_key() {
    let operator = FakeAnthropic::start().await;
    let mut c = with_operator(&operator);
    c.providers.resilience.max_retries = 1;
    c.providers.resilience.base_backoff = std::time::Duration::from_millis(1);
    let gw = start(c).await;
    operator.script(Reply::error(
        401,
        "authentication_error",
        format!("invalid x-api-key {OPERATOR_KEY}"),
    ));
    let (status, body) = post_status(
        &gw.url("/v2/code/completions"),
        &completion(None, None, false),
    )
    .await;
    assert_eq!((status, body), (503, json!({"detail": "Inference failed"})));
    assert_eq!(operator.request_count(), 1, "a refused key is not retried");
    // Overloaded twice: retried once, then the same answer.
    operator.script(Reply::error(529, "overloaded_error", "Overloaded"));
    operator.script(Reply::error(529, "overloaded_error", "Overloaded"));
    let (status, body) = post_status(
        &gw.url("/v2/code/completions"),
        &completion(None, None, false),
    )
    .await;
    assert_eq!((status, body), (503, json!({"detail": "Inference failed"})));
    assert_eq!(operator.request_count(), 3);
    // On the prompts route GitLab's instance reads the upstream's status from the detail.
    operator.script(Reply::error(
        400,
        "invalid_request_error",
        "prompt is too long",
    ));
    let (status, body) = post_status(
        &gw.url("/v1/prompts/chat/explain_code"),
        &json!({"stream": false, "inputs": {"selected_text": "x = 1", "input": "explain"},
                "model_metadata": {"name": "claude_3", "identifier": "anthropic/claude-sonnet-4-5"}}),
    )
    .await;
    assert_eq!(status, 421, "{body}");
    assert_eq!(
        body,
        json!({"detail": "400: invalid_request_error: prompt is too long"})
    );
}

#[cfg(feature = "openai-api")]
#[tokio::test]
async fn the_openai_compatible_api_serves_an_anthropic_model_streamed_and_not() {
    let operator = FakeAnthropic::start().await;
    operator.require_key(OPERATOR_KEY);
    operator.set_default(Reply::text("Paris.").chunks(2).usage(11, 2));
    let mut c = with_operator(&operator);
    c.openai_api.enabled = true;
    c.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new(CLIENT_KEY))];
    c.openai_api.models = vec![OpenAiModelConfig {
        name: "claude".into(),
        identifier: "anthropic/claude-sonnet-4-5".into(),
        endpoint: None,
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: None,
    }];
    let gw = start(c).await;
    let ask = |stream: bool| {
        client()
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(CLIENT_KEY)
            .json(&json!({
                "model": "claude", "stream": stream, "max_tokens": 32,
                "messages": [{"role": "system", "content": "Answer in one word."},
                             {"role": "user", "content": "Capital of France?"}],
            }))
            .send()
    };
    let answer: Value = ask(false).await.unwrap().json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "Paris.");
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert_eq!(answer["usage"]["prompt_tokens"], 11);
    let seen = operator.last_request().unwrap();
    assert_eq!(seen.body["system"], "Answer in one word.");
    assert_eq!(seen.body["max_tokens"], 32);
    assert_eq!(seen.header("x-api-key"), Some(OPERATOR_KEY));

    let text = ask(true).await.unwrap().text().await.unwrap();
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Paris.");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}
