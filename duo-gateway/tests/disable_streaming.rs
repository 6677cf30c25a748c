//! `custom_models.disable_streaming` (`AIGW_CUSTOM_MODELS__DISABLE_STREAMING`): a streamed GitLab
//! request is served by one whole call to the model, its answer streamed as one piece.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::json;
use support::{client, completion_body, config, prompt_body, start};

#[tokio::test]
async fn streamed_requests_become_whole_calls_and_answer_in_full() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return a + b"));
    let mut c = config();
    c.custom_models.disable_streaming = true;
    let gw = start(c).await;

    let mut body = completion_body("mistral", &fake.url(), "custom_openai/mistral-7b");
    body["stream"] = json!(true);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "return a + b");
    assert!(
        !fake.last_request().unwrap().is_streaming(),
        "asked for a stream"
    );

    let body = prompt_body("mistral", &fake.url(), "custom_openai/mistral-7b", true);
    let res = client()
        .post(gw.url("/v2/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let lines: Vec<serde_json::Value> = res
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text: String = lines.iter().filter_map(|l| l["content"].as_str()).collect();
    assert_eq!(text, "return a + b");
    assert!(!fake.last_request().unwrap().is_streaming());
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn without_the_setting_streamed_requests_stream_upstream() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = completion_body("mistral", &fake.url(), "custom_openai/mistral-7b");
    body["stream"] = json!(true);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "hello world");
    assert!(fake.last_request().unwrap().is_streaming());
}
