//! Bedrock answers and requests, through the real AWS SDK against `FakeBedrock` over loopback.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use duo_core::{
    FinishReason, GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily,
    ModelIdentifier, ModelRequest, Prompt, Secret, StreamEvent, Usage,
};
use duo_providers::bedrock::{BedrockModel, BedrockProvider, BedrockSettings, FIM_MARKER};
use duo_testkit::bedrock::{Answer, FakeBedrock, Operation};
use futures::StreamExt;
use serde_json::json;

const MODEL_ID: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

fn settings(fake: &FakeBedrock) -> BedrockSettings {
    BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new(SECRET)),
        endpoint_url: Some(fake.url()),
        ..BedrockSettings::default()
    }
}

fn endpoint() -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse(&format!("bedrock/{MODEL_ID}")).unwrap(),
        ModelFamily::Claude3,
    )
}

async fn setup() -> (FakeBedrock, BedrockModel) {
    let fake = FakeBedrock::start().await;
    let model = BedrockProvider::new(settings(&fake))
        .model(&endpoint())
        .await
        .unwrap();
    (fake, model)
}

fn text(prompt: &str) -> ModelRequest {
    ModelRequest::new(Prompt::Text(prompt.into()))
}

async fn collect(model: &BedrockModel, request: &ModelRequest) -> Vec<StreamEvent> {
    let stream = model.generate_stream(request).await.unwrap();
    stream.map(|e| e.unwrap()).collect().await
}

#[tokio::test]
async fn converse_returns_the_text_reason_and_usage() {
    let (fake, model) = setup().await;
    fake.push(
        Answer::chunks(["def ", "add(a, b):"])
            .with_usage(12, 3)
            .with_stop_reason("max_tokens"),
    );
    let generation = model.generate(&text("write add")).await.unwrap();
    assert_eq!(generation.text, "def add(a, b):");
    assert_eq!(generation.finish_reason, FinishReason::Length);
    assert_eq!(
        generation.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 3
        })
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].operation, Operation::Converse);
    assert_eq!(requests[0].model_id, MODEL_ID);
    assert_eq!(
        requests[0].path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(
        requests[0].body,
        json!({ "messages": [ { "role": "user", "content": [ { "text": "write add" } ] } ] })
    );
}

#[tokio::test]
async fn converse_stream_yields_each_delta_then_finish_with_usage() {
    let (fake, model) = setup().await;
    fake.push(Answer::chunks(["Hel", "lo, ", "wörld"]).with_usage(5, 4));
    let events = collect(&model, &text("hi")).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::Delta("Hel".into()),
            StreamEvent::Delta("lo, ".into()),
            StreamEvent::Delta("wörld".into()),
            StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: Some(Usage {
                    input_tokens: 5,
                    output_tokens: 4
                }),
            },
        ]
    );
    let requests = fake.requests();
    assert_eq!(requests[0].operation, Operation::ConverseStream);
    assert_eq!(
        requests[0].path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
    );
}

#[tokio::test]
async fn a_stream_without_metadata_still_finishes_after_message_stop() {
    let (fake, model) = setup().await;
    // frames: messageStart, 2 deltas, contentBlockStop, messageStop | metadata cut off
    fake.push(
        Answer::chunks(["a", "b"])
            .with_stop_reason("stop_sequence")
            .cut(duo_testkit::bedrock::Cut::AfterFrames(5)),
    );
    let events = collect(&model, &text("x")).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: None
        })
    );
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn chat_prompt_and_params_reach_bedrock_as_system_messages_and_inference_config() {
    let (fake, model) = setup().await;
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are a careful reviewer."),
        Message::user("Here is the diff."),
        Message::user("Review it."),
        Message::assistant("Looks good, one nit:"),
        Message::user("Which one?"),
    ]))
    .with_params(GenerationParams {
        max_tokens: Some(256),
        temperature: Some(0.25),
        top_p: Some(0.5),
        stop: vec!["</review>".into(), "\n\nHuman:".into()],
        timeout: None,
        reasoning_effort: None,
    });
    model.generate(&request).await.unwrap();
    let stream = model.generate_stream(&request).await.unwrap();
    assert!(stream.count().await > 0);
    let expected = json!({
        "system": [ { "text": "You are a careful reviewer." } ],
        "messages": [
            { "role": "user", "content": [ { "text": "Here is the diff." }, { "text": "Review it." } ] },
            { "role": "assistant", "content": [ { "text": "Looks good, one nit:" } ] },
            { "role": "user", "content": [ { "text": "Which one?" } ] },
        ],
        "inferenceConfig": {
            "maxTokens": 256,
            "temperature": 0.25,
            "topP": 0.5,
            "stopSequences": [ "</review>", "\n\nHuman:" ],
        },
    });
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, expected);
    assert_eq!(
        requests[1].body, expected,
        "ConverseStream sends the same body"
    );
}

