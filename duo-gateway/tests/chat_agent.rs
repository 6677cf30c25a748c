//! Black-box tests of `POST /v2/chat/agent` (Duo Chat's ReAct agent) over real HTTP, with the
//! fake vLLM / Azure / Bedrock upstreams and the fake OIDC issuer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::bedrock::{Answer, FakeBedrock};
use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, REALM};
use duo_testkit::openai::{FakeOpenAi, RecordedRequest, Reply};
use serde_json::{Value, json};
use support::{client, config, start};

/// Fixture F17 with an identifier, served at `endpoint` as `identifier`.
fn f17(family: &str, endpoint: &str, identifier: &str) -> Value {
    json!({
        "messages": [
            {"role": "user", "content": "chat history"},
            {"role": "assistant", "content": "chat history"},
            {"role": "user", "content": "What's the title of this issue?",
             "context": {"type": "issue", "content": "issue content"},
             "current_file": {"file_path": "main.py", "data": "def main()", "selected_code": true}},
            {"role": "assistant", "content": null,
             "agent_scratchpad": [{"action": {"thought": "thought", "tool": "tool", "tool_input": "tool_input"},
                                   "observation": "observation"}]}],
        "unavailable_resources": ["Mystery Resource 1", "Mystery Resource 2"],
        "model_metadata": {"name": family, "provider": "litellm", "endpoint": endpoint,
                           "api_key": "token", "identifier": identifier}
    })
}

async fn post(url: &str, body: &Value) -> reqwest::Response {
    client().post(url).json(body).send().await.unwrap()
}

/// The NDJSON lines of a response, checking the framing.
async fn ndjson(res: reqwest::Response) -> Vec<Value> {
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/x-ndjson; charset=utf-8"
    );
    let text = res.text().await.expect("the body ends cleanly");
    assert!(text.ends_with('\n'), "{text:?}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The concatenated text of the `final_answer_delta` lines.
fn answer(lines: &[Value]) -> String {
    lines
        .iter()
        .filter(|l| l["type"] == "final_answer_delta")
        .map(|l| l["data"]["text"].as_str().unwrap())
        .collect()
}

fn messages(req: &RecordedRequest) -> Vec<(String, String)> {
    req.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn f17_answers_an_action_and_sends_the_react_prompt() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("Thought: I should read the issue.\nAction: issue_reader\nAction Input: What's the title of this issue?")
            .chunks(9)
            .usage(120, 21),
    );
    let gw = start(config()).await;
    let res = post(
        &gw.url("/v2/chat/agent"),
        &f17("mistral", &fake.url(), "custom_openai/mistral-7b"),
    )
    .await;
    let lines = ndjson(res).await;
    assert_eq!(
        lines,
        vec![
            json!({"type": "action", "data": {"tool": "issue_reader",
                   "tool_input": "What's the title of this issue?", "thought": "I should read the issue."}}),
            json!({"type": "usage", "data": {"usage": {"mistral-7b": {"input_tokens": 120, "output_tokens": 21}}}}),
        ]
    );

    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["model"], "mistral-7b");
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["stop"], json!(["Observation:"]));
    assert_eq!(req.body["temperature"], 0.1);
    let turns = messages(&req);
    // History, then the question turn, then the scratchpad as the assistant's prefill.
    assert_eq!(turns[0], ("user".into(), "chat history".into()));
    assert_eq!(turns[1], ("assistant".into(), "chat history".into()));
    let (role, question) = &turns[2];
    assert_eq!(role, "user");
    assert!(
        question.contains("Question: What's the title of this issue?"),
        "{question}"
    );
    assert!(question.contains("issue content"), "{question}");
    assert!(question.contains("def main()"), "{question}");
    assert!(
        question.contains("Mystery Resource 1, Mystery Resource 2"),
        "{question}"
    );
    assert!(
        question.contains("- issue_reader:"),
        "tools are listed: {question}"
    );
    let (role, prefill) = turns.last().unwrap();
    assert_eq!(role, "assistant");
    assert_eq!(
        prefill.trim_end(),
        "Thought: thought\nAction: tool\nAction Input: tool_input\nObservation: observation"
    );
}

