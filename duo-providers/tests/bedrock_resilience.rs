//! The resilience wrapper around the Bedrock client: retries before the first event (the SDK's
//! own retries are off, so each attempt is one request), none after it, and the wrapper's
//! first-byte timeout covering a ConverseStream whose first frame is slow.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use duo_core::{
    Error, LanguageModel, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt,
    Secret, StreamEvent, TimeoutPhase,
};
use duo_providers::bedrock::{BedrockModel, BedrockProvider, BedrockSettings};
use duo_providers::{ResilienceConfig, Resilient};
use duo_testkit::bedrock::{Answer, ErrorReply, FakeBedrock, StreamException};
use futures::StreamExt;

const HANG: Duration = Duration::from_secs(20);

async fn setup() -> (FakeBedrock, Resilient<BedrockModel>) {
    let fake = FakeBedrock::start().await;
    let model = BedrockProvider::new(BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new("test-secret-key")),
        endpoint_url: Some(fake.url()),
        ..BedrockSettings::default()
    })
    .model(&ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/anthropic.claude-3-haiku-20240307-v1:0").unwrap(),
        ModelFamily::Claude3,
    ))
    .await
    .unwrap();
    let config = ResilienceConfig {
        first_byte_timeout: Duration::from_millis(300),
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..ResilienceConfig::default()
    };
    (fake, Resilient::new(model, config))
}

fn request() -> ModelRequest {
    ModelRequest::new(Prompt::Text("hello".into()))
}

async fn run(model: &Resilient<BedrockModel>) -> (Vec<StreamEvent>, Option<Error>) {
    let run = async {
        let mut stream = match model.generate_stream(&request()).await {
            Ok(stream) => stream,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => events.push(event),
                Err(e) => return (events, Some(e)),
            }
        }
        (events, None)
    };
    tokio::time::timeout(HANG, run).await.expect("hang")
}

#[tokio::test]
async fn throttling_then_success_is_retried_once() {
    let (fake, model) = setup().await;
    fake.push(ErrorReply::throttling());
    fake.push(Answer::chunks(["second ", "try"]));
    let (events, err) = run(&model).await;
    assert_eq!(err, None);
    assert_eq!(events[0], StreamEvent::Delta("second ".into()));
    assert!(matches!(events.last(), Some(StreamEvent::Finish { .. })));
    assert_eq!(
        fake.requests().len(),
        2,
        "one SDK attempt per wrapper attempt"
    );
    // and for Converse too
    fake.push(ErrorReply::unavailable());
    fake.push(Answer::text("ok"));
    let generation = model.generate(&request()).await.unwrap();
    assert_eq!(generation.text, "ok");
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (fake, model) = setup().await;
    fake.set_default(ErrorReply::validation());
    let (_, err) = run(&model).await;
    assert!(
        matches!(err, Some(Error::UpstreamStatus { status: 400, .. })),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn no_retry_once_a_delta_was_delivered() {
    let (fake, model) = setup().await;
    fake.set_default(
        Answer::chunks(["partial", "never"])
            .exception_after_frames(2, StreamException::model_stream_error()),
    );
    let (events, err) = run(&model).await;
    assert_eq!(events, [StreamEvent::Delta("partial".into())]);
    assert!(matches!(err, Some(Error::BrokenStream { .. })), "{err:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_first_frame_hits_the_first_byte_timeout_and_the_retry_succeeds() {
    let (fake, model) = setup().await;
    // headers at once, then every frame 5 s late: the SDK waits for the first frame
    fake.push(Answer::text("late").delay_frames(Duration::from_secs(5)));
    fake.push(Answer::text("on time"));
    let (events, err) = run(&model).await;
    assert_eq!(err, None);
    assert_eq!(events[0], StreamEvent::Delta("on time".into()));
    assert_eq!(fake.requests().len(), 2);
    // always slow: the error names the phase
    fake.set_default(Answer::text("late").delay_frames(Duration::from_secs(5)));
    let (_, err) = run(&model).await;
    assert!(
        matches!(
            err,
            Some(Error::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            })
        ),
        "{err:?}"
    );
}
