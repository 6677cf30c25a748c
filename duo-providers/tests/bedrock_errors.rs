//! Bedrock's error shapes, stream faults and timeouts, through the real AWS SDK against
//! `FakeBedrock` over loopback, mapped to exact `duo_core::Error` variants.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use duo_core::{
    Error, LanguageModel, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt,
    Secret, StreamEvent, TimeoutPhase,
};
use duo_providers::bedrock::{BedrockModel, BedrockProvider, BedrockSettings};
use duo_testkit::bedrock::{Answer, Cut, ErrorReply, FakeBedrock, StreamException};
use futures::StreamExt;

/// Only to detect hangs; no test relies on timing.
const HANG: Duration = Duration::from_secs(20);

fn settings(url: String) -> BedrockSettings {
    BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new("test-secret-key")),
        endpoint_url: Some(url),
        ..BedrockSettings::default()
    }
}

fn endpoint() -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/us.meta.llama3-3-70b-instruct-v1:0").unwrap(),
        ModelFamily::Llama3,
    )
}

async fn model_at(url: String) -> BedrockModel {
    BedrockProvider::new(settings(url))
        .model(&endpoint())
        .await
        .unwrap()
}

async fn setup() -> (FakeBedrock, BedrockModel) {
    let fake = FakeBedrock::start().await;
    let model = model_at(fake.url()).await;
    (fake, model)
}

fn request() -> ModelRequest {
    ModelRequest::new(Prompt::Text("hello".into()))
}

/// Runs a stream to its end: the events before the first error, and that error.
async fn drain(model: &BedrockModel) -> (Vec<StreamEvent>, Option<Error>) {
    let run = async {
        let mut stream = model.generate_stream(&request()).await?;
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => events.push(event),
                Err(e) => {
                    assert!(stream.next().await.is_none(), "nothing after an error");
                    return Ok((events, Some(e)));
                }
            }
        }
        Ok::<_, Error>((events, None))
    };
    match tokio::time::timeout(HANG, run).await.expect("hang") {
        Ok(result) => result,
        Err(e) => (Vec::new(), Some(e)),
    }
}

fn deltas(events: &[StreamEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(d) => Some(d.as_str()),
            StreamEvent::Finish { .. } => None,
            _ => None,
        })
        .collect()
}

