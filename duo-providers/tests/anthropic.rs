//! The Anthropic provider over real loopback HTTP against duo-testkit's fake Messages API:
//! request shape, whose key goes where, streams, stop reasons and errors.
#![cfg(feature = "anthropic")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{chat, drain, fast_retries, http, text};
use duo_core::{
    Error, FinishReason, GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily,
    ModelIdentifier, ModelRequest, Prompt, Secret, StreamEvent, Usage,
};
use duo_providers::anthropic::{AnthropicModel, AnthropicSettings};
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::anthropic::{FakeAnthropic, Reply};
use serde_json::json;

const MODEL: &str = "anthropic/claude-sonnet-4-5";

fn endpoint(base_url: Option<&str>, key: Option<&str>) -> ModelEndpoint {
    let mut ep = ModelEndpoint::new(
        ModelIdentifier::parse(MODEL).unwrap(),
        ModelFamily::parse("claude_3"),
    );
    if let Some(url) = base_url {
        ep = ep.with_base_url(url);
    }
    if let Some(key) = key {
        ep = ep.with_api_key(Secret::new(key));
    }
    ep
}

/// Settings whose operator endpoint is `fake` and whose operator key is `key`.
fn operator(fake: &FakeAnthropic, key: &str) -> AnthropicSettings {
    AnthropicSettings {
        base_url: fake.url(),
        api_key: Some(Secret::new(key)),
        ..AnthropicSettings::default()
    }
}

fn model(endpoint: &ModelEndpoint, settings: &AnthropicSettings) -> AnthropicModel {
    AnthropicModel::new(&http(), endpoint, settings).unwrap()
}

#[tokio::test]
async fn a_chat_is_sent_as_the_messages_api_expects() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::text("Hi there").usage(12, 3));
    let m = model(&endpoint(None, None), &operator(&fake, "sk-operator"));
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are GitLab Duo."),
        Message::system("Be brief."),
        Message::user("Hello"),
        Message::user("again"),
        Message::assistant("Sure:"),
    ]))
    .with_params(GenerationParams {
        temperature: Some(0.1),
        top_p: Some(0.9),
        stop: vec!["\n\nHuman:".into(), " ".into()],
        ..GenerationParams::default()
    });
    let answer = m.generate(&request).await.unwrap();
    assert_eq!(answer.text, "Hi there");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(
        answer.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 3
        })
    );
    let seen = fake.last_request().unwrap();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(seen.header("x-api-key"), Some("sk-operator"));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(
        seen.body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "You are GitLab Duo.\n\nBe brief.",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Hello"}, {"type": "text", "text": "again"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "Sure:"}]},
            ],
            "stop_sequences": ["\n\nHuman:"],
            "temperature": 0.1,
            "stream": false,
        })
    );
}

#[tokio::test]
async fn a_stream_yields_its_text_and_one_finish() {
    let fake = FakeAnthropic::start().await;
    fake.script(
        Reply::text("def add(a, b):\n    return a + b")
            .chunks(5)
            .usage(30, 9),
    );
    let m = model(&endpoint(None, None), &operator(&fake, "k"));
    let request =
        ModelRequest::new(Prompt::Text("complete".into())).with_params(GenerationParams {
            max_tokens: Some(64),
            ..GenerationParams::default()
        });
    let (events, error) = drain(&m, &request).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "def add(a, b):\n    return a + b");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: Some(Usage {
                input_tokens: 30,
                output_tokens: 9
            }),
        })
    );
    let seen = fake.last_request().unwrap();
    assert_eq!(seen.body["stream"], true);
    assert_eq!(seen.body["max_tokens"], 64);
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert_eq!(
        seen.body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "complete"}]}])
    );
}

#[tokio::test]
async fn without_an_endpoint_the_operators_url_and_key_are_used_and_a_request_key_wins() {
    let fake = FakeAnthropic::start().await;
    fake.require_key("sk-operator");
    let settings = operator(&fake, "sk-operator");
    model(&endpoint(None, None), &settings)
        .generate(&chat("hi"))
        .await
        .unwrap();
    // The request's own key, to the operator's URL (GitLab's gateway does the same).
    let err = model(&endpoint(None, Some("sk-user")), &settings)
        .generate(&chat("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UpstreamAuth { status: 401, .. }),
        "{err:?}"
    );
    let keys: Vec<_> = fake
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").map(str::to_owned))
        .collect();
    assert_eq!(keys, [Some("sk-operator".into()), Some("sk-user".into())]);
}

#[tokio::test]
async fn the_operators_key_never_goes_to_a_request_supplied_endpoint() {
    let operator_side = FakeAnthropic::start().await;
    let request_side = FakeAnthropic::start().await;
    let settings = operator(&operator_side, "sk-operator");
    // Named endpoint without a key: no key at all.
    model(&endpoint(Some(&request_side.url()), None), &settings)
        .generate(&chat("hi"))
        .await
        .unwrap();
    // Named endpoint with a key: that key.
    model(
        &endpoint(Some(&format!("{}/v1", request_side.url())), Some("sk-user")),
        &settings,
    )
    .generate(&chat("hi"))
    .await
    .unwrap();
    let seen = request_side.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("x-api-key"), None);
    assert_eq!(seen[1].header("x-api-key"), Some("sk-user"));
    assert_eq!(
        seen[1].path, "/v1/messages",
        "a base ending in /v1 is not doubled"
    );
    assert!(seen.iter().all(|r| !r.raw_body.contains("sk-operator")));
    assert_eq!(operator_side.request_count(), 0);
}

