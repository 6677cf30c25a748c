//! Black-box tests of `/v2/code/completions` and `/v2/code/generations` over real HTTP, with the
//! fake vLLM / Azure / Bedrock upstreams.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::openai::{FakeOpenAi, RecordedRequest, Reply};
use serde_json::{Value, json};
use support::{client, completion_body, config, post_status, start};

/// The text the upstream was asked to complete: the last message of a chat call, or the raw
/// prompt of a completions call.
fn upstream_prompt(req: &RecordedRequest) -> String {
    if let Some(messages) = req.body.get("messages").and_then(Value::as_array) {
        return messages
            .last()
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
    }
    req.body["prompt"].as_str().unwrap_or_default().to_owned()
}

fn stops(req: &RecordedRequest) -> Vec<String> {
    req.body["stop"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn completion_on_vllm_answers_the_reference_shape() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("return a + b\n").usage(42, 12));
    let gw = start(config()).await;
    let body = completion_body("codestral", &fake.url(), "custom_openai/Codestral-22B-v0.1");
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-request-id").is_some());
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["object"], "text_completion");
    assert_eq!(json["model"]["engine"], "litellm");
    assert_eq!(json["model"]["name"], "codestral");
    assert_eq!(json["model"]["lang"], "python");
    assert_eq!(
        json["model"]["tokens_consumption_metadata"],
        json!({"input_tokens": 42, "output_tokens": 12})
    );
    assert_eq!(
        json["choices"],
        json!([{"text": "return a + b\n", "index": 0, "finish_reason": "length"}])
    );
    assert_eq!(json["experiments"], json!([]));
    assert!(json["created"].as_u64().unwrap() > 1_700_000_000);

    let req = fake.last_request().unwrap();
    assert_eq!(req.header("authorization"), Some("Bearer upstream-key-123"));
    assert_eq!(req.body["model"], "Codestral-22B-v0.1");
    assert_eq!(
        upstream_prompt(&req),
        "[SUFFIX]\n[PREFIX]def add(a, b):\n    "
    );
    assert_eq!(
        stops(&req),
        ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]"]
    );
}

#[tokio::test]
async fn the_alias_route_and_feature_flags_are_served() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");
    let res = client()
        .post(gw.url("/v2/completions"))
        .header("x-gitlab-enabled-feature-flags", "flag_a, flag_b")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let json: Value = res.json().await.unwrap();
    assert_eq!(
        json["metadata"]["enabled_feature_flags"],
        json!(["flag_a", "flag_b"])
    );
    assert_eq!(json["choices"][0]["text"], "hello world");
}

#[tokio::test]
async fn each_family_sends_its_own_fim_layout() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let cases = [
        ("codestral", "[SUFFIX]\n[PREFIX]def add(a, b):\n    "),
        ("mistral", "[SUFFIX]\n[PREFIX]def add(a, b):\n    "),
        ("mixtral", "[SUFFIX]\n[PREFIX]def add(a, b):\n    "),
        (
            "codegemma",
            "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>",
        ),
        ("codellama", "<PRE> def add(a, b):\n     <SUF> \n <MID>"),
        (
            "deepseekcoder",
            "<｜fim▁begin｜>def add(a, b):\n    <｜fim▁hole｜>\n<｜fim▁end｜>",
        ),
        (
            "qwen2p5-coder-7b",
            "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>",
        ),
    ];
    for (family, expected) in cases {
        let body = completion_body(family, &fake.url(), "custom_openai/m");
        let res = client()
            .post(gw.url("/v2/code/completions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{family}");
        let req = fake.last_request().unwrap();
        assert_eq!(upstream_prompt(&req), expected, "{family}");
    }
    for family in ["llama3", "gpt", "claude_3"] {
        let body = completion_body(family, &fake.url(), "custom_openai/m");
        let res = client()
            .post(gw.url("/v2/code/completions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{family}");
        let req = fake.last_request().unwrap();
        assert_eq!(
            req.path, "/v1/chat/completions",
            "{family} is a chat family"
        );
        let text = upstream_prompt(&req);
        assert!(text.contains("def add(a, b):"), "{family}: {text}");
    }
}

#[tokio::test]
async fn streaming_sends_raw_text_chunks() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("return a + b\n").chunks(4));
    let gw = start(config()).await;
    let mut body = completion_body("codegemma", &fake.url(), "custom_openai/codegemma");
    body["stream"] = json!(true);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), "return a + b\n");
    assert!(fake.last_request().unwrap().is_streaming());
}