/// Asserts the error of both Converse and ConverseStream for one scripted HTTP error.
async fn assert_http_error(reply: ErrorReply, check: impl Fn(&Error)) {
    let (fake, model) = setup().await;
    fake.set_default(reply);
    let err = model.generate(&request()).await.unwrap_err();
    check(&err);
    let (events, err) = drain(&model).await;
    assert!(events.is_empty());
    check(&err.unwrap());
    // one attempt each: the SDK's own retries are off
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn throttling_is_rate_limited_with_retry_after() {
    assert_http_error(ErrorReply::throttling().with_retry_after(7), |e| {
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), message, .. }
                if *d == Duration::from_secs(7) && message.starts_with("ThrottlingException: Too many requests")),
            "{e:?}"
        );
    })
    .await;
    assert_http_error(ErrorReply::throttling(), |e| {
        assert!(
            matches!(
                e,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn validation_is_upstream_400() {
    assert_http_error(ErrorReply::validation(), |e| {
        assert!(
            matches!(e, Error::UpstreamStatus { status: 400, message, upstream, .. }
                if message.contains("ValidationException: A conversation must start")
                && upstream.starts_with("AWS Bedrock at http://127.0.0.1:")),
            "{e:?}"
        );
        assert!(!e.is_retryable());
    })
    .await;
}

#[tokio::test]
async fn access_denied_and_unknown_keys_are_upstream_auth() {
    for reply in [
        ErrorReply::access_denied(),
        ErrorReply::unrecognized_client(),
    ] {
        assert_http_error(reply, |e| {
            assert!(
                matches!(e, Error::UpstreamAuth { status: 403, .. }),
                "{e:?}"
            );
        })
        .await;
    }
}

#[tokio::test]
async fn unknown_model_is_upstream_404() {
    assert_http_error(ErrorReply::not_found(), |e| {
        assert!(
            matches!(e, Error::UpstreamStatus { status: 404, message, .. }
                if message.starts_with("ResourceNotFoundException")),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn server_errors_are_retryable_upstream_statuses() {
    assert_http_error(ErrorReply::internal(), |e| {
        assert!(
            matches!(e, Error::UpstreamStatus { status: 500, .. }),
            "{e:?}"
        );
        assert!(e.is_retryable());
    })
    .await;
    assert_http_error(ErrorReply::unavailable(), |e| {
        assert!(
            matches!(e, Error::UpstreamStatus { status: 503, .. }),
            "{e:?}"
        );
        assert!(e.is_retryable());
    })
    .await;
}

#[tokio::test]
async fn model_stream_error_mid_stream_breaks_after_the_delivered_deltas() {
    let (fake, model) = setup().await;
    // frames: messageStart, "one", "two" | exception
    fake.push(
        Answer::chunks(["one", "two", "three"])
            .exception_after_frames(3, StreamException::model_stream_error()),
    );
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["one", "two"]);
    let err = err.unwrap();
    assert!(
        matches!(&err, Error::BrokenStream { message, .. }
            if message.contains("modelStreamErrorException: The model stopped responding")),
        "{err:?}"
    );
}

#[tokio::test]
async fn throttling_mid_stream_is_rate_limited() {
    let (fake, model) = setup().await;
    fake.push(Answer::chunks(["a", "b"]).exception_after_frames(2, StreamException::throttling()));
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["a"]);
    assert!(matches!(err, Some(Error::RateLimited { .. })), "{err:?}");
}

#[tokio::test]
async fn internal_and_unavailable_exceptions_mid_stream_are_5xx() {
    for (exception, status) in [
        (StreamException::internal(), 500),
        (StreamException::unavailable(), 503),
        (StreamException::validation(), 400),
    ] {
        let (fake, model) = setup().await;
        fake.push(Answer::chunks(["a", "b"]).exception_after_frames(2, exception));
        let (events, err) = drain(&model).await;
        assert_eq!(deltas(&events), ["a"]);
        assert_eq!(err.as_ref().and_then(Error::upstream_status), Some(status));
    }
}

#[tokio::test]
async fn a_frame_with_a_bad_crc_is_a_protocol_error_after_the_good_frames() {
    let (fake, model) = setup().await;
    // frames: messageStart, "good", "bad-crc", …
    fake.push(Answer::chunks(["good", "never seen", "x"]).corrupt_crc_of_frame(2));
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["good"]);
    let err = err.unwrap();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("checksum")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_bad_crc_on_the_first_frame_fails_the_call_itself() {
    let (fake, model) = setup().await;
    fake.push(Answer::text("x").corrupt_crc_of_frame(0));
    let Err(err) = tokio::time::timeout(HANG, model.generate_stream(&request()))
        .await
        .unwrap()
    else {
        panic!("expected an error before the first event");
    };
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_stream_cut_between_frames_is_broken_not_truncated() {
    let (fake, model) = setup().await;
    fake.push(Answer::chunks(["one", "two", "three"]).cut(Cut::AfterFrames(3)));
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["one", "two"]);
    assert!(
        matches!(&err, Some(Error::BrokenStream { message, .. }) if message.contains("before messageStop")),
        "{err:?}"
    );
    // and the collected form never returns the half answer
    fake.push(Answer::chunks(["one", "two", "three"]).cut(Cut::AfterFrames(3)));
    let stream = model.generate_stream(&request()).await.unwrap();
    let err = duo_core::Generation::collect(stream, model.upstream())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "broken_stream");
}

#[tokio::test]
async fn a_stream_cut_mid_frame_is_broken() {
    let (fake, model) = setup().await;
    fake.push(Answer::chunks(["one", "two", "three"]).cut(Cut::MidFrame(3)));
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["one", "two"]);
    assert!(matches!(err, Some(Error::BrokenStream { .. })), "{err:?}");
}

#[tokio::test]
async fn an_aborted_connection_mid_stream_is_broken() {
    let (fake, model) = setup().await;
    fake.push(Answer::chunks(["one", "two", "three"]).cut(Cut::Abort(2)));
    let (events, err) = drain(&model).await;
    assert_eq!(deltas(&events), ["one"]);
    assert!(matches!(err, Some(Error::BrokenStream { .. })), "{err:?}");
}

#[tokio::test]
async fn a_truncated_converse_body_is_a_protocol_error() {
    let (fake, model) = setup().await;
    fake.push(Answer::text("whole answer").cut(Cut::AfterFrames(0)));
    let err = model.generate(&request()).await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_first_byte_hits_the_sdk_read_timeout() {
    let fake = FakeBedrock::start().await;
    let model = BedrockProvider::new(settings(fake.url()))
        .with_sdk_timeouts(Duration::from_secs(5), Duration::from_millis(200))
        .model(&endpoint())
        .await
        .unwrap();
    fake.set_default(Answer::text("late").delay_first_byte(Duration::from_secs(3)));
    let err = tokio::time::timeout(HANG, model.generate(&request()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err,
        Error::Timeout {
            upstream: model.upstream().to_owned(),
            phase: TimeoutPhase::FirstByte,
            after: Duration::from_millis(200),
        }
    );
    let (_, err) = drain(&model).await;
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

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let url = {
        let fake = FakeBedrock::start().await;
        fake.url()
    }; // dropped: nothing listens there any more
    tokio::task::yield_now().await;
    let model = model_at(url).await;
    let err = tokio::time::timeout(HANG, model.generate(&request()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
}
