//! The API mounted alone, as an integrator mounts it: `duo_openai_api::router` in a plain axum
//! app on loopback, without the gateway, in front of a fake vLLM server. The API's full behaviour
//! (every provider, streaming, errors) is tested through the gateway in
//! `duo-gateway/tests/openai_api.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use duo_core::Secret;
use duo_logging::{Logged, Metrics, RequestLogLayer, RequestLogSettings};
use duo_openai_api::{ClientKeyEntry, OpenAiApiConfig, OpenAiModelConfig, OpenAiState};
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};

const KEY: &str = "sk-standalone-client";

struct App {
    url: String,
    metrics: Arc<Metrics>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn config(upstream: &FakeOpenAi) -> OpenAiApiConfig {
    OpenAiApiConfig {
        enabled: true,
        api_keys: vec![ClientKeyEntry::Plain(Secret::new(KEY))],
        api_keys_file: None,
        models: vec![OpenAiModelConfig {
            name: "coder".into(),
            identifier: "custom_openai/Qwen2.5-Coder".into(),
            endpoint: Some(upstream.url()),
            api_key: Some(Secret::new("upstream-key")),
            api_key_env: None,
            api_key_file: None,
            family: Some("general".into()),
        }],
    }
}

async fn start(config: &OpenAiApiConfig) -> App {
    let mut providers = ProviderConfig::default();
    providers.resilience.max_retries = 0;
    let metrics = Arc::new(Metrics::new());
    // Each client decorated once, as the gateway's registry does.
    let for_clients = Arc::clone(&metrics);
    let registry = Registry::new(providers).with_decorator(move |endpoint, model| {
        Arc::new(Logged::new(
            model,
            Arc::clone(&for_clients),
            endpoint.family().key(),
        ))
    });
    let state = OpenAiState::new(config, Arc::new(registry)).unwrap();
    let app = duo_openai_api::router(state).layer(RequestLogLayer::new(
        RequestLogSettings::default(),
        Arc::clone(&metrics),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    App { url, metrics, task }
}

async fn post(app: &App, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", app.url))
        .json(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn mounted_alone_it_serves_a_chat_completion_with_the_shared_registry_and_metrics() {
    let upstream = FakeOpenAi::start().await;
    upstream.script(Reply::answer("fn main() {}").usage(7, 5));
    let app = start(&config(&upstream)).await;
    let body = json!({"model": "coder", "messages": [{"role": "user", "content": "Rust hello"}]});
    let (status, answer) = post(&app, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "coder");
    assert_eq!(answer["choices"][0]["message"]["content"], "fn main() {}");
    assert_eq!(
        answer["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12})
    );
    let sent = upstream.last_request().unwrap();
    assert_eq!(sent.body["model"], "Qwen2.5-Coder");
    assert_eq!(sent.header("authorization"), Some("Bearer upstream-key"));
    // The call was measured in the metrics registry the application handed in.
    let metrics = app.metrics.render();
    assert!(
        metrics.contains(
            r#"model_inferences_total{model_engine="openai_compatible",model_family="general",feature="other",streaming="false",error="no"} 1"#
        ),
        "the model call is not in the metrics:\n{metrics}"
    );
}

#[tokio::test]
async fn mounted_alone_it_refuses_a_request_without_a_client_key() {
    let upstream = FakeOpenAi::start().await;
    let app = start(&config(&upstream)).await;
    let res = reqwest::Client::new()
        .get(format!("{}/v1/models", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_api_key", "{answer}");
    let body = json!({"model": "coder", "prompt": "fn"});
    let (status, answer) = post(&app, "/v1/completions", Some("sk-wrong"), &body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_api_key", "{answer}");
    assert_eq!(upstream.request_count(), 0);
}

#[tokio::test]
async fn disabled_it_serves_nothing_and_reads_nothing() {
    let upstream = FakeOpenAi::start().await;
    let mut config = config(&upstream);
    config.enabled = false;
    // A key file that does not exist is not read when the API is off.
    config.api_keys_file = Some("/nonexistent/duo-openai-keys".into());
    let app = start(&config).await;
    let res = reqwest::Client::new()
        .get(format!("{}/v1/models", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
