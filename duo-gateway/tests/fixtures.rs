//! The reference's black-box request fixtures (`contract/reference.md` §8) for the issue-6 routes,
//! replayed verbatim except that model endpoints point at the fake upstream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, REALM};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, config, start};

/// Replaces the fixture's endpoint URLs with the fake's.
fn at(mut body: Value, url: &str) -> Value {
    for key in ["model_endpoint"] {
        if body.get(key).is_some() {
            body[key] = json!(url);
        }
    }
    if let Some(meta) = body.get_mut("model_metadata") {
        meta["endpoint"] = json!(url);
    }
    body
}

async fn post(url: String, body: &Value) -> (u16, String) {
    let res = client().post(url).json(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn f1_to_f7_code_suggestions() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = fake.url();

    // F1: v2 completion, Codestral on vLLM.
    let f1 = json!({"prompt_version": 2, "project_path": "gitlab-org/gitlab", "project_id": 278964,
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ", "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "codestral",
        "model_endpoint": "http://vllm:8000/v1", "model_api_key": "api-key",
        "model_identifier": "custom_openai/Codestral-22B-v0.1", "prompt": null, "telemetry": [], "stream": false});
    let (status, body) = post(gw.url("/v2/code/completions"), &at(f1, &url)).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["model"]["name"], "codestral");
    assert!(v["choices"].as_array().unwrap().len() <= 1);
    assert_eq!(
        fake.last_request().unwrap().body["model"],
        "Codestral-22B-v0.1"
    );

    // F2 as written: an identifier prefix no router knows is a clear 422, not a 500.
    let f2 = json!({"prompt_version": 2, "current_file": {"file_name": "main.py", "content_above_cursor": "foo", "content_below_cursor": "\n"},
        "prompt": "foo", "context": [], "model_provider": "litellm", "model_name": "codegemma",
        "model_endpoint": "http://localhost:4000/", "model_api_key": "api-key", "model_identifier": "provider/codegemma_2b"});
    let (status, body) = post(gw.url("/v2/code/completions"), &at(f2.clone(), &url)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("unsupported provider 'provider'"), "{body}");
    // F2 with a known prefix: the client's FIM string goes upstream as written.
    let mut f2ok = at(f2, &url);
    f2ok["model_identifier"] = json!("custom_openai/codegemma_2b");
    let (status, _) = post(gw.url("/v2/code/completions"), &f2ok).await;
    assert_eq!(status, 200);
    let req = fake.last_request().unwrap();
    assert_eq!(req.body["prompt"], "foo");
    assert_eq!(req.body["model"], "codegemma_2b");

    // F3: extra context, streaming, no API key.
    fake.script(Reply::stream("puts Greeter.new.greet").chunks(3));
    let f3 = json!({"prompt_version": 2, "stream": true,
        "current_file": {"file_name": "app.rb", "language_identifier": "ruby", "content_above_cursor": "def hello\n  ", "content_below_cursor": "\nend\n"},
        "context": [{"type": "file", "name": "lib/greeter.rb", "content": "class Greeter\n  def greet; 'hi'; end\nend\n"}],
        "model_provider": "litellm", "model_name": "mistral",
        "model_endpoint": "http://vllm:8000/v1", "model_identifier": "custom_openai/mistral-7b-instruct"});
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&at(f3, &url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(res.text().await.unwrap(), "puts Greeter.new.greet");
    let req = fake.last_request().unwrap();
    assert_eq!(req.header("authorization"), Some("Bearer dummy_key"));
    let sent = req.body.to_string();
    let (ctx, prefix) = (
        sent.find("class Greeter").unwrap(),
        sent.find("def hello").unwrap(),
    );
    assert!(ctx < prefix, "context goes before the prefix: {sent}");

    // F4: in 17.x a family the provider did not accept; `general` is served now (base
    // prompts), but F4 names no endpoint for its custom_openai model: still a clear 422.
    let f4 = json!({"prompt_version": 2, "current_file": {"file_name": "a.py", "content_above_cursor": "x", "content_below_cursor": ""},
        "model_provider": "litellm", "model_name": "general"});
    let (status, _) = post(gw.url("/v2/code/completions"), &f4).await;
    assert_eq!(status, 422);

    // F6: generation through the prompt registry.
    let f6 = json!({"project_path": "string", "project_id": 0,
        "current_file": {"file_name": "test.py", "language_identifier": "python", "content_above_cursor": "def hello():\n  ", "content_below_cursor": ""},
        "model_provider": "litellm", "model_endpoint": "http://localhost:4000/v1", "model_api_key": "key",
        "model_identifier": "custom_openai/Mixtral-8x7B-Instruct-v0.1", "model_name": "mistral",
        "telemetry": [], "stream": false, "choices_count": 0, "context": [],
        "prompt_id": "code_suggestions/generations", "prompt_version": 2, "prompt": ""});
    let (status, body) = post(gw.url("/v2/code/generations"), &at(f6, &url)).await;
    assert_eq!(status, 200, "{body}");

    // F7: generation without prompt_id; as written it has no endpoint: a clear 422.
    let f7 = json!({"prompt_version": 1, "project_path": "gitlab-org/gitlab", "project_id": 278964,
        "current_file": {"file_name": "main.py", "content_above_cursor": "foo", "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "mistral"});
    let (status, body) = post(gw.url("/v2/code/generations"), &f7).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("a model endpoint is required"), "{body}");
    let mut f7 = f7;
    f7["model_endpoint"] = json!(url);
    let (status, _) = post(gw.url("/v2/code/generations"), &f7).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn f5_ssrf_guard_with_custom_models_disabled() {
    let mut cfg = config();
    cfg.custom_models.enabled = false;
    let gw = start(cfg).await;
    let f5 = json!({"prompt_version": 1, "model_provider": "litellm", "model_name": "codestral",
        "model_endpoint": "http://internal-server.local/ssrf", "model_identifier": "anthropic/codestral",
        "current_file": {"file_name": "t.py", "content_above_cursor": "x", "content_below_cursor": ""}});
    let (status, body) = post(gw.url("/v2/code/completions"), &f5).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("specifying custom models endpoint is disabled"),
        "{body}"
    );
}

#[tokio::test]
async fn f8_and_f21_auth() {
    let oidc = FakeOidc::start().await;
    let mut cfg = config();
    cfg.auth.bypass_external = false;
    cfg.gitlab_url = Some(oidc.url());
    let gw = start(cfg).await;
    let headers = |rb: reqwest::RequestBuilder, token: &str| {
        rb.bearer_auth(token)
            .header("X-Gitlab-Authentication-Type", "oidc")
            .header("X-Gitlab-Instance-Id", INSTANCE_ID)
            .header("X-Gitlab-Realm", REALM)
            .header("X-Gitlab-Global-User-Id", "1234")
    };
    // F8: generation without generate_code.
    let token = oidc.token(&["complete_code"]);
    let res = headers(client().post(gw.url("/v2/code/generations")), &token)
        .json(&json!({"prompt_version": 1, "current_file": {"file_name": "main.py", "content_above_cursor": "foo", "content_below_cursor": "\n"},
                      "model_provider": "litellm", "model_name": "mistral"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access code generations"})
    );

    // F21.
    let url = gw.url("/v2/code/completions");
    let res = client().post(&url).send().await.unwrap();
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()),
        (401, json!({"error": "No authorization header presented"}))
    );
    let res = client()
        .post(&url)
        .header("Authorization", "invalid")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()),
        (401, json!({"error": "Invalid authorization header"}))
    );
    let res = client()
        .post(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()),
        (
            401,
            json!({"error": "Invalid authentication token type - only OIDC is supported"})
        )
    );
    let res = client()
        .post(&url)
        .bearer_auth(&token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", INSTANCE_ID)
        .header("X-Gitlab-Realm", "saas")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()),
        (401, json!({"error": "Header mismatch 'X-Gitlab-Realm'"}))
    );
    let res = client()
        .get(gw.url("/monitoring/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn f11_to_f14_prompts() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = fake.url();

    // F11.
    let f11 = json!({"stream": true,
        "inputs": {"input": "Explain this code", "selected_text": "def f(x): return x*2", "file_content": "", "language_info": "The code is written in Python."},
        "model_metadata": {"provider": "openai", "name": "mixtral", "endpoint": "http://vllm:8000/v1", "api_key": "token",
                           "identifier": "custom_openai/Mixtral-8x7B-Instruct-v0.1"}});
    let res = client()
        .post(gw.url("/v1/prompts/chat/explain_code"))
        .json(&at(f11, &url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(res.text().await.unwrap(), "hello world");

    // F12.
    let f12 = json!({"stream": false, "inputs": {},
        "model_metadata": {"name": "mistral", "endpoint": "http://vllm:8000/v1", "api_key": "token",
                           "provider": "openai", "identifier": "custom_openai/mistral"}});
    let (status, body) = post(
        gw.url("/v1/prompts/model_configuration%2Fcheck"),
        &at(f12, &url),
    )
    .await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!("hello world"))
    );

    // F13.
    let f13 = json!({"inputs": {"input": "x"}, "prompt_version": "^99.0.0",
        "model_metadata": {"provider": "litellm", "name": "mistral", "endpoint": "http://localhost:4000", "api_key": "token"}});
    let (status, body) = post(
        gw.url("/v1/prompts/chat/explain_code"),
        &at(f13.clone(), &url),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"detail":"No prompt version found matching the query"}"#
        )
    );
    let (status, body) = post(gw.url("/v1/prompts/chat/unknown_thing"), &at(f13, &url)).await;
    assert_eq!(
        (status, body.as_str()),
        (404, r#"{"detail":"Prompt 'chat/unknown_thing' not found"}"#)
    );

    // F14.
    fake.script(Reply::answer("Add hello").usage(21, 2));
    let f14 = json!({"stream": false, "inputs": {"diff": "diff --git a/a.txt b/a.txt\n+hello\n"},
        "model_metadata": {"provider": "openai", "name": "mistral", "endpoint": "http://vllm:8000/v1", "api_key": "", "identifier": "custom_openai/mistral"}});
    let (status, body) = post(
        gw.url("/v2/prompts/generate_commit_message"),
        &at(f14, &url),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"content": "Add hello", "usage": {"mistral": {"input_tokens": 21, "output_tokens": 2}}})
    );
}
