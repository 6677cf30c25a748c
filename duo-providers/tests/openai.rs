//! OpenAI's platform (`openai/<model>`) over real loopback HTTP against duo-testkit's fake: the
//! operator's base URL and key, the request's own endpoint and key, the reasoning models' rules.
#![cfg(feature = "openai")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{completion, drain, http, text};
use duo_core::{
    GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier,
    ModelRequest, Prompt, Secret,
};
use duo_providers::OpenAiSettings;
use duo_providers::openai::OpenAiPlatformModel;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::json;

fn endpoint(model: &str, base_url: Option<&str>, key: Option<&str>) -> ModelEndpoint {
    let mut ep = ModelEndpoint::new(
        ModelIdentifier::parse(&format!("openai/{model}")).unwrap(),
        ModelFamily::parse("gpt"),
    );
    if let Some(url) = base_url {
        ep = ep.with_base_url(url);
    }
    if let Some(key) = key {
        ep = ep.with_api_key(Secret::new(key));
    }
    ep
}

fn operator(fake: &FakeOpenAi, key: &str) -> OpenAiSettings {
    OpenAiSettings {
        base_url: fake.url(),
        api_key: Some(Secret::new(key)),
        ..OpenAiSettings::default()
    }
}

fn chat_with_system() -> ModelRequest {
    ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are GitLab Duo."),
        Message::user("Hi"),
    ]))
    .with_params(GenerationParams {
        max_tokens: Some(256),
        temperature: Some(0.2),
        top_p: Some(0.9),
        stop: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
        reasoning_effort: Some("low".into()),
        ..GenerationParams::default()
    })
}

#[tokio::test]
async fn a_reasoning_model_gets_max_completion_tokens_the_developer_role_and_no_sampling() {
    let fake = FakeOpenAi::start().await;
    let m = OpenAiPlatformModel::new(
        &http(),
        &endpoint("gpt-5-mini", None, None),
        &operator(&fake, "sk-op"),
    )
    .unwrap();
    m.generate(&chat_with_system()).await.unwrap();
    let seen = fake.last_request().unwrap();
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.header("authorization"), Some("Bearer sk-op"));
    assert_eq!(
        seen.body,
        json!({
            "model": "gpt-5-mini",
            "messages": [{"role": "developer", "content": "You are GitLab Duo."},
                         {"role": "user", "content": "Hi"}],
            "max_completion_tokens": 256,
            "reasoning_effort": "low",
            "stop": ["a", "b", "c", "d"],
            "stream": false,
        })
    );
}

#[tokio::test]
async fn other_models_get_max_tokens_sampling_and_the_system_role() {
    let fake = FakeOpenAi::start().await;
    let m = OpenAiPlatformModel::new(
        &http(),
        &endpoint("gpt-4o", None, None),
        &operator(&fake, "sk-op"),
    )
    .unwrap();
    let (events, error) = drain(&m, &chat_with_system()).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "hello world");
    let seen = fake.last_request().unwrap();
    assert_eq!(seen.body["messages"][0]["role"], "system");
    assert_eq!(seen.body["max_tokens"], 256);
    assert!(seen.body.get("max_completion_tokens").is_none());
    assert_eq!(seen.body["temperature"], json!(0.2));
    assert_eq!(seen.body["stream"], true);
    assert!(
        m.upstream().starts_with("OpenAI at http://127.0.0.1:"),
        "{}",
        m.upstream()
    );
}

#[tokio::test]
async fn the_operators_key_goes_only_to_the_operators_url() {
    let operator_side = FakeOpenAi::start().await;
    let request_side = FakeOpenAi::start().await;
    let settings = operator(&operator_side, "sk-operator");
    // No endpoint: the operator's URL; the request's key if it has one, else the operator's.
    for (key, sent) in [
        (None, "Bearer sk-operator"),
        (Some("sk-user"), "Bearer sk-user"),
    ] {
        OpenAiPlatformModel::new(&http(), &endpoint("gpt-4o", None, key), &settings)
            .unwrap()
            .generate(&completion("x"))
            .await
            .unwrap();
        assert_eq!(
            operator_side
                .last_request()
                .unwrap()
                .header("authorization"),
            Some(sent)
        );
    }
    // A named endpoint: its own key, or the placeholder vLLM servers expect; never the operator's.
    for (key, sent) in [
        (None, "Bearer dummy_key"),
        (Some("sk-user"), "Bearer sk-user"),
    ] {
        OpenAiPlatformModel::new(
            &http(),
            &endpoint("gpt-4o", Some(&request_side.url()), key),
            &settings,
        )
        .unwrap()
        .generate(&completion("x"))
        .await
        .unwrap();
        let seen = request_side.last_request().unwrap();
        assert_eq!(seen.header("authorization"), Some(sent));
        assert!(!seen.raw_body.contains("sk-operator"));
    }
    assert_eq!(operator_side.request_count(), 2);
}

#[tokio::test]
async fn the_operators_key_is_scrubbed_from_upstream_errors() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::error(
        401,
        r#"{"error": {"message": "Incorrect API key provided: sk-operator-secret", "type": "invalid_request_error", "code": "invalid_api_key"}}"#,
    ));
    let m = OpenAiPlatformModel::new(
        &http(),
        &endpoint("gpt-4o", None, None),
        &operator(&fake, "sk-operator-secret"),
    )
    .unwrap();
    let err = m.generate(&completion("x")).await.unwrap_err();
    assert_eq!(err.kind(), "upstream_auth");
    assert!(!err.to_string().contains("sk-operator-secret"), "{err}");
}

#[tokio::test]
async fn a_bad_operator_url_is_a_config_error_at_start() {
    let mut config = duo_providers::ProviderConfig::default();
    config.openai.base_url = "api.openai.com".into();
    let err = duo_providers::Registry::try_new(config).unwrap_err();
    assert!(
        matches!(&err, duo_core::Error::Config(m) if m.starts_with("openai.base_url")),
        "{err:?}"
    );
}