#[tokio::test]
async fn final_answers_stream_as_deltas_then_usage() {
    let fake = FakeOpenAi::start().await;
    let text = "Thought: I know it.\nFinal Answer: The title is **Hello world**, from issue #1.\n";
    fake.script(Reply::stream(text).chunks(12).usage(50, 12));
    let gw = start(config()).await;
    let lines = ndjson(
        post(
            &gw.url("/v2/chat/agent"),
            &f17("llama3", &fake.url(), "custom_openai/llama-3-8b"),
        )
        .await,
    )
    .await;
    let deltas: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "final_answer_delta")
        .collect();
    assert!(deltas.len() >= 3, "streamed in pieces: {lines:?}");
    assert_eq!(
        answer(&lines),
        "The title is **Hello world**, from issue #1."
    );
    assert_eq!(
        deltas.last().unwrap()["data"],
        json!({"text": "", "finish_reason": "stop"})
    );
    assert_eq!(
        lines.last().unwrap(),
        &json!({"type": "usage", "data": {"usage": {"llama-3-8b": {"input_tokens": 50, "output_tokens": 12}}}})
    );
    // llama3 uses the base definition: instructions in a system turn.
    let req = fake.last_request().unwrap();
    assert_eq!(messages(&req)[0].0, "system");
    assert_eq!(req.body["max_tokens"], 8192);
}

#[tokio::test]
async fn output_without_react_format_is_unknown() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("Hello! I am Duo Chat.").chunks(3));
    let gw = start(config()).await;
    let lines = ndjson(
        post(
            &gw.url("/v2/chat/agent"),
            &f17("mistral", &fake.url(), "custom_openai/m"),
        )
        .await,
    )
    .await;
    assert_eq!(
        lines[0],
        json!({"type": "unknown", "data": {"text": "Hello! I am Duo Chat."}})
    );
}

#[tokio::test]
async fn reasoning_blocks_are_stripped_for_qwen() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("<think>Maybe Final Answer: no. Let me check.</think>\nThought: ok\nFinal Answer: Yes, it is.")
            .chunks(17),
    );
    let gw = start(config()).await;
    let lines = ndjson(
        post(
            &gw.url("/v2/chat/agent"),
            &f17("qwen", &fake.url(), "custom_openai/Qwen3-8B"),
        )
        .await,
    )
    .await;
    assert_eq!(answer(&lines), "Yes, it is.");
}

#[tokio::test]
async fn f18_scratchpad_on_a_user_message_is_400() {
    let gw = start(config()).await;
    let res = post(
        &gw.url("/v2/chat/agent"),
        &json!({"messages": [{"role": "user", "content": "hi", "agent_scratchpad": []}]}),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "agent_scratchpad can only be present when role is ASSISTANT"})
    );
}

#[tokio::test]
async fn malformed_requests_are_422() {
    let gw = start(config()).await;
    for body in [
        json!({"messages": [{"role": "user", "content": "hi"}]}),
        json!({"messages": [{"role": "wizard", "content": "hi"}]}),
        json!({"messages": [{"role": "user", "content": "hi",
                              "additional_context": [{"category": "secrets", "content": "x"}]}],
               "model_metadata": {"name": "mistral", "endpoint": "http://127.0.0.1:1/v1"}}),
    ] {
        let res = post(&gw.url("/v2/chat/agent"), &body).await;
        assert_eq!(res.status(), 422, "{body}");
        let detail = res.json::<Value>().await.unwrap()["detail"].clone();
        assert!(detail.is_string(), "{detail}");
    }
}

