//! How the gateway mounts the OpenAI-compatible API (duo-openai-api, feature `openai-api`): its
//! client keys and GitLab's tokens are separate, it shares the gateway's 404 when it is off, and
//! a call through it lands in the gateway's request log and metrics. The API's own behaviour is
//! tested in `duo-openai-api/tests/api.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_core::Secret;
use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, config, start};

const KEY: &str = "sk-mount-client-0123456789";

/// The gateway with GitLab auth as `bypass` says and the API serving one vLLM model.
fn mounted(fake: &FakeOpenAi, bypass: bool) -> duo_gateway::Config {
    let mut c = config();
    c.auth.bypass_external = bypass;
    c.openai_api.enabled = true;
    c.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new(KEY))];
    c.openai_api.models = vec![OpenAiModelConfig {
        name: "coder".into(),
        identifier: "custom_openai/Qwen2.5-Coder".into(),
        endpoint: Some(fake.url()),
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: Some("general".into()),
    }];
    c
}

async fn status_and_body(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn openai_keys_and_gitlab_auth_are_separate() {
    let fake = FakeOpenAi::start().await;
    // GitLab auth bypassed: the OpenAI routes still want their key.
    let gw = start(mounted(&fake, true)).await;
    let res = client().get(gw.url("/v1/models")).send().await.unwrap();
    let (status, body) = status_and_body(res).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let res = client()
        .get(gw.url("/v1/models"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(gw);
    // GitLab auth on: an OpenAI key opens none of GitLab's routes, which answer in GitLab's shape.
    let gw = start(mounted(&fake, false)).await;
    for path in ["/v2/code/completions", "/v1/chat/explain_code"] {
        let res = client()
            .post(gw.url(path))
            .bearer_auth(KEY)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_body(res).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: GitLab's shape: {body}");
    }
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn the_api_is_off_unless_enabled_and_then_answers_the_gateways_404() {
    let fake = FakeOpenAi::start().await;
    let mut c = mounted(&fake, true);
    c.openai_api.enabled = false;
    let gw = start(c).await;
    let res = client()
        .get(gw.url("/v1/models"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_body(res).await,
        (404, json!({"detail": "Not Found"}))
    );
}

#[tokio::test]
async fn a_call_through_the_mounted_api_is_in_the_gateways_metrics() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("fn main() {}").usage(3, 4));
    let gw = start(mounted(&fake, false)).await;
    let res = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": "coder", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(res).await;
    assert_eq!(status, 200, "{body}");
    let text = gw.state.metrics().render();
    assert!(
        text.contains(r#"inference_output_tokens_total{model_engine="openai_compatible",model_family="general",feature="other"} 4"#),
        "{text}"
    );
}