#[tokio::test]
async fn error_statuses_keep_anthropics_type_and_message_and_never_the_key() {
    let fake = FakeAnthropic::start().await;
    let m = model(&endpoint(None, None), &operator(&fake, "sk-secret-123"));
    for (reply, check) in [
        (
            Reply::error(
                400,
                "invalid_request_error",
                "messages: at least one message is required",
            ),
            Box::new(|e: &Error| {
                matches!(e, Error::UpstreamStatus { status: 400, code: Some(c), .. } if c == "invalid_request_error")
                    && e.to_string().contains("at least one message is required")
                    && !e.is_retryable()
            }) as Box<dyn Fn(&Error) -> bool>,
        ),
        (
            Reply::error(
                401,
                "authentication_error",
                "invalid x-api-key sk-secret-123",
            ),
            Box::new(|e: &Error| {
                matches!(e, Error::UpstreamAuth { status: 401, .. })
                    && !e.to_string().contains("sk-secret-123")
            }),
        ),
        (
            Reply::error(429, "rate_limit_error", "slow down").retry_after("7"),
            Box::new(
                |e: &Error| matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 7),
            ),
        ),
        (
            Reply::error(529, "overloaded_error", "Overloaded"),
            Box::new(|e: &Error| {
                matches!(e, Error::UpstreamStatus { status: 529, .. }) && e.is_retryable()
            }),
        ),
    ] {
        fake.script(reply);
        let err = m.generate(&chat("hi")).await.unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn an_overloaded_model_is_retried_through_the_registry() {
    let fake = FakeAnthropic::start().await;
    fake.script(Reply::error(529, "overloaded_error", "Overloaded"));
    fake.script(Reply::text("ok").stream_error_after(0, "overloaded_error", "Overloaded"));
    fake.script(Reply::text("third time lucky"));
    let mut config = ProviderConfig {
        resilience: fast_retries(),
        ..ProviderConfig::default()
    };
    config.resilience.max_retries = 2;
    config.anthropic = operator(&fake, "k");
    let registry = Registry::try_new(config).unwrap();
    let m = registry.model(&endpoint(None, None)).await.unwrap();
    let (events, error) = drain(m.as_ref(), &chat("hi")).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "third time lucky");
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn a_stream_that_fails_or_ends_early_is_never_a_complete_answer() {
    let fake = FakeAnthropic::start().await;
    let m = model(&endpoint(None, None), &operator(&fake, "k"));
    let full = "one two three four";
    fake.script(Reply::text(full).chunks(4).stream_error_after(
        2,
        "api_error",
        "Internal server error",
    ));
    let partial = |events: &[StreamEvent]| {
        let t = text(events);
        !t.is_empty() && t.len() < full.len() && full.starts_with(&t)
    };
    let (events, error) = drain(&m, &chat("hi")).await.unwrap();
    assert!(partial(&events), "{events:?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, StreamEvent::Finish { .. }))
    );
    let error = error.unwrap();
    assert!(
        error.to_string().contains("Internal server error"),
        "{error}"
    );

    fake.script(Reply::text(full).chunks(4).cut_after(2));
    let (events, error) = drain(&m, &chat("hi")).await.unwrap();
    assert!(partial(&events), "{events:?}");
    assert!(
        matches!(error, Some(Error::BrokenStream { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn stop_reasons_reach_the_answer() {
    let fake = FakeAnthropic::start().await;
    let m = model(&endpoint(None, None), &operator(&fake, "k"));
    for (stop, reason) in [
        ("max_tokens", FinishReason::Length),
        ("stop_sequence", FinishReason::Stop),
        ("refusal", FinishReason::ContentFilter),
    ] {
        fake.script(Reply::text("x").stop_reason(stop));
        assert_eq!(
            m.generate(&chat("hi")).await.unwrap().finish_reason,
            reason,
            "{stop}"
        );
        fake.script(Reply::text("x").stop_reason(stop));
        let (events, _) = drain(&m, &chat("hi")).await.unwrap();
        assert!(
            matches!(events.last(), Some(StreamEvent::Finish { reason: r, .. }) if *r == reason),
            "{stop}: {events:?}"
        );
    }
}

#[tokio::test]
async fn endpoints_of_other_platforms_and_bad_settings_are_refused() {
    let settings = AnthropicSettings::default();
    let vllm = ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/m").unwrap(),
        ModelFamily::parse("mistral"),
    )
    .with_base_url("http://h/v1");
    let err = AnthropicModel::new(&http(), &vllm, &settings).unwrap_err();
    assert_eq!(err.kind(), "invalid_request");
    let err =
        AnthropicModel::new(&http(), &endpoint(Some("ftp://h"), None), &settings).unwrap_err();
    assert!(err.to_string().contains("http:// or https://"), "{err}");

    let mut config = ProviderConfig::default();
    config.anthropic.base_url = "not a url".into();
    let err = Registry::try_new(config).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.starts_with("anthropic.base_url")),
        "{err:?}"
    );
    let mut config = ProviderConfig::default();
    config.anthropic.default_max_tokens = 0;
    assert!(Registry::try_new(config).is_err());
}
