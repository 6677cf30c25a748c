//! Upstream faults on the code-suggestion routes: exact statuses, aborted streams, cancelled
//! upstream calls (hostile endpoints: `egress.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, completion_body, config, post_status, start};

#[tokio::test]
async fn upstream_faults_map_to_the_reference_statuses() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = gw.url("/v2/code/completions");
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");

    fake.script(Reply::status(429).retry_after("7"));
    let res = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Too many requests. Please try again later."})
    );

    // A model server's rejection is the client's 4xx, with the server's reason (never its key).
    for status in [400, 404, 413, 422] {
        fake.script(Reply::error(
            status,
            r#"{"error":{"message":"maximum context length is 4096 tokens, you requested 7302 (key upstream-key-123)","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        ));
        let (got, json) = post_status(&url, &body).await;
        assert_eq!(
            (got, json),
            (
                400,
                json!({"detail": format!("the model server rejected the request (HTTP {status}): \
                    maximum context length is 4096 tokens, you requested 7302 (key **********)")})
            ),
            "upstream {status}"
        );
    }
    // Its own failures and credential problems stay GitLab's 503.
    for status in [401, 500, 503] {
        fake.script(Reply::status(status));
        let (got, json) = post_status(&url, &body).await;
        assert_eq!(got, 503, "upstream {status}");
        assert_eq!(
            json,
            json!({"detail": "Inference failed"}),
            "upstream {status}"
        );
    }

    let dead = "http://127.0.0.1:9/v1";
    let (got, json) =
        post_status(&url, &completion_body("codestral", dead, "custom_openai/c")).await;
    assert_eq!((got, json), (503, json!({"detail": "Inference failed"})));
}

#[tokio::test]
async fn a_stream_cut_upstream_aborts_the_response_instead_of_ending_it_cleanly() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("one two three four five six")
            .chunks(6)
            .cut_after(2),
    );
    let gw = start(config()).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["stream"] = json!(true);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let err = res
        .text()
        .await
        .expect_err("a truncated answer must not read as complete");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_call() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("a b c d e f g h i j")
            .chunks(10)
            .chunk_delay(Duration::from_millis(300)),
    );
    let gw = start(config()).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["stream"] = json!(true);
    let mut res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = res.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    assert!(
        gw.state
            .metrics()
            .render()
            .contains("model_inferences_in_flight"),
        "gauge exported"
    );
    drop(res);
    // The gateway notices the disconnect on its next write and drops the upstream stream: the
    // in-flight gauge returns to 0 long before the upstream's 3 s answer would have ended.
    let mut settled = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if in_flight(&gw.state.metrics().render()) == Some(0.0) {
            settled = true;
            break;
        }
    }
    assert!(settled, "{}", gw.state.metrics().render());
}

fn in_flight(metrics: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with("model_inferences_in_flight"))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        })
        .reduce(|a, b| a + b)
}