#[tokio::test]
async fn no_language_means_no_suggestion_and_no_model_call() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["current_file"]["file_name"] = json!("Makefile.unknownext");
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["choices"], json!([]));
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn prompt_versions_2_and_3_pass_through() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["prompt_version"] = json!(2);
    body["prompt"] = json!("<s>[SUFFIX]x[PREFIX]y");
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "<s>[SUFFIX]x[PREFIX]y");
    assert_eq!(stops(&req)[0], "[INST]");

    body["prompt_version"] = json!(3);
    body["prompt"] =
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "complete"}]);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["messages"], body["prompt"]);
}

#[tokio::test]
async fn invalid_requests_get_422_with_the_field_named() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = gw.url("/v2/code/completions");
    let base = completion_body("codestral", &fake.url(), "custom_openai/c");

    let cases: Vec<(Value, &str)> = vec![
        (json!({"prompt_version": 1}), "missing field `current_file`"),
        (
            {
                let mut b = base.clone();
                b["prompt_version"] = json!(4);
                b
            },
            "prompt_version: must be 1, 2 or 3",
        ),
        (
            {
                let mut b = base.clone();
                b["current_file"]["file_name"] = json!("a".repeat(256));
                b
            },
            "current_file.file_name: must have at most 255 characters",
        ),
        (
            {
                let mut b = base.clone();
                b["current_file"]["content_above_cursor"] = json!("x".repeat(100_001));
                b
            },
            "current_file.content_above_cursor: must have at most 100000 characters",
        ),
        (
            {
                let mut b = base.clone();
                b["model_name"] = json!("starcoder");
                b
            },
            "model_name 'starcoder' is not supported for code completions",
        ),
        (
            {
                let mut b = base.clone();
                b["model_name"] = json!("granite");
                b
            },
            "model_name 'granite' is not supported",
        ),
        (
            {
                let mut b = base.clone();
                b["model_provider"] = json!("anthropic");
                b
            },
            "model_provider 'anthropic'",
        ),
        (
            {
                let mut b = base.clone();
                b["model_identifier"] = json!("provider/codegemma_2b");
                b
            },
            "unsupported provider 'provider'",
        ),
        (
            {
                let mut b = base.clone();
                b["context"] = json!(vec![
                    json!({"type": "file", "name": "a", "content": "b"});
                    101
                ]);
                b
            },
            "context: at most 100 items",
        ),
        (
            {
                let mut b = base.clone();
                b["current_file"]["content_above_cursor"] = json!(5);
                b
            },
            "invalid type: integer `5`, expected a string",
        ),
    ];
    for (body, needle) in cases {
        let (status, json) = post_status(&url, &body).await;
        assert_eq!(status, 422, "{needle}: {json}");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{needle} not in {detail}");
    }
    let res = client()
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        fake.request_count(),
        0,
        "no invalid request reaches the model"
    );
}

#[tokio::test]
async fn azure_deployments_are_served() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("return a + b\n"));
    let gw = start(config()).await;
    let body = completion_body("gpt", &fake.azure_url(), "azure/gpt-4o-deploy");
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["choices"][0]["text"], "return a + b\n");
    let req = fake.last_request().unwrap();
    assert_eq!(
        req.path,
        "/openai/deployments/gpt-4o-deploy/chat/completions"
    );
    assert!(req.query_param("api-version").is_some());
    assert_eq!(req.header("api-key"), Some("upstream-key-123"));
}

#[tokio::test]
async fn generations_render_the_generation_prompt() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("def hello():\n    print('hi')\n"));
    let gw = start(config()).await;
    let body = json!({
        "project_path": "string", "project_id": 0,
        "current_file": {"file_name": "test.py", "language_identifier": "python",
                         "content_above_cursor": "def hello():\n  ", "content_below_cursor": ""},
        "model_provider": "litellm", "model_endpoint": fake.url(), "model_api_key": "key",
        "model_identifier": "custom_openai/Mixtral-8x7B-Instruct-v0.1", "model_name": "mistral",
        "telemetry": [], "stream": false, "choices_count": 0, "context": [],
        "prompt_id": "code_suggestions/generations", "prompt_version": 2, "prompt": ""
    });
    let (status, json) = post_status(&gw.url("/v2/code/generations"), &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["choices"][0]["text"],
        "def hello():\n    print('hi')\n"
    );
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    let all = req.body["messages"].to_string();
    assert!(all.contains("def hello():"), "{all}");
}
