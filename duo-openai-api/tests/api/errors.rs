//! Errors in OpenAI's shape: authentication, unknown models, bad bodies, upstream failures, and
//! start-up validation of `[openai_api]`.

use duo_testkit::bedrock::ErrorReply;
use duo_testkit::openai::Reply;
use serde_json::{Value, json};

use super::stand::{self, Stand};
use super::{chat_body, completion_body, post};

fn error(message_contains: &str, body: &Value) -> Value {
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(message_contains), "{body}");
    let mut e = body["error"].clone();
    e["message"] = json!("…");
    e
}

#[tokio::test]
async fn requests_without_a_valid_key_get_openai_401s() {
    let s = Stand::start().await;
    let expected = json!({"message": "…", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"});
    let a = post(&s, "/v1/chat/completions", None, &chat_body(stand::VLLM)).await;
    assert_eq!(a.status, 401);
    assert_eq!(error("didn't provide an API key", &a.body), expected);
    let a = post(
        &s,
        "/v1/chat/completions",
        Some("sk-wrong"),
        &chat_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(error("Incorrect API key", &a.body), expected);
    assert!(
        !a.body.to_string().contains("sk-wrong"),
        "the key is never echoed"
    );
    let res = reqwest::Client::new()
        .get(s.url("/v1/models"))
        .header("authorization", format!("Basic {}", stand::KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let a = post(&s, "/v1/completions", Some(stand::CI_KEY), &json!({})).await;
    assert_eq!(a.status, 400, "the named key is accepted: {}", a.body);
    assert_eq!(s.vllm.request_count(), 0);
}

#[tokio::test]
async fn unknown_models_are_404_model_not_found() {
    let s = Stand::start().await;
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body("gpt-5-ultra"),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        error("'gpt-5-ultra' does not exist", &a.body),
        json!({"message": "…", "type": "invalid_request_error", "param": "model", "code": "model_not_found"})
    );
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body("mistral"),
    )
    .await;
    assert_eq!(a.status, 404, "names are exact: {}", a.body);
}

#[tokio::test]
async fn bad_bodies_are_400s_naming_the_field() {
    let s = Stand::start().await;
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
        (json!({"model": stand::VLLM, "messages": "hi"}), "messages"),
        (
            json!({"model": stand::VLLM, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": stand::VLLM, "messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": stand::VLLM, "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": stand::VLLM, "messages": [{"role": "user", "content": "x"}], "n": 3}),
            "n",
        ),
    ];
    for (body, param) in cases {
        let a = post(&s, "/v1/chat/completions", Some(stand::KEY), &body).await;
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(a.body["error"]["param"], param, "{}", a.body);
        assert_eq!(a.body["error"]["type"], "invalid_request_error");
    }
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &json!({"model": stand::VLLM, "prompt": ["a", "b"]}),
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.body["error"]["param"].clone()),
        (400, json!("prompt"))
    );
    let res = reqwest::Client::new()
        .post(s.url("/v1/chat/completions"))
        .bearer_auth(stand::KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );
    assert_eq!(s.vllm.request_count(), 0, "nothing reached the upstream");
}

#[tokio::test]
async fn oversized_bodies_are_413_in_openai_shape() {
    let s = Stand::start_with(|c| c.body_limit_bytes = 2048).await;
    let mut body = chat_body(stand::VLLM);
    body["messages"][1]["content"] = json!("x".repeat(4096));
    let a = post(&s, "/v1/chat/completions", Some(stand::KEY), &body).await;
    assert_eq!(a.status, 413);
    assert_eq!(
        a.body["error"]["type"], "invalid_request_error",
        "{}",
        a.body
    );
}

#[tokio::test]
async fn fields_over_their_length_limit_are_400s_naming_the_param() {
    let s = Stand::start().await;
    let mut body = chat_body(stand::VLLM);
    body["messages"][0]["role"] = json!("r".repeat(300));
    let a = post(&s, "/v1/chat/completions", Some(stand::KEY), &body).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.body["error"]["param"], "messages[0].role", "{}", a.body);
    assert_eq!(
        error("must be at most 256 bytes", &a.body)["type"],
        "invalid_request_error"
    );
    assert_eq!(s.vllm.request_count(), 0);
}

#[tokio::test]
async fn upstream_failures_map_to_openai_statuses() {
    let s = Stand::start().await;
    s.vllm.script(Reply::status(429).retry_after("7"));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "7");
    assert_eq!(
        error("rate limiting", &a.body),
        json!({"message": "…", "type": "requests", "param": null, "code": "rate_limit_exceeded"})
    );
    s.vllm.script(Reply::status(500));
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 502);
    assert_eq!(
        error("failed (HTTP 500)", &a.body),
        json!({"message": "…", "type": "server_error", "param": null, "code": "upstream_error"})
    );
    assert!(
        !a.body.to_string().contains("127.0.0.1"),
        "no upstream URL: {}",
        a.body
    );
    s.azure.script(Reply::status(503));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::AZURE),
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.body["error"]["code"].clone()),
        (503, json!("upstream_unavailable"))
    );
    s.bedrock.push(ErrorReply::throttling().with_retry_after(3));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::BEDROCK),
    )
    .await;
    assert_eq!(a.status, 429, "{}", a.body);
    s.bedrock.push(ErrorReply::internal());
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::BEDROCK),
    )
    .await;
    assert_eq!(a.status, 502, "{}", a.body);
}

