//! What reaches the model: `code_context` gated by the Language Server version, the
//! `prompt_enhancer` variables, `prompt_id` and `prompt_version`.

use crate::helpers::*;

fn with_context(mut body: Value) -> Value {
    let components = body["prompt_components"].as_array_mut().unwrap();
    components.push(json!({"type": "code_context",
        "payload": {"type": "file", "name": "lib/greeter.go", "content": "func Greet() string { return \"hi\" }"}}));
    components.push(
        json!({"type": "code_context", "metadata": {"source": "ls", "version": "7.20.0"},
        "payload": {"type": "snippet", "name": "util", "content": "const Answer = 42"}}),
    );
    body
}

#[tokio::test]
async fn code_context_reaches_the_prompt_only_from_language_servers_that_support_it() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = gw.url("/v3/code/completions");
    let body = with_context(completion(
        "codegemma",
        Some(&fake.url()),
        "custom_openai/cg",
    ));
    for (version, used) in [
        (None, false),
        (Some("7.17.0"), false),
        (Some("not a version"), false),
        (Some("7.17.1"), true),
        (Some("8.2.0"), true),
    ] {
        let mut rb = client().post(&url).json(&body);
        if let Some(v) = version {
            rb = rb.header("X-Gitlab-Language-Server-Version", v);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 200, "{version:?}");
        let asked = upstream_text(&fake.last_request().unwrap());
        assert!(asked.contains("func hello_world(){"), "{asked}");
        for needle in ["func Greet() string", "const Answer = 42"] {
            assert_eq!(asked.contains(needle), used, "{version:?}: {asked}");
        }
    }
}

#[tokio::test]
async fn generations_use_the_prompt_enhancer_and_the_context() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let mut body = with_context(generation("claude_3", Some(&fake.url()), "custom_openai/c"));
    let enhancer = &mut body["prompt_components"][0]["payload"]["prompt_enhancer"];
    enhancer["related_files"] = json!(["<file>pkg/abs.go</file>"]);
    enhancer["prefix"] = json!("IGNORED: the prefix comes from the payload");
    let res = client()
        .post(gw.url("/v3/code/completions"))
        .header("X-Gitlab-Language-Server-Version", "7.30.0")
        .json(&streaming(body, false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let req = fake.last_request().unwrap();
    let asked = upstream_text(&req);
    for needle in [
        "Libraries the project uses: bytes, context.",
        "<file>pkg/abs.go</file>",
        "// write a function to find min abs value from an array",
        "const Answer = 42",
        "package client",
    ] {
        assert!(asked.contains(needle), "{needle} not in {asked}");
    }
    assert!(!asked.contains("IGNORED"), "{asked}");
    assert_eq!(req.body["stop"], json!(["</new_code>"]));
}

#[tokio::test]
async fn prompt_id_and_prompt_version_pick_the_definition() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let url = gw.url("/v4/code/suggestions");
    let base = streaming(
        generation("claude_3", Some(&fake.url()), "custom_openai/c"),
        false,
    );
    let set = |key: &str, value: Value| {
        let mut b = base.clone();
        b["prompt_components"][0]["payload"][key] = value;
        b
    };

    // claude_3 uses `base`, which ships 1.0.0 and 2.0.1 (what GitLab asks for with ^2.0.1).
    let (status, _) = post_json(&url, &set("prompt_version", json!("^2.0.1"))).await;
    assert_eq!(status, 200);
    let (status, _) = post_json(&url, &set("prompt_version", Value::Null)).await;
    assert_eq!(status, 200, "absent means ^1.0.0");
    assert_eq!(fake.request_count(), 2);

    let (status, json) = post_json(&url, &set("prompt_version", json!("^9.0.0"))).await;
    assert_eq!(
        (status, json),
        (
            400,
            json!({"detail": "No prompt version found matching the query"})
        )
    );
    let (status, json) = post_json(&url, &set("prompt_version", json!("not semver"))).await;
    assert_eq!(
        (status, json),
        (422, json!({"detail": "Invalid version constraint"}))
    );
    let (status, json) = post_json(&url, &set("prompt_id", json!("no/such/prompt"))).await;
    assert_eq!(
        (status, json),
        (404, json!({"detail": "Prompt 'no/such/prompt' not found"}))
    );
    assert_eq!(fake.request_count(), 2, "failed lookups call no model");
}
