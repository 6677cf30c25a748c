//! The operator's extra headers (`ExtraHeaders`) on the HTTP providers: sent to endpoints a
//! request names, never to an operator default, and scrubbed from what an upstream says back.
#![cfg(all(feature = "vllm", feature = "anthropic"))]
#![allow(clippy::unwrap_used)]

mod common;

use common::{chat, endpoint, http};
use duo_core::{LanguageModel, ModelEndpoint, ModelFamily, ModelIdentifier, Secret};
use duo_providers::ExtraHeaders;
use duo_providers::OpenAiSettings;
use duo_providers::anthropic::{AnthropicModel, AnthropicSettings};
use duo_providers::openai::OpenAiCompatibleModel;
use duo_testkit::anthropic::FakeAnthropic;
use duo_testkit::openai::{FakeOpenAi, Reply};
use futures::StreamExt;

const VALUE: &str = "apim-subscription-0123456789";

fn headers() -> ExtraHeaders {
    ExtraHeaders::new([("Ocp-Apim-Subscription-Key", &Secret::new(VALUE))]).unwrap()
}

#[tokio::test]
async fn an_upstream_that_echoes_the_header_has_it_scrubbed_from_the_error() {
    let fake = FakeOpenAi::start().await;
    let echo = format!(r#"{{"error": {{"message": "subscription key {VALUE} is not valid"}}}}"#);
    fake.set_default(Reply::error(401, echo));
    let http = http().with_extra_headers(headers());
    let model = OpenAiCompatibleModel::new(
        &http,
        &endpoint("custom_openai/codestral", &fake.url(), None),
        &OpenAiSettings::default(),
    )
    .unwrap();
    let err = model.generate(&chat("hi")).await.unwrap_err();
    assert_eq!(
        fake.last_request()
            .unwrap()
            .header("ocp-apim-subscription-key"),
        Some(VALUE)
    );
    let text = err.to_string();
    assert!(
        text.contains("subscription key"),
        "the message is kept: {text}"
    );
    assert!(!text.contains(VALUE), "{text}");
    let err = match model.generate_stream(&chat("hi")).await {
        Err(e) => e,
        Ok(mut s) => s.next().await.unwrap().unwrap_err(),
    };
    assert!(!err.to_string().contains(VALUE), "{err}");
}

#[tokio::test]
async fn an_operator_default_endpoint_never_gets_the_headers() {
    let fake = FakeAnthropic::start().await;
    let http = http().with_extra_headers(headers());
    let settings = AnthropicSettings {
        base_url: fake.url(),
        api_key: Some(Secret::new("sk-ant-operator")),
        ..AnthropicSettings::default()
    };
    let operator_default = ModelEndpoint::new(
        ModelIdentifier::parse("anthropic/claude-sonnet-4-5").unwrap(),
        ModelFamily::parse("claude_3"),
    );
    let model = AnthropicModel::new(&http, &operator_default, &settings).unwrap();
    model.generate(&chat("hi")).await.unwrap();
    assert_eq!(
        fake.last_request()
            .unwrap()
            .header("ocp-apim-subscription-key"),
        None
    );
    let named = operator_default.with_base_url(fake.url());
    let model = AnthropicModel::new(&http, &named, &settings).unwrap();
    model.generate(&chat("hi")).await.unwrap();
    assert_eq!(
        fake.last_request()
            .unwrap()
            .header("ocp-apim-subscription-key"),
        Some(VALUE)
    );
}