#[tokio::test]
async fn fill_in_the_middle_is_one_user_turn_with_the_cursor_marker() {
    let (fake, model) = setup().await;
    let request = ModelRequest::new(Prompt::FillInTheMiddle {
        prefix: "fn add(a: i32, b: i32) -> i32 {\n    ".into(),
        suffix: "\n}\n".into(),
    });
    model.generate(&request).await.unwrap();
    let body = &fake.requests()[0].body;
    assert!(body.get("system").is_none());
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    let turn = messages[0]["content"][0]["text"].as_str().unwrap();
    assert!(
        turn.contains(&format!(
            "fn add(a: i32, b: i32) -> i32 {{\n    {FIM_MARKER}\n}}\n"
        )),
        "{turn}"
    );
}

#[tokio::test]
async fn requests_are_sigv4_signed_and_never_carry_the_secret() {
    let fake = FakeBedrock::start().await;
    let settings = BedrockSettings {
        session_token: Some(Secret::new(TOKEN)),
        ..settings(&fake)
    };
    let model = BedrockProvider::new(settings)
        .model(&endpoint())
        .await
        .unwrap();
    model.generate(&text("hi")).await.unwrap();
    let request = &fake.requests()[0];
    let auth = request.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
    assert!(auth.contains("SignedHeaders=") && auth.contains("Signature="));
    let date = request.header("x-amz-date").unwrap();
    assert_eq!(date.len(), 16, "{date}"); // 20240620T120000Z
    assert_eq!(request.header("x-amz-security-token"), Some(TOKEN));
    assert_eq!(request.header("content-type"), Some("application/json"));
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains(SECRET), "secret in header {name}");
    }
}

#[tokio::test]
async fn a_request_supplied_endpoint_never_gets_the_operators_credentials() {
    let operator = FakeBedrock::start().await;
    let attacker = FakeBedrock::start().await;
    let provider = BedrockProvider::new(settings(&operator));
    let model = provider
        .model(&endpoint().with_base_url(attacker.url()))
        .await
        .unwrap();
    assert_eq!(
        model.upstream(),
        format!("AWS Bedrock at {} (us-east-1)", operator.url())
    );
    assert_eq!(model.provider(), "bedrock");
    assert_eq!(LanguageModel::model(&model), MODEL_ID);
    model.generate(&text("hi")).await.unwrap();
    assert_eq!(operator.requests().len(), 1);
    assert!(
        attacker.requests().is_empty(),
        "nothing signed goes to the request's host"
    );
}

#[tokio::test]
async fn provider_rejects_non_bedrock_endpoints_bad_urls_and_half_key_pairs() {
    let fake = FakeBedrock::start().await;
    let provider = BedrockProvider::new(settings(&fake));
    let vllm = ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/codestral").unwrap(),
        ModelFamily::Codestral,
    );
    assert_eq!(
        provider.model(&vllm).await.unwrap_err().kind(),
        "invalid_request"
    );
    let bad = BedrockProvider::new(BedrockSettings {
        endpoint_url: Some("bedrock.internal:443".into()),
        ..settings(&fake)
    });
    assert_eq!(bad.model(&endpoint()).await.unwrap_err().kind(), "config");
    let half_keys = BedrockProvider::new(BedrockSettings {
        secret_access_key: None,
        ..settings(&fake)
    });
    assert_eq!(
        half_keys.model(&endpoint()).await.unwrap_err().kind(),
        "config"
    );
}

