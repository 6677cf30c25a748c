//! Bedrock guardrails through the real AWS SDK against `FakeBedrock` over loopback: the
//! `guardrailConfig` of Converse and ConverseStream, and an intervention (`stopReason`
//! `guardrail_intervened`, with or without a trace) as the guardrail's text with a content-filter
//! finish, not an error.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use duo_core::{
    FinishReason, LanguageModel, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt,
    Secret, StreamEvent, Usage,
};
use duo_providers::bedrock::{
    BedrockModel, BedrockProvider, BedrockSettings, GuardrailSettings, GuardrailTrace,
};
use duo_testkit::bedrock::{Answer, FakeBedrock, Operation};
use futures::StreamExt;
use serde_json::json;

const BLOCKED: &str = "Sorry, the model cannot answer this question.";

fn guardrail(trace: GuardrailTrace) -> GuardrailSettings {
    GuardrailSettings {
        identifier: Some("gr7abc123".into()),
        version: Some("3".into()),
        trace,
    }
}

async fn setup(guardrail: Option<GuardrailSettings>) -> (FakeBedrock, BedrockModel) {
    let fake = FakeBedrock::start().await;
    let settings = BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new("test-secret-key")),
        endpoint_url: Some(fake.url()),
        guardrail,
        ..BedrockSettings::default()
    };
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap(),
        ModelFamily::Claude3,
    );
    let model = BedrockProvider::new(settings)
        .model(&endpoint)
        .await
        .unwrap();
    (fake, model)
}

fn request() -> ModelRequest {
    ModelRequest::new(Prompt::Text("Which stocks should I buy?".into()))
}

async fn stream(model: &BedrockModel) -> Vec<StreamEvent> {
    let events = model.generate_stream(&request()).await.unwrap();
    events.map(|e| e.unwrap()).collect().await
}

#[tokio::test]
async fn the_guardrail_goes_out_on_converse_and_converse_stream() {
    let (fake, model) = setup(Some(guardrail(GuardrailTrace::Enabled))).await;
    model.generate(&request()).await.unwrap();
    stream(&model).await;
    let requests = fake.requests();
    assert_eq!(requests[0].operation, Operation::Converse);
    assert_eq!(requests[1].operation, Operation::ConverseStream);
    let mut expected =
        json!({"guardrailIdentifier": "gr7abc123", "guardrailVersion": "3", "trace": "enabled"});
    assert_eq!(requests[0].guardrail_config(), Some(&expected));
    // ConverseStream's GuardrailStreamConfiguration: the same, with the default processing
    // mode, which the SDK writes out
    expected["streamProcessingMode"] = json!("sync");
    assert_eq!(requests[1].guardrail_config(), Some(&expected));
}

#[tokio::test]
async fn gitlabs_json_config_reaches_bedrock_and_no_guardrail_sends_none() {
    let from_json = GuardrailSettings::from_json(
        r#"{"guardrailIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr7abc123", "guardrailVersion": "DRAFT"}"#,
    )
    .unwrap();
    let (fake, model) = setup(Some(from_json)).await;
    model.generate(&request()).await.unwrap();
    assert_eq!(
        fake.requests()[0].guardrail_config(),
        Some(&json!({
            "guardrailIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr7abc123",
            "guardrailVersion": "DRAFT",
            "trace": "disabled",
        }))
    );
    let (plain, model) = setup(None).await;
    model.generate(&request()).await.unwrap();
    stream(&model).await;
    assert!(
        plain
            .requests()
            .iter()
            .all(|r| r.guardrail_config().is_none())
    );
}

#[tokio::test]
async fn an_intervention_is_the_guardrails_text_with_a_content_filter_finish() {
    for trace in [GuardrailTrace::Enabled, GuardrailTrace::Disabled] {
        let (fake, model) = setup(Some(guardrail(trace))).await;
        fake.set_default(Answer::guardrail_intervened(BLOCKED).with_usage(9, 0));
        let generation = model.generate(&request()).await.unwrap();
        assert_eq!(generation.text, BLOCKED);
        assert_eq!(generation.finish_reason, FinishReason::ContentFilter);
        assert_eq!(
            generation.usage,
            Some(Usage {
                input_tokens: 9,
                output_tokens: 0
            })
        );
        assert_eq!(
            stream(&model).await,
            vec![
                StreamEvent::Delta(BLOCKED.into()),
                StreamEvent::Finish {
                    reason: FinishReason::ContentFilter,
                    usage: Some(Usage {
                        input_tokens: 9,
                        output_tokens: 0
                    }),
                },
            ],
            "{trace:?}"
        );
        // With trace enabled the answers carried `trace.guardrail` (the fake sends it only then),
        // which the client accepted.
        let traced = fake.requests().iter().all(|r| r.guardrail_trace_enabled());
        assert_eq!(traced, trace == GuardrailTrace::Enabled);
    }
}
