//! Unit tests of the fake's counters over real HTTP.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::*;

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never true: {what}");
}

#[tokio::test]
async fn streams_count_as_finished_or_cancelled_and_connections_close() {
    let fake = FakeOpenAi::start().await;
    fake.record_requests(false);
    fake.set_default(
        Reply::stream("one two three four")
            .chunks(4)
            .chunk_delay(Duration::from_millis(20)),
    );
    fake.set_model_default("fast", Reply::stream("quick").chunks(2));
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", fake.url());
    let ask = |model: &str| json!({"model": model, "stream": true, "messages": []});

    let full = client.post(&url).json(&ask("slow")).send().await.unwrap();
    let text = full.text().await.unwrap();
    assert!(
        text.contains("four") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    let fast = client.post(&url).json(&ask("fast")).send().await.unwrap();
    assert!(fast.text().await.unwrap().contains(r#""content":"ick""#));
    assert_eq!(fake.open_connections(), 1, "one pooled connection");

    let mut cut = client
        .post(&url)
        .json(&ask("slow"))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    cut.next().await.unwrap().unwrap();
    assert_eq!(fake.stream_stats().open, 1);
    drop(cut);
    eventually("the dropped stream is cancelled", || {
        fake.stream_stats().cancelled == 1
    })
    .await;
    let stats = fake.stream_stats();
    assert_eq!((stats.open, stats.finished, stats.peak_open), (0, 2, 1));
    assert!(fake.requests().is_empty(), "recording was off");
    eventually("the cut connection closes", || fake.open_connections() == 0).await;
    assert_eq!(
        fake.connections(),
        1,
        "all three requests on the pooled connection"
    );
}