fn authed(rb: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    rb.bearer_auth(token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", INSTANCE_ID)
        .header("X-Gitlab-Realm", REALM)
}

#[tokio::test]
async fn scopes_gate_the_chat_its_context_and_its_tools() {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::stream("Final Answer: ok"));
    let mut cfg = config();
    cfg.auth.bypass_external = false;
    cfg.gitlab_url = Some(oidc.url());
    let gw = start(cfg).await;
    let url = gw.url("/v2/chat/agent");
    let mut body = f17("mistral", &fake.url(), "custom_openai/m");
    body["messages"][2]["additional_context"] =
        json!([{"category": "file", "id": "lib.rs", "content": "fn x() {}"}]);

    let send = |scopes: &[&str]| {
        authed(client().post(&url), &oidc.token(scopes))
            .json(&body)
            .send()
    };
    let res = send(&["complete_code", "include_file_context"])
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access duo chat"})
    );
    let res = send(&["duo_classic_chat"]).await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access include_file_context"})
    );
    assert_eq!(fake.request_count(), 0, "refused before any model call");

    // duo_chat is accepted in place of duo_classic_chat; only the tools the token allows are offered.
    let res = send(&["duo_chat", "include_file_context", "ask_issue"])
        .await
        .unwrap();
    assert_eq!(answer(&ndjson(res).await), "ok");
    let prompt = fake.last_request().unwrap().body["messages"].to_string();
    assert!(prompt.contains("issue_reader"), "{prompt}");
    assert!(!prompt.contains("gitlab_documentation"), "{prompt}");
    assert!(!prompt.contains("merge_request_reader"), "{prompt}");
    assert!(prompt.contains("fn x() {}"), "{prompt}");
}

#[tokio::test]
async fn azure_deployments_stream_the_agent() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("Thought: t\nFinal Answer: From Azure.").chunks(4));
    let gw = start(config()).await;
    let lines = ndjson(
        post(
            &gw.url("/v2/chat/agent"),
            &f17("gpt", &fake.azure_url(), "azure/gpt-4o-chat"),
        )
        .await,
    )
    .await;
    assert_eq!(answer(&lines), "From Azure.");
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/openai/deployments/gpt-4o-chat/chat/completions");
    assert_eq!(req.header("api-key"), Some("token"));
    assert_eq!(req.body["stop"], json!(["Observation:"]));
}

#[tokio::test]
async fn bedrock_models_stream_the_agent() {
    let bedrock = FakeBedrock::start().await;
    bedrock.push(
        Answer::chunks([
            "Thought: I need",
            " the MR.\nAction: merge_request",
            "_reader\nAction Input: !7",
        ])
        .with_usage(300, 17),
    );
    let mut cfg = config();
    cfg.providers.bedrock.endpoint_url = Some(bedrock.url());
    cfg.providers.bedrock.region = Some("us-east-1".into());
    cfg.providers.bedrock.access_key_id = Some("AKIDTESTCHAT".into());
    cfg.providers.bedrock.secret_access_key = Some(duo_core::Secret::new("chat-test-secret"));
    let gw = start(cfg).await;
    let mut body = f17(
        "claude_3",
        "",
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    );
    body["model_metadata"]
        .as_object_mut()
        .unwrap()
        .remove("endpoint");
    let lines = ndjson(post(&gw.url("/v2/chat/agent"), &body).await).await;
    assert_eq!(
        lines,
        vec![
            json!({"type": "action", "data": {"tool": "merge_request_reader", "tool_input": "!7", "thought": "I need the MR."}}),
            json!({"type": "usage", "data": {"usage": {"anthropic.claude-3-5-sonnet-20240620-v1:0":
                   {"input_tokens": 300, "output_tokens": 17}}}}),
        ]
    );
    let req = &bedrock.requests()[0];
    assert_eq!(req.model_id, "anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert_eq!(
        req.body["inferenceConfig"]["stopSequences"],
        json!(["Observation:"])
    );
    assert!(
        req.body
            .to_string()
            .contains("What's the title of this issue?")
    );
}

#[tokio::test]
async fn a_failure_mid_stream_is_an_error_line() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("Thought: t\nFinal Answer: a long answer that breaks")
            .chunks(6)
            .cut_after(3),
    );
    let gw = start(config()).await;
    let lines = ndjson(
        post(
            &gw.url("/v2/chat/agent"),
            &f17("mistral", &fake.url(), "custom_openai/m"),
        )
        .await,
    )
    .await;
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "error", "{lines:?}");
    assert_eq!(last["data"]["retryable"], true);
    assert!(last["data"]["message"].is_string());
    assert!(
        !last["data"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "no upstream details leak: {last}"
    );
    assert!(lines.iter().all(|l| l["type"] != "usage"));
}

#[tokio::test]
async fn an_upstream_429_before_the_stream_is_a_429() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::status(429).retry_after("7"));
    let gw = start(config()).await;
    let res = post(
        &gw.url("/v2/chat/agent"),
        &f17("mistral", &fake.url(), "custom_openai/m"),
    )
    .await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Too many requests. Please try again later."})
    );
}
