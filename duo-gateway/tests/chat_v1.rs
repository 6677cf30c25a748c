//! Black-box tests of the deprecated `POST /v1/chat/{chat_invokable}` (fixtures F15, F16).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, REALM};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, config, start};

/// Fixture F15 with the model endpoint at `endpoint`.
fn f15(endpoint: &str) -> Value {
    json!({
        "prompt_components": [{"type": "string", "metadata": {"source": "string", "version": "string"},
            "payload": {"content": "Hello", "provider": "litellm", "model": "mistral",
                        "model_endpoint": endpoint}}],
        "stream": false
    })
}

/// Fixture F16 with the model endpoint at `endpoint`.
fn f16(endpoint: &str) -> Value {
    json!({
        "prompt_components": [{"type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.9.0"},
            "payload": {"content": [{"role": "user", "content": "Hello"}], "provider": "litellm",
                        "model": "mixtral", "model_endpoint": endpoint, "model_api_key": "token",
                        "model_identifier": "custom_openai/Mixtral-8x7B-Instruct-v0.1",
                        "params": {"temperature": 0.1, "stop_sequences": ["\n\nHuman", "Observation:"],
                                   "max_tokens_to_sample": 4096}}}],
        "stream": true
    })
}

async fn post(url: &str, body: &Value) -> reqwest::Response {
    client().post(url).json(body).send().await.unwrap()
}

#[tokio::test]
async fn f15_answers_response_and_metadata_with_the_reference_defaults() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("Hello! How can I help?"));
    let gw = start(config()).await;
    let res = post(&gw.url("/v1/chat/agent"), &f15(&fake.url())).await;
    assert_eq!(res.status(), 200);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["response"], "Hello! How can I help?");
    assert_eq!(json["metadata"]["provider"], "litellm");
    assert_eq!(json["metadata"]["model"], "mistral");
    assert!(json["metadata"]["timestamp"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(json.as_object().unwrap().len(), 2);

    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["model"], "mistral");
    assert_eq!(
        req.body["messages"],
        json!([{"role": "user", "content": "Hello"}])
    );
    assert_eq!(req.body["temperature"], 0.2);
    assert_eq!(req.body["top_p"], 0.95);
    assert_eq!(req.body["max_tokens"], 2048);
    assert_eq!(req.body["stop"], json!(["</new_code>"]));
}

#[tokio::test]
async fn f16_streams_raw_text_with_the_callers_params() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("Hi there, how can I help?").chunks(4));
    let gw = start(config()).await;
    let res = post(&gw.url("/v1/chat/agent"), &f16(&fake.url())).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), "Hi there, how can I help?");
    let req = fake.last_request().unwrap();
    assert_eq!(req.body["model"], "Mixtral-8x7B-Instruct-v0.1");
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["temperature"], 0.1);
    assert_eq!(req.body["max_tokens"], 4096);
    assert_eq!(req.body["stop"], json!(["\n\nHuman", "Observation:"]));
    assert_eq!(req.header("authorization"), Some("Bearer token"));
}

#[tokio::test]
async fn codegemma_gets_its_fim_stop_tokens() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = f15(&fake.url());
    body["prompt_components"][0]["payload"]["model"] = json!("codegemma");
    assert_eq!(
        post(&gw.url("/v1/chat/explain_code"), &body).await.status(),
        200
    );
    let req = fake.last_request().unwrap();
    assert_eq!(
        req.body["stop"],
        json!([
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|file_separator|>"
        ])
    );
}

#[tokio::test]
async fn unknown_invokables_are_404() {
    let gw = start(config()).await;
    let res = post(&gw.url("/v1/chat/fix_code"), &f15("http://127.0.0.1:1/v1")).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Not found"})
    );
}

#[tokio::test]
async fn only_self_hosted_litellm_requests_are_served() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = gw.url("/v1/chat/agent");
    let payload = |edit: &dyn Fn(&mut Value)| {
        let mut body = f15(&fake.url());
        edit(&mut body["prompt_components"][0]["payload"]);
        body
    };
    let cases = [
        payload(&|p| p["provider"] = json!("anthropic")),
        payload(&|p| {
            p.as_object_mut().unwrap().remove("provider");
        }),
        payload(&|p| p["model"] = json!("claude-2.1")),
        payload(&|p| p["params"] = json!({"temperature": 1.5})),
        payload(&|p| p["params"] = json!({"stop_sequences": []})),
        payload(&|p| p["content"] = json!([])),
        json!({"prompt_components": [], "stream": false}),
        json!({"prompt_components": [f15(&fake.url())["prompt_components"][0], f15(&fake.url())["prompt_components"][0]]}),
    ];
    for body in cases {
        let res = post(&url, &body).await;
        assert_eq!(res.status(), 422, "{body}");
        assert!(res.json::<Value>().await.unwrap()["detail"].is_string());
    }
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn upstream_rate_limits_are_429() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::status(429).retry_after("3"));
    let gw = start(config()).await;
    let res = post(&gw.url("/v1/chat/agent"), &f15(&fake.url())).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "3");
}

#[tokio::test]
async fn each_invokable_needs_its_unit_primitive() {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    let mut cfg = config();
    cfg.auth.bypass_external = false;
    cfg.gitlab_url = Some(oidc.url());
    let gw = start(cfg).await;
    let body = f15(&fake.url());
    for (invokable, primitive) in [
        ("explain_code", "duo_chat"),
        ("write_tests", "duo_chat"),
        ("refactor_code", "duo_chat"),
        ("explain_vulnerability", "explain_vulnerability"),
        ("summarize_comments", "summarize_comments"),
        ("troubleshoot_job", "troubleshoot_job"),
        ("agent", "duo_chat"),
    ] {
        let send = |scopes: &[&str]| {
            client()
                .post(gw.url(&format!("/v1/chat/{invokable}")))
                .bearer_auth(oidc.token(scopes))
                .header("X-Gitlab-Authentication-Type", "oidc")
                .header("X-Gitlab-Instance-Id", INSTANCE_ID)
                .header("X-Gitlab-Realm", REALM)
                .json(&body)
                .send()
        };
        let res = send(&["complete_code", "duo_classic_chat"]).await.unwrap();
        assert_eq!(res.status(), 403, "{invokable}");
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"detail": format!("Unauthorized to access {primitive}")}),
            "{invokable}"
        );
        let res = send(&[primitive]).await.unwrap();
        assert_eq!(res.status(), 200, "{invokable}");
    }
    assert_eq!(
        fake.request_count(),
        7,
        "only the allowed calls reached the model"
    );
}