#[tokio::test]
async fn probe_asks_for_one_token() {
    let (fake, model) = setup().await;
    model.probe().await.unwrap();
    assert_eq!(
        fake.requests()[0].body["inferenceConfig"],
        json!({ "maxTokens": 1 })
    );
}

#[tokio::test]
async fn one_provider_serves_many_calls_and_models() {
    let (fake, model) = setup().await;
    for i in 0..5 {
        fake.push(Answer::text(format!("answer {i}")));
    }
    for i in 0..5 {
        let events = collect(&model, &text("q")).await;
        assert_eq!(events[0], StreamEvent::Delta(format!("answer {i}")));
    }
    assert_eq!(fake.requests().len(), 5);
}

#[tokio::test]
async fn calls_share_pooled_connections() {
    let (fake, model) = setup().await;
    for _ in 0..5 {
        collect(&model, &text("q")).await;
        model.generate(&text("q")).await.unwrap();
    }
    let mut peers: Vec<_> = fake.requests().iter().map(|r| r.peer).collect();
    assert_eq!(peers.len(), 10);
    peers.sort_unstable();
    peers.dedup();
    // one connection per call would be 10; a pooled client reuses them
    assert!(peers.len() < 5, "{peers:?}");
}

fn endpoint_for(identifier: &str) -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse(identifier).unwrap(),
        ModelFamily::Claude3,
    )
}

#[tokio::test]
async fn an_application_inference_profile_arn_is_the_model_id_in_one_path_segment() {
    let fake = FakeBedrock::start().await;
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcd1234";
    let model = BedrockProvider::new(settings(&fake))
        .model(&endpoint_for(&format!("bedrock/converse/{arn}")))
        .await
        .unwrap();
    assert_eq!(LanguageModel::model(&model), arn);
    model.generate(&text("hi")).await.unwrap();
    collect(&model, &text("hi")).await;
    let requests = fake.requests();
    let encoded =
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabcd1234";
    assert_eq!(requests[0].path, format!("/model/{encoded}/converse"));
    assert_eq!(
        requests[1].path,
        format!("/model/{encoded}/converse-stream")
    );
    assert!(requests.iter().all(|r| r.model_id == arn));
}

#[tokio::test]
async fn cross_region_profile_ids_are_sent_unchanged() {
    let fake = FakeBedrock::start().await;
    let provider = BedrockProvider::new(settings(&fake));
    for id in [
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ] {
        let model = provider
            .model(&endpoint_for(&format!("bedrock/{id}")))
            .await
            .unwrap();
        model.generate(&text("hi")).await.unwrap();
        let request = fake.requests().pop().unwrap();
        assert_eq!(request.model_id, id);
        assert_eq!(
            request.path,
            format!("/model/{}/converse", id.replace(':', "%3A"))
        );
    }
}

#[tokio::test]
async fn an_identifier_that_is_no_bedrock_model_id_is_refused_before_any_request() {
    let fake = FakeBedrock::start().await;
    let provider = BedrockProvider::new(settings(&fake));
    for bad in [
        "bedrock/invoke/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "bedrock/anthropic/claude-3",
        "bedrock/converse/arn:aws:iam::123456789012:role/x",
        "bedrock/claude 3",
    ] {
        let err = provider.model(&endpoint_for(bad)).await.unwrap_err();
        assert!(
            matches!(&err, duo_core::Error::InvalidRequest(m) if m.contains("names no Bedrock model")),
            "{bad}: {err:?}"
        );
    }
    assert!(fake.requests().is_empty());
}
