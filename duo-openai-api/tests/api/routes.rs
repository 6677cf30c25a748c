//! Non-streamed answers of every route, for each provider, and what reached the upstream.

use duo_testkit::bedrock::{Answer as BedrockAnswer, Operation};
use duo_testkit::openai::Reply;
use serde_json::{Value, json};

use super::stand::{self, Stand};
use super::{chat_body, completion_body, get, post};

fn assert_chat_completion(body: &Value, model: &str, content: &str, usage: &Value) {
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-") && id.len() > 20, "{id}");
    assert!(body["created"].as_u64().unwrap() > 1_600_000_000);
    let mut shape = body.clone();
    shape["id"] = json!("ID");
    shape["created"] = json!(0);
    assert_eq!(
        shape,
        json!({"id": "ID", "object": "chat.completion", "created": 0, "model": model,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                            "logprobs": null, "finish_reason": "stop"}],
               "usage": usage.clone()})
    );
}

fn assert_text_completion(body: &Value, model: &str, text: &str, finish: &str) {
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"), "{body}");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["model"], model);
    assert_eq!(
        body["choices"],
        json!([{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}])
    );
}

#[tokio::test]
async fn models_are_listed_in_openai_shape_and_retrievable() {
    let s = Stand::start().await;
    let list = get(&s, "/v1/models").await;
    assert_eq!(list.status, 200);
    let created = list.body["data"][0]["created"].as_u64().unwrap();
    let entry = |id: &str| json!({"id": id, "object": "model", "created": created, "owned_by": "duo-gateway"});
    assert_eq!(
        list.body,
        json!({"object": "list", "data": [entry(stand::VLLM), entry(stand::AZURE), entry(stand::BEDROCK)]})
    );
    let one = get(&s, &format!("/v1/models/{}", stand::AZURE)).await;
    assert_eq!(
        (one.status.as_u16(), one.body.clone()),
        (200, entry(stand::AZURE))
    );
    let missing = get(&s, "/v1/models/nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "model_not_found");
    assert_eq!(s.vllm.request_count() + s.azure.request_count(), 0);
}

#[tokio::test]
async fn chat_on_vllm_maps_messages_params_and_the_upstream_key() {
    let s = Stand::start().await;
    s.vllm.script(Reply::answer("Hello!").usage(12, 3));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["content-type"], "application/json");
    assert!(a.headers.get("content-length").is_some());
    assert_chat_completion(
        &a.body,
        stand::VLLM,
        "Hello!",
        &json!({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}),
    );
    let req = s.vllm.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {}", stand::VLLM_UPSTREAM_KEY).as_str())
    );
    assert_eq!(req.body["model"], stand::VLLM_SERVED);
    assert_eq!(
        req.body["messages"],
        json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}])
    );
    assert_eq!(req.body["max_tokens"], 32);
    assert_eq!(req.body["stop"], json!(["\n\n"]));
    assert!((req.body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_ne!(req.body["stream"], json!(true));
}

#[tokio::test]
async fn chat_on_azure_uses_the_deployment_and_api_key() {
    let s = Stand::start().await;
    s.azure.script(Reply::answer("Hi from Azure").usage(9, 4));
    let mut body = chat_body(stand::AZURE);
    body["max_completion_tokens"] = json!(20);
    let a = post(&s, "/v1/chat/completions", Some(stand::KEY), &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_chat_completion(
        &a.body,
        stand::AZURE,
        "Hi from Azure",
        &json!({"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}),
    );
    let req = s.azure.last_request().unwrap();
    assert_eq!(
        req.path,
        format!(
            "/openai/deployments/{}/chat/completions",
            stand::AZURE_DEPLOYMENT
        )
    );
    assert_eq!(req.header("api-key"), Some(stand::AZURE_UPSTREAM_KEY));
    assert!(req.query_param("api-version").is_some());
    assert_eq!(req.body["messages"][1]["content"], "Say hello.");
    let limit = req
        .body
        .get("max_completion_tokens")
        .or(req.body.get("max_tokens"));
    assert_eq!(limit, Some(&json!(20)), "{}", req.body);
}

#[tokio::test]
async fn chat_on_bedrock_goes_through_converse() {
    let s = Stand::start().await;
    s.bedrock
        .push(BedrockAnswer::chunks(["Hello", " from", " Claude"]).with_usage(21, 5));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::KEY),
        &chat_body(stand::BEDROCK),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_chat_completion(
        &a.body,
        stand::BEDROCK,
        "Hello from Claude",
        &json!({"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26}),
    );
    let req = &s.bedrock.requests()[0];
    assert_eq!(req.operation, Operation::Converse);
    assert_eq!(req.model_id, stand::BEDROCK_MODEL_ID);
    assert_eq!(req.body["system"], json!([{"text": "You are terse."}]));
    assert_eq!(
        req.body["messages"],
        json!([{"role": "user", "content": [{"text": "Say hello."}]}])
    );
    assert_eq!(req.body["inferenceConfig"]["maxTokens"], 32);
    assert_eq!(
        req.body["inferenceConfig"]["stopSequences"],
        json!(["\n\n"])
    );
    assert!(
        req.header("authorization")
            .unwrap()
            .contains("AKIDOPENAISTAND")
    );
}

#[tokio::test]
async fn completions_on_each_provider() {
    let s = Stand::start().await;
    s.vllm.script(
        Reply::answer("    return a + b")
            .usage(6, 5)
            .finish_reason("length"),
    );
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_text_completion(&a.body, stand::VLLM, "    return a + b", "length");
    assert_eq!(
        a.body["usage"],
        json!({"prompt_tokens": 6, "completion_tokens": 5, "total_tokens": 11})
    );
    let req = s.vllm.last_request().unwrap();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "def add(a, b):");
    assert_eq!(req.body["max_tokens"], 16);
    assert_eq!(req.body["stop"], json!(["\n\n"]));

    s.azure.script(Reply::answer("azure text"));
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body(stand::AZURE),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_text_completion(&a.body, stand::AZURE, "azure text", "stop");
    let req = s.azure.last_request().unwrap();
    assert_eq!(
        req.path,
        format!(
            "/openai/deployments/{}/completions",
            stand::AZURE_DEPLOYMENT
        )
    );
    assert_eq!(req.body["prompt"], "def add(a, b):");

    s.bedrock
        .push(BedrockAnswer::chunks(["    return", " a + b"]).with_usage(8, 4));
    let a = post(
        &s,
        "/v1/completions",
        Some(stand::KEY),
        &completion_body(stand::BEDROCK),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_text_completion(&a.body, stand::BEDROCK, "    return a + b", "stop");
    assert_eq!(a.body["usage"]["total_tokens"], 12);
    let req = &s.bedrock.requests()[0];
    assert_eq!(
        req.body["messages"],
        json!([{"role": "user", "content": [{"text": "def add(a, b):"}]}])
    );
}

#[tokio::test]
async fn a_suffix_makes_a_fill_in_the_middle_call() {
    let s = Stand::start().await;
    s.vllm.script(Reply::answer("a + b"));
    let body = json!({"model": stand::VLLM, "prompt": "def add(a, b):\n    return ", "suffix": "\n\nprint(add(1, 2))"});
    let a = post(&s, "/v1/completions", Some(stand::KEY), &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["choices"][0]["text"], "a + b");
    let req = s.vllm.last_request().unwrap();
    assert_eq!(req.body["prompt"], "def add(a, b):\n    return ");
    assert_eq!(req.body["suffix"], "\n\nprint(add(1, 2))");
}

#[tokio::test]
async fn calls_are_logged_and_measured_like_the_gitlab_routes() {
    let s = Stand::start().await;
    s.vllm.script(Reply::answer("x").usage(17, 2));
    let a = post(
        &s,
        "/v1/chat/completions",
        Some(stand::CI_KEY),
        &chat_body(stand::VLLM),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.headers.get("x-request-id").is_some());
    let text = s.metrics.render();
    assert!(text.contains("model_inferences_total"), "{text}");
    let input = text
        .lines()
        .find(|l| l.starts_with("inference_input_tokens") && !l.starts_with('#'))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        input.contains("openai_compatible") && input.ends_with(" 17"),
        "{input}"
    );
    assert!(!text.contains(stand::CI_KEY) && !text.contains(stand::VLLM_UPSTREAM_KEY));
}
