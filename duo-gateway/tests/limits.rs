//! Length limits of request fields, one table for every route: a field over its limit is a 422
//! `{"detail": …}` naming the field and the limit, never a model call and never a 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::openai::FakeOpenAi;
use serde_json::{Value, json};
use support::{completion_body, config, post_status, prompt_body, start};

fn agent_body(endpoint: &str) -> Value {
    json!({
        "messages": [{"role": "user", "content": "What is a merge request?"}],
        "model_metadata": {"provider": "openai", "name": "mistral", "endpoint": endpoint,
                           "api_key": "upstream-key-123", "identifier": "custom_openai/m"}
    })
}

fn detail(json: &Value) -> &str {
    json["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail: {json}"))
}

#[tokio::test]
async fn a_megabyte_api_key_on_the_chat_agent_is_a_422_naming_the_field() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = agent_body(&fake.url());
    body["model_metadata"]["api_key"] = json!("k".repeat(1024 * 1024));
    let (status, json) = post_status(&gw.url("/v2/chat/agent"), &body).await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(
        detail(&json),
        "model_metadata.api_key: must be at most 8192 bytes (an API key)"
    );
    assert_eq!(fake.request_count(), 0, "nothing reached the model");
}

#[tokio::test]
async fn every_route_applies_the_same_limits() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = fake.url();
    let long_url = format!("{url}/{}", "p".repeat(2048));
    let v3 = json!({
        "prompt_components": [{
            "type": "code_editor_completion",
            "metadata": {"source": "GitLab EE", "version": "17.9.0"},
            "payload": {"file_name": "main.py", "content_above_cursor": "def f(",
                        "content_below_cursor": "", "language_identifier": "l".repeat(300)}
        }],
        "model_metadata": {"name": "codestral", "endpoint": url, "identifier": "custom_openai/c"}
    });
    let mut code = completion_body("codestral", &url, "custom_openai/c");
    code["model_api_key"] = json!("k".repeat(9000));
    let mut prompt = prompt_body("mistral", &long_url, "custom_openai/m", false);
    prompt["inputs"]["input"] = json!("free-form inputs are content: ".repeat(1000));
    let mut chat_v1 = json!({"prompt_components": [{
        "type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.9.0"},
        "payload": {"content": "hi", "provider": "litellm", "model": "mistral",
                    "model_endpoint": url, "model_identifier": "custom_openai/m",
                    "params": {"stop_sequences": ["s".repeat(1025)]}}
    }]});
    chat_v1["stream"] = json!(false);
    let cases = [
        (
            "/v2/code/completions",
            code,
            "model_api_key: must be at most 8192 bytes (an API key)",
        ),
        (
            "/v3/code/completions",
            v3,
            "prompt_components[0].payload.language_identifier: must be at most 256 bytes (an identifier)",
        ),
        (
            "/v1/prompts/chat/explain_code",
            prompt,
            "model_metadata.endpoint: must be at most 2048 bytes (a URL)",
        ),
        (
            "/v1/chat/explain_code",
            chat_v1,
            "prompt_components[0].payload.params.stop_sequences[0]: must be at most 1024 bytes (a label)",
        ),
    ];
    for (path, body, expected) in cases {
        let (status, json) = post_status(&gw.url(path), &body).await;
        assert_eq!(status, 422, "{path}: {json}");
        assert_eq!(detail(&json), expected, "{path}");
    }
    assert_eq!(fake.request_count(), 0, "nothing reached the model");
}

#[tokio::test]
async fn a_prompt_id_over_its_limit_is_a_422() {
    let gw = start(config()).await;
    let path = format!("/v1/prompts/chat/{}", "x".repeat(300));
    let (status, json) = post_status(
        &gw.url(&path),
        &prompt_body("mistral", "http://127.0.0.1:9/v1", "custom_openai/m", false),
    )
    .await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(
        detail(&json),
        "prompt_id: must be at most 256 bytes (an identifier)"
    );
}
