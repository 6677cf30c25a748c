//! Black-box tests of `/v1/prompts/{prompt_id}` and `/v2/prompts/{prompt_id}`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, config, prompt_body, start};

#[tokio::test]
async fn slash_command_streams_raw_text() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("It doubles x.").chunks(3));
    let gw = start(config()).await;
    let body = prompt_body(
        "mixtral",
        &fake.url(),
        "custom_openai/Mixtral-8x7B-Instruct-v0.1",
        true,
    );
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), "It doubles x.");
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["model"], "Mixtral-8x7B-Instruct-v0.1");
    let prompt = req.body["messages"].to_string();
    assert!(prompt.contains("def f(x): return x*2"), "{prompt}");
    assert!(prompt.contains("Explain this code"), "{prompt}");
}

#[tokio::test]
async fn v1_non_streaming_answers_a_json_string() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("Hello!"));
    let gw = start(config()).await;
    let body = json!({"stream": false, "inputs": {},
        "model_metadata": {"name": "mistral", "endpoint": fake.url(), "api_key": "token",
                           "provider": "openai", "identifier": "custom_openai/mistral"}});
    // Rails URL-encodes the slash of this prompt id.
    let res = client()
        .post(gw.url("/v1/prompts/model_configuration%2Fcheck"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!("Hello!"));
    let req = fake.last_request().unwrap();
    assert_eq!(req.body["max_tokens"], 16);
}

#[tokio::test]
async fn v2_answers_content_and_usage_keyed_by_family() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("Add greeting file").usage(30, 4));
    let gw = start(config()).await;
    let body = json!({"stream": false, "inputs": {"diff": "diff --git a/a.txt b/a.txt\n+hello\n"},
        "model_metadata": {"provider": "openai", "name": "mistral", "endpoint": fake.url(), "api_key": "",
                           "identifier": "custom_openai/mistral"}});
    let res = client()
        .post(gw.url("/v2/prompts/generate_commit_message"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"content": "Add greeting file", "usage": {"mistral": {"input_tokens": 30, "output_tokens": 4}}})
    );
    assert!(
        fake.last_request()
            .unwrap()
            .body
            .to_string()
            .contains("+hello")
    );
}

#[tokio::test]
async fn v2_streams_one_json_object_per_line() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("one two").chunks(2).usage(5, 2));
    let gw = start(config()).await;
    let body = prompt_body("mistral", &fake.url(), "custom_openai/mistral-7b", true);
    let res = client()
        .post(gw.url("/v2/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let streamed: String = lines[..2]
        .iter()
        .map(|l| l["content"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, "one two");
    assert!(
        lines[..2].iter().all(|l| l.as_object().unwrap().len() == 1),
        "{text}"
    );
    assert_eq!(
        lines[2],
        json!({"content": "", "usage": {"mistral-7b": {"input_tokens": 5, "output_tokens": 2}}})
    );
    assert!(text.ends_with('\n'));
}

#[tokio::test]
async fn prompt_errors_follow_the_catalogue() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let body = prompt_body("mistral", &fake.url(), "custom_openai/m", false);

    let res = client()
        .post(gw.url("/v1/prompts/chat/no_such_prompt"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Prompt 'chat/no_such_prompt' not found"})
    );

    let res = client()
        .post(gw.url("/v1/prompts/..%2F..%2Fetc%2Fpasswd"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let mut v = body.clone();
    v["prompt_version"] = json!("^99.0.0");
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "No prompt version found matching the query"})
    );

    v["prompt_version"] = json!("not a version");
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid version constraint"})
    );

    let mut v = body.clone();
    v["model_metadata"]["name"] = json!("granite");
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        422,
        "an unknown family is refused, not silently served by base"
    );

    let mut v = body.clone();
    v.as_object_mut().unwrap().remove("model_metadata");
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn upstream_http_errors_are_421_on_the_prompt_routes() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::status(401));
    let gw = start(config()).await;
    let body = prompt_body("mistral", &fake.url(), "custom_openai/m", false);
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 421);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "401: the fake upstream was scripted to answer 401"})
    );

    // The instance's connection test reads the status first, then the server's reason.
    fake.script(Reply::error(
        400,
        r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 7302 tokens.","type":"BadRequestError","code":400}"#,
    ));
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 421);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "400: This model's maximum context length is 4096 tokens. However, you requested 7302 tokens."})
    );
}

#[tokio::test]
async fn reasoning_of_a_qwen_model_is_stripped_on_the_prompt_routes_too() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("<think>The user wants x*2 explained.</think>It doubles x.").chunks(5),
    );
    fake.script(Reply::answer("<think>short</think>It doubles x."));
    let gw = start(config()).await;
    let streamed = prompt_body("qwen", &fake.url(), "custom_openai/Qwen3-8B", true);
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "It doubles x.");
    let whole = prompt_body("qwen", &fake.url(), "custom_openai/Qwen3-8B", false);
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&whole)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!("It doubles x."));
    // A family that does not reason aloud keeps the text as the model wrote it.
    fake.script(Reply::answer("<think>kept</think>ok"));
    let mistral = prompt_body("mistral", &fake.url(), "custom_openai/m", false);
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&mistral)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!("<think>kept</think>ok")
    );
}
