//! Upstream faults and hostile endpoints on the code-suggestion routes: exact statuses, aborted
//! streams, cancelled upstream calls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, completion_body, config, post_status, start};

#[tokio::test]
async fn request_endpoints_need_custom_models_and_never_reach_metadata_addresses() {
    let fake = FakeOpenAi::start().await;
    let mut cfg = config();
    cfg.custom_models.enabled = false;
    let gw = start(cfg).await;
    let body = completion_body(
        "codestral",
        "http://internal-server.local/ssrf",
        "anthropic/codestral",
    );
    let (status, json) = post_status(&gw.url("/v2/code/completions"), &body).await;
    assert_eq!(status, 422);
    assert!(
        json["detail"]
            .as_str()
            .unwrap()
            .starts_with("specifying custom models endpoint is disabled"),
        "{json}"
    );

    let gw = start(config()).await;
    let body = completion_body(
        "codestral",
        "http://169.254.169.254/latest",
        "custom_openai/c",
    );
    let (status, json) = post_status(&gw.url("/v2/code/completions"), &body).await;
    assert_eq!(status, 422);
    assert!(
        json["detail"]
            .as_str()
            .unwrap()
            .contains("link-local or cloud-metadata"),
        "{json}"
    );
    assert_eq!(fake.request_count(), 0);
}

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

    for status in [400, 401, 404, 500, 503] {
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
