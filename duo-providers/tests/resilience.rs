//! The `Resilient` wrapper's timeouts and retries, around the vLLM client, against `FakeOpenAi`.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions unwrap too
#![cfg(feature = "vllm")]

mod common;

use std::time::Duration;

use common::{chat, completion, deltas, drain, endpoint, fast_retries, http, text};
use duo_core::{Error, LanguageModel, StreamEvent, TimeoutPhase};
use duo_providers::openai::OpenAiCompatibleModel;
use duo_providers::{OpenAiSettings, ResilienceConfig, Resilient};
use duo_testkit::openai::{FakeOpenAi, Reply};

fn resilient(fake: &FakeOpenAi, config: ResilienceConfig) -> Resilient<OpenAiCompatibleModel> {
    let ep = endpoint("custom_openai/m", &fake.url(), None);
    let inner = OpenAiCompatibleModel::new(&http(), &ep, &OpenAiSettings::default()).unwrap();
    Resilient::new(inner, config)
}

const SLOW: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_slow_first_byte_is_a_first_byte_timeout() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::stream("late").first_byte_delay(SLOW));
    let m = resilient(
        &fake,
        ResilienceConfig {
            first_byte_timeout: SHORT,
            max_retries: 0,
            ..fast_retries()
        },
    );
    let err = drain(&m, &chat("x")).await.unwrap_err();
    assert_eq!(
        err,
        Error::Timeout {
            upstream: format!("vLLM at {}", fake.url()),
            phase: TimeoutPhase::FirstByte,
            after: SHORT
        }
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_first_byte_timeout_is_retried_and_the_retry_can_succeed() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("late").first_byte_delay(SLOW));
    fake.script(Reply::stream("on time").chunks(2));
    let m = resilient(
        &fake,
        ResilienceConfig {
            first_byte_timeout: Duration::from_secs(1),
            ..fast_retries()
        },
    );
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("on time", None));
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_pause_mid_stream_is_an_idle_timeout_and_is_not_retried() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::stream("aabbcc").chunks(3).chunk_delay(SLOW));
    let m = resilient(
        &fake,
        ResilienceConfig {
            idle_timeout: SHORT,
            ..fast_retries()
        },
    );
    let (events, err) = drain(&m, &completion("x")).await.unwrap();
    assert_eq!(events, vec![StreamEvent::Delta("aa".into())]);
    assert!(
        matches!(err, Some(Error::Timeout { phase: TimeoutPhase::Idle, after, .. }) if after == SHORT),
        "{err:?}"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn the_total_limit_and_the_requests_own_timeout_end_a_long_stream() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(
        Reply::stream("abcdefghij")
            .chunks(10)
            .chunk_delay(Duration::from_millis(300)),
    );
    let m = resilient(
        &fake,
        ResilienceConfig {
            total_timeout: Duration::from_secs(1),
            ..fast_retries()
        },
    );
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert!(deltas(&events) < 10);
    assert!(
        matches!(
            err,
            Some(Error::Timeout {
                phase: TimeoutPhase::Total,
                ..
            })
        ),
        "{err:?}"
    );

    let m = resilient(&fake, fast_retries());
    let mut request = chat("x");
    request.params.timeout = Some(Duration::from_secs(1));
    let (_, err) = drain(&m, &request).await.unwrap();
    assert!(
        matches!(err, Some(Error::Timeout { phase: TimeoutPhase::Total, after, .. }) if after == Duration::from_secs(1)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_503_then_200_succeeds_on_the_retry() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([Reply::status(503), Reply::stream("recovered").chunks(2)]);
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("recovered", None));
    assert_eq!(fake.request_count(), 2);

    fake.script_all([Reply::status(502), Reply::answer("fine")]);
    assert_eq!(m.generate(&chat("x")).await.unwrap().text, "fine");
    assert_eq!(fake.request_count(), 4);
}

#[tokio::test]
async fn retries_stop_after_max_retries_and_never_for_client_errors() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([
        Reply::status(500),
        Reply::status(500),
        Reply::status(500),
        Reply::answer("unused"),
    ]);
    assert_eq!(
        drain(&m, &chat("x")).await.unwrap_err().upstream_status(),
        Some(500)
    );
    assert_eq!(fake.request_count(), 3, "one attempt and two retries");
    assert_eq!(fake.pending(), 1);

    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    for status in [400u16, 401, 404] {
        fake.script(Reply::status(status));
        assert_eq!(
            drain(&m, &chat("x")).await.unwrap_err().upstream_status(),
            Some(status)
        );
    }
    assert_eq!(fake.request_count(), 3, "no retries for 400, 401, 404");
}

