//! The Azure OpenAI client against `FakeOpenAi`'s Azure routes over loopback.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions unwrap too
#![cfg(feature = "azure")]

mod common;

use std::time::Duration;

use common::{chat, completion, deltas, drain, endpoint, http, text};
use duo_core::{Error, FinishReason, LanguageModel, StreamEvent, Usage};
use duo_providers::azure::AzureOpenAiModel;
use duo_providers::{AzureAuth, AzureSettings};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::json;

fn model(fake: &FakeOpenAi, settings: &AzureSettings) -> AzureOpenAiModel {
    let ep = endpoint("azure/gpt-4o", &fake.azure_url(), Some("azure-key-1"));
    AzureOpenAiModel::new(&http(), &ep, settings).unwrap()
}

#[tokio::test]
async fn chat_without_streaming_goes_to_the_deployment_with_api_key_and_four_stops() {
    let fake = FakeOpenAi::start().await;
    fake.require_key("azure-key-1");
    fake.script(Reply::answer("Hi there").usage(9, 2));
    let m = model(&fake, &AzureSettings::default());
    let mut request = chat("hello");
    request.params = completion("").params;
    let g = m.generate(&request).await.unwrap();
    assert_eq!(g.text, "Hi there");
    assert_eq!(
        g.usage,
        Some(Usage {
            input_tokens: 9,
            output_tokens: 2
        })
    );

    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/openai/deployments/gpt-4o/chat/completions");
    assert_eq!(req.query_param("api-version"), Some("2024-10-21"));
    assert_eq!(req.header("api-key"), Some("azure-key-1"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(
        req.body,
        json!({"messages": [{"role": "user", "content": "hello"}], "max_tokens": 64,
               "temperature": 0.25, "top_p": 0.5, "stream": false,
               "stop": ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]"]})
    );
    assert_eq!(
        m.upstream(),
        format!("Azure OpenAI deployment gpt-4o at {}", fake.azure_url())
    );
    assert_eq!((m.provider(), m.model()), ("azure_openai", "gpt-4o"));
}

#[tokio::test]
async fn a_reasoning_model_deployment_gets_the_reasoning_rules() {
    let fake = FakeOpenAi::start().await;
    let ep = endpoint("azure/gpt-5-mini", &fake.azure_url(), Some("azure-key-1"));
    let m = AzureOpenAiModel::new(&http(), &ep, &AzureSettings::default()).unwrap();
    let mut request = chat("hello");
    request.params = completion("").params;
    request.prompt = duo_core::Prompt::Chat(vec![
        duo_core::Message::system("Be brief."),
        duo_core::Message::user("hello"),
    ]);
    m.generate(&request).await.unwrap();
    let body = fake.last_request().unwrap().body;
    assert_eq!(body["max_completion_tokens"], 64);
    assert!(body.get("max_tokens").is_none(), "{body}");
    assert!(
        body.get("temperature").is_none() && body.get("top_p").is_none(),
        "{body}"
    );
    assert_eq!(body["messages"][0]["role"], "developer");
}

#[tokio::test]
async fn streams_skip_the_prompt_filter_chunk_and_end_with_usage() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("The answer is 42.").chunks(4).usage(5, 4));
    let m = model(&fake, &AzureSettings::default());
    let (events, err) = drain(&m, &chat("question")).await.unwrap();
    assert_eq!(err, None);
    assert_eq!(text(&events), "The answer is 42.");
    assert_eq!(deltas(&events), 4);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: Some(Usage {
                input_tokens: 5,
                output_tokens: 4
            })
        })
    );
    let req = fake.last_request().unwrap();
    assert_eq!(req.body["stream_options"], json!({"include_usage": true}));
    assert!(
        req.body.get("model").is_none(),
        "the deployment is in the path"
    );
}

#[tokio::test]
async fn text_prompts_use_the_completions_route_and_bearer_auth_and_api_version_are_configurable() {
    let fake = FakeOpenAi::start().await;
    let settings = AzureSettings {
        api_version: "2024-06-01".into(),
        auth: AzureAuth::Bearer,
    };
    let m = model(&fake, &settings);
    let (events, err) = drain(&m, &completion("def f():")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("hello world", None));
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/openai/deployments/gpt-4o/completions");
    assert_eq!(req.query_param("api-version"), Some("2024-06-01"));
    assert_eq!(req.header("authorization"), Some("Bearer azure-key-1"));
    assert_eq!(req.header("api-key"), None);
    assert_eq!(req.body["prompt"], "def f():");
    assert_eq!(req.body["stop"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn a_filtered_prompt_is_content_filtered_naming_the_category() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, &AzureSettings::default());
    for streaming in [false, true] {
        fake.script(Reply::content_filter());
        let err = if streaming {
            drain(&m, &chat("x")).await.unwrap_err()
        } else {
            m.generate(&chat("x")).await.unwrap_err()
        };
        match &err {
            Error::ContentFiltered { upstream, message } => {
                assert_eq!(*upstream, m.upstream());
                assert!(message.contains("content management policy"), "{message}");
                assert!(
                    message.ends_with("[filtered: violence (medium)]"),
                    "{message}"
                );
            }
            other => panic!("expected ContentFiltered, got {other:?}"),
        }
        assert_eq!(err.fault(), duo_core::Fault::Client);
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn an_answer_cut_by_the_filter_finishes_with_content_filter() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("partial").finish_reason("content_filter"));
    let m = model(&fake, &AzureSettings::default());
    let (events, _) = drain(&m, &chat("x")).await.unwrap();
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Finish {
                reason: FinishReason::ContentFilter,
                ..
            })
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn azure_statuses_map_to_exact_errors() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, &AzureSettings::default());
    let upstream = m.upstream().to_owned();
    fake.script(
        Reply::status(429)
            .header("retry-after-ms", "150")
            .retry_after("1"),
    );
    assert_eq!(
        m.generate(&chat("x")).await.unwrap_err(),
        Error::RateLimited {
            upstream: upstream.clone(),
            retry_after: Some(Duration::from_millis(150)),
            message: "the fake upstream was scripted to answer 429".into()
        }
    );
    for status in [400u16, 404, 500, 503] {
        fake.script(Reply::status(status));
        let err = drain(&m, &chat("x")).await.unwrap_err();
        assert_eq!(err.upstream_status(), Some(status));
        assert_eq!(err.kind(), "upstream_status");
    }

    fake.require_key("another-key");
    let err = m.generate(&chat("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::UpstreamAuth { status: 401, message, .. } if message.starts_with("Access denied")),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("azure-key-1"));
}

#[tokio::test]
async fn the_probe_is_a_one_token_chat_call() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, &AzureSettings::default());
    m.probe().await.unwrap();
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/openai/deployments/gpt-4o/chat/completions");
    assert_eq!(req.body["max_tokens"], 1);
    fake.script(Reply::status(401));
    assert_eq!(m.probe().await.unwrap_err().kind(), "upstream_auth");
}

#[tokio::test]
async fn deployment_names_are_path_encoded() {
    let fake = FakeOpenAi::start().await;
    let ep = endpoint("azure/my deployment", &fake.azure_url(), Some("k"));
    let m = AzureOpenAiModel::new(&http(), &ep, &AzureSettings::default()).unwrap();
    m.generate(&chat("x")).await.unwrap();
    assert_eq!(
        fake.last_request().unwrap().path,
        "/openai/deployments/my%20deployment/chat/completions"
    );
}
