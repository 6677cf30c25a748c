//! What a misbehaving model server cannot do to the client: send more than the limits, end a
//! stream without a finish, echo the key back, or get a rejected request retried.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "vllm")]

use bytes::Bytes;
use duo_core::{Error, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt, Secret};
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::openai::{FakeOpenAi, Reply};
use futures::StreamExt;

fn registry(max_retries: u32) -> Registry {
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = max_retries;
    config.resilience.base_backoff = std::time::Duration::from_millis(1);
    config.http.max_response_bytes = 1 << 20;
    config.http.max_event_bytes = 64 << 10;
    Registry::try_new(config).unwrap()
}

fn endpoint(fake: &FakeOpenAi, key: &str) -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/codestral").unwrap(),
        ModelFamily::Codestral,
    )
    .with_base_url(fake.url())
    .with_api_key(Secret::new(key))
}

fn text() -> ModelRequest {
    ModelRequest::new(Prompt::Text("def add(a, b):".into()))
}

/// `n` pieces of 64 KiB, cheap clones of one buffer.
fn pieces(n: usize, byte: u8) -> Vec<Bytes> {
    let piece = Bytes::from(vec![byte; 64 << 10]);
    (0..n).map(|_| piece.clone()).collect()
}

async fn stream_items(registry: &Registry, fake: &FakeOpenAi) -> Vec<Result<String, Error>> {
    let model = registry.model(&endpoint(fake, "k-123456")).await.unwrap();
    match model.generate_stream(&text()).await {
        Ok(s) => {
            s.map(|e| e.map(|ev| format!("{ev:?}")))
                .collect::<Vec<_>>()
                .await
        }
        Err(e) => vec![Err(e)],
    }
}

#[tokio::test]
async fn an_answer_over_the_limit_is_refused_without_reading_it_whole() {
    let fake = FakeOpenAi::start().await;
    // 8 MiB of JSON-ish bytes against a 1 MiB limit; no Content-Length (chunked).
    fake.script(Reply::raw(200, "application/json", pieces(128, b' ')));
    let model = registry(0)
        .model(&endpoint(&fake, "k-123456"))
        .await
        .unwrap();
    let err = model.generate(&text()).await.unwrap_err();
    assert_eq!(
        err,
        Error::ResponseTooLarge {
            upstream: format!("vLLM at {}", fake.url()),
            what: "an answer",
            limit: 1 << 20,
        }
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_sse_event_over_the_limit_ends_the_stream_visibly() {
    let fake = FakeOpenAi::start().await;
    let mut body = vec![Bytes::from_static(b"data: {\"choices\":[{\"text\":\"")];
    body.extend(pieces(16, b'a')); // a 1 MiB line that never ends
    fake.script(Reply::raw(200, "text/event-stream", body));
    let items = stream_items(&registry(0), &fake).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        matches!(&items[0], Err(Error::ResponseTooLarge { what: "an SSE event", limit, .. }) if *limit == 64 << 10),
        "{items:?}"
    );
}

#[tokio::test]
async fn done_without_a_finish_reason_is_a_truncated_answer() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::raw_sse([
        "data: {\"choices\":[{\"index\":0,\"text\":\"return \"}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n",
        "data: [DONE]\n\n",
    ]));
    let items = stream_items(&registry(0), &fake).await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[0].is_ok() && items[1].is_ok());
    assert!(
        matches!(&items[2], Err(Error::BrokenStream { message, .. }) if message.contains("no finish_reason")),
        "{items:?}"
    );
}

#[tokio::test]
async fn the_finish_ends_the_stream_without_waiting_for_the_connection_to_close() {
    let fake = FakeOpenAi::start().await;
    // Finish and usage arrive, then the server holds the connection open for 30 s.
    fake.script(
        Reply::raw_sse([
            "data: {\"choices\":[{\"index\":0,\"text\":\"ok\",\"finish_reason\":\"stop\"}]}\n\n\
             data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n",
            ": still here\n\n",
        ])
        .chunk_delay(std::time::Duration::from_secs(30)),
    );
    let started = std::time::Instant::now();
    let items = stream_items(&registry(0), &fake).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items[1].as_ref().unwrap().starts_with("Finish"),
        "{items:?}"
    );
}

#[tokio::test]
async fn an_empty_200_stream_is_one_clear_error_not_retried() {
    let fake = FakeOpenAi::start().await;
    for _ in 0..3 {
        fake.script(Reply::raw_sse(Vec::<&str>::new()));
    }
    let items = stream_items(&registry(2), &fake).await;
    assert!(
        matches!(&items[..], [Err(Error::Protocol { message, .. })] if message.contains("empty stream")),
        "{items:?}"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_rejected_request_is_not_retried_and_keeps_the_reason_without_the_key() {
    let fake = FakeOpenAi::start().await;
    for _ in 0..3 {
        fake.script(Reply::error(
            400,
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 7302 tokens. (key sk-echoed-secret-1)","type":"BadRequestError","code":400}"#,
        ));
    }
    let model = registry(2)
        .model(&endpoint(&fake, "sk-echoed-secret-1"))
        .await
        .unwrap();
    let err = model.generate(&text()).await.unwrap_err();
    assert_eq!(fake.request_count(), 1, "a 400 is not retried");
    assert_eq!(err.upstream_status(), Some(400));
    let text = err.to_string();
    assert!(
        text.contains("maximum context length is 4096 tokens"),
        "{text}"
    );
    assert!(!text.contains("sk-echoed-secret-1"), "{text}");
    assert!(text.contains("(key **********)"), "{text}");
}