#[tokio::test]
async fn no_retry_once_a_chunk_was_delivered() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([
        Reply::stream("abcd").chunks(4).cut_after(1),
        Reply::stream("never sent"),
    ]);
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!(text(&events), "a");
    assert!(matches!(err, Some(Error::BrokenStream { .. })), "{err:?}");
    assert_eq!(fake.request_count(), 1);
    assert_eq!(fake.pending(), 1);
}

#[tokio::test]
async fn a_stream_cut_before_its_first_chunk_is_retried() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([
        Reply::stream("abcd").chunks(4).cut_after(0),
        Reply::stream("whole"),
    ]);
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("whole", None));
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([
        Reply::status(429).retry_after("1"),
        Reply::stream("after a second"),
    ]);
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("after a second", None));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].received_at - reqs[0].received_at;
    assert!(
        gap >= Duration::from_secs(1),
        "retried after {gap:?}, before Retry-After"
    );

    fake.script_all([
        Reply::status(429).header("retry-after-ms", "300"),
        Reply::answer("ok"),
    ]);
    m.generate(&chat("x")).await.unwrap();
    let reqs = fake.requests();
    let gap = reqs[3].received_at - reqs[2].received_at;
    assert!(
        gap >= Duration::from_millis(300),
        "retried after {gap:?}, before retry-after-ms"
    );

    // A server that is briefly unavailable may say when to come back, too.
    fake.script_all([
        Reply::status(503).header("retry-after-ms", "400"),
        Reply::answer("back"),
    ]);
    assert_eq!(m.generate(&chat("x")).await.unwrap().text, "back");
    let reqs = fake.requests();
    let gap = reqs[5].received_at - reqs[4].received_at;
    assert!(
        gap >= Duration::from_millis(400),
        "retried after {gap:?}, before the 503's retry-after-ms"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_returned_at_once() {
    let fake = FakeOpenAi::start().await;
    let m = resilient(&fake, fast_retries());
    fake.script_all([
        Reply::status(429).retry_after("30"),
        Reply::answer("unused"),
    ]);
    let err = drain(&m, &chat("x")).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn probe_is_limited_by_the_first_byte_timeout() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("").first_byte_delay(SLOW));
    let m = resilient(
        &fake,
        ResilienceConfig {
            first_byte_timeout: SHORT,
            ..fast_retries()
        },
    );
    let err = m.probe().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            }
        ),
        "{err:?}"
    );
    m.probe().await.unwrap_err(); // the default model list lacks "m"
    fake.set_models(["m"]);
    m.probe().await.unwrap();
}

#[tokio::test]
async fn limits_too_large_for_a_deadline_mean_no_deadline_not_a_panic() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::stream("a b c").chunks(3));
    let m = resilient(
        &fake,
        ResilienceConfig {
            first_byte_timeout: Duration::MAX,
            idle_timeout: Duration::MAX,
            total_timeout: Duration::MAX,
            ..fast_retries()
        },
    );
    let (events, error) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!(
        (text(&events), deltas(&events), error),
        ("a b c".into(), 3, None)
    );
    assert_eq!(m.generate(&completion("x")).await.unwrap().text, "a b c");
}