/// A change to the stand's configuration.
type Adjust = Box<dyn Fn(&mut stand::StandConfig)>;

#[tokio::test]
async fn invalid_settings_stop_the_start_naming_the_key() {
    let fake = duo_testkit::openai::FakeOpenAi::start().await;
    let bedrock = duo_testkit::bedrock::FakeBedrock::start().await;
    let file = std::env::temp_dir().join("duo-openai-no-such-key-file");
    let cases: Vec<(Adjust, &str)> = vec![
        (
            Box::new(|c| c.api.models[1].identifier = "watsonx/granite".into()),
            "openai_api.models[1].identifier",
        ),
        (
            Box::new(|c| c.api.models[1].endpoint = None),
            "openai_api.models[1].endpoint",
        ),
        (
            Box::new(|c| c.api.models[2].name = stand::VLLM.into()),
            "openai_api.models[2].name",
        ),
        (
            Box::new(|c| c.api.models[0].api_key_file = Some("/nonexistent/duo/key".into())),
            "openai_api.models[0].api_key_file",
        ),
        (Box::new(|c| c.api.api_keys.clear()), "openai_api.api_keys"),
        (Box::new(|c| c.api.models.clear()), "openai_api.models"),
    ];
    for (adjust, key) in cases {
        let mut config = stand::config(&fake, &fake, &bedrock, &file);
        config.api.models[0].api_key_file = None;
        adjust(&mut config);
        let metrics = std::sync::Arc::new(duo_logging::Metrics::new());
        let err = stand::state(&config, &metrics)
            .expect_err("start fails")
            .to_string();
        assert!(err.contains(key), "{key}: {err}");
        assert!(
            !err.contains(stand::AZURE_UPSTREAM_KEY) && !err.contains(stand::KEY),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_model_servers_rejection_keeps_its_reason_and_code_and_vllms_numeric_code_is_ours() {
    let s = Stand::start().await;
    // OpenAI's shape, as vLLM's OpenAI server and OpenAI itself send it for a long prompt
    s.vllm.script(Reply::error(
        400,
        r#"{"error": {"message": "This model's maximum context length is 4096 tokens. However, you requested 7302 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}"#,
    ));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"error": {
            "message": "The model server rejected the request (HTTP 400): This model's maximum context length is 4096 tokens. However, you requested 7302 tokens.",
            "type": "invalid_request_error",
            "param": null,
            "code": "context_length_exceeded"
        }})
    );
    assert_eq!(s.vllm.request_count(), 1, "a 4xx is not retried");
    // vLLM's own error shape carries the HTTP status as a number: not a code to pass on
    s.vllm.script(Reply::error(
        400,
        r#"{"object": "error", "message": "prompt too long", "type": "BadRequestError", "param": null, "code": 400}"#,
    ));
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body(stand::VLLM),
    )
    .await;
    assert_eq!(
        error("(HTTP 400): prompt too long", &a.body),
        json!({"message": "…", "type": "invalid_request_error", "param": null, "code": "upstream_rejected_request"})
    );
}

#[tokio::test]
async fn disabled_the_router_serves_nothing_and_reads_nothing() {
    let s = Stand::start_with(|c| {
        c.api.enabled = false;
        // A key file that does not exist is not read when the API is off.
        c.api.api_keys_file = Some("/nonexistent/duo-openai-keys".into());
    })
    .await;
    let res = reqwest::Client::new()
        .get(s.url("/v1/models"))
        .bearer_auth(stand::KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(s.vllm.request_count(), 0);
}
